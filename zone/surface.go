package zone

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rendercache/rendercache/cache"
	"github.com/rendercache/rendercache/edge"
	"github.com/rendercache/rendercache/internal/bounded"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/record"
	"github.com/rendercache/rendercache/origin"
)

// SurfaceConfig wires the asset surface of one node.
type SurfaceConfig struct {
	// State is the node's local state (zones and their versions).
	State record.Reader
	// Applied returns State's applied raft index: what the serve path
	// read stays valid until it moves. Nil: state is read on every
	// request.
	Applied func() uint64
	// CDNDomain is the suffix zones are served under.
	CDNDomain string
	// Fresh waits until local state holds every acknowledged write
	// (consensus.Raft.Fresh): a key's owner calls it when it does not
	// know a zone that the asking node knew. Nil: never.
	Fresh func(ctx context.Context) error
	// Ring, Client and Bytes make the node's "asset" group.
	Ring   *cache.Ring
	Client *http.Client
	Bytes  int64
	// MaxObject is the largest asset that is cached; larger ones stream
	// through uncached. Default 16 MiB.
	MaxObject int64
	// Policy decides which addresses origin fetches may dial.
	Policy origin.Policy
	// Meter counts requests and bytes per account; nil: not counted.
	Meter *Meter
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of freshness; default time.Now.
	Now func() time.Time
}

var (
	// ErrOrigin is the fill error of an origin that could not be reached
	// or answered 5xx: never cached, and a stale copy is served instead
	// when the node has one.
	ErrOrigin = errkind.New(errkind.Unavailable, "the zone's origin could not be reached")
	// errPass is the fill error of an object that is not cached
	// (no-store, private, too large): the request streams from the
	// origin.
	errPass = errkind.New(errkind.Unavailable, "zone: pass")
	// errBadKey refuses a group key that this surface did not make.
	errBadKey = errkind.New(errkind.Invalid, "zone: malformed asset key")
)

// staleError serves a stale copy where a fill failed or a soft purge
// is revalidating: Pass writes the copy without keeping it hot.
type staleError struct{ a *edge.Answer }

func (staleError) Error() string { return "zone: stale copy" }

// Surface serves zones' assets at <name>.<CDNDomain>: an edge.Surface.
// Misses fill through the cluster's "asset" group, so concurrent misses
// of one object make one origin fetch in the whole cluster. It is safe
// for concurrent use.
type Surface struct {
	cfg    SurfaceConfig
	log    *slog.Logger
	group  *cache.Group
	fetch  *http.Client
	proxy  *httputil.ReverseProxy
	suffix string
	view   *view

	entries *bounded.Map[*entry] // object base key → what this node knows of it

	mu      sync.Mutex
	revalid map[string]bool // base keys being revalidated after a soft purge
}

// maxEntries bounds what a node remembers of objects; past it the map
// starts over (objects are then found in the cache again).
const maxEntries = 100_000

// entry is what one node knows of an object it served: the group key it
// was filled under and until when that holds, what the object recorded
// at fill time (tag versions, soft version), and the answer, kept for
// stale-if-error and soft purges.
type entry struct {
	key     string
	expires time.Time
	ttl     time.Duration
	env     envelope
	answer  *edge.Answer
}

var (
	_ edge.Surface = (*Surface)(nil)
	_ edge.Site    = (*site)(nil)
)

// NewSurface returns the asset surface and its "asset" group (the caller
// serves it to peers with cache.Handler).
func NewSurface(cfg SurfaceConfig) *Surface {
	if cfg.MaxObject <= 0 {
		cfg.MaxObject = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Surface{cfg: cfg, log: cfg.Logger.With("subsystem", "zone-surface"), suffix: "." + cfg.CDNDomain,
		entries: bounded.New[*entry](maxEntries), revalid: map[string]bool{}, view: newView(cfg.State, cfg.Applied)}
	tr := cfg.Policy.Transport(30 * time.Second)
	s.fetch = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.proxy = &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			z := pr.In.Context().Value(zoneKey{}).(Zone)
			target, _ := url.Parse(z.Origin)
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Info("origin request failed", "host", r.Host, "path", r.URL.Path, "err", err)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte(`{"error":"the zone's origin could not be reached"}` + "\n"))
		},
	}
	s.group = cache.New(cache.Config{Name: "asset", Bytes: cfg.Bytes, Fill: s.fill, FillTimeout: 2 * time.Minute, Ring: cfg.Ring, Client: cfg.Client})
	return s
}

// zoneKey carries the zone to the pass-through proxy's Rewrite.
type zoneKey struct{}

// Group returns the surface's "asset" group, for the peer handler.
func (s *Surface) Group() *cache.Group { return s.group }

// Close stops the group.
func (s *Surface) Close() { s.group.Close() }

// Name implements edge.Surface.
func (*Surface) Name() string { return "zone" }

// Claims implements edge.Surface: every host under the CDN domain is a
// zone's or none.
func (s *Surface) Claims(host string) bool { return strings.HasSuffix(host, s.suffix) }

// Site implements edge.Surface: the active zone that host names, from
// local state.
func (s *Surface) Site(host string) (edge.Site, bool) {
	name, ok := strings.CutSuffix(host, s.suffix)
	if !ok || name == "" || strings.Contains(name, ".") {
		return nil, false
	}
	st, ok := s.view.site(s, name)
	if !ok {
		return nil, false
	}
	return st, true
}

// site is one zone's share of the surface.
type site struct {
	s *Surface
	z Zone
}

// object is what a request asks of a zone: its path (CleanPath's form),
// its path and query, and the versions that apply to it.
type object struct {
	path, pq string
	v        Versions
}

// appendBase appends o's base key (zone, hard versions, path and query),
// under which a node remembers the object, to b.
func (st *site) appendBase(b []byte, o object) []byte {
	b = append(b, "asset/"...)
	b = append(b, st.z.ID...)
	b = append(b, '/')
	b = append(b, o.v.Key...)
	return append(b, o.pq...)
}

// base is o's base key as a string.
func (st *site) base(o object) string { return string(st.appendBase(nil, o)) }

func (st *site) objectOf(r *http.Request) (object, error) {
	p, err := origin.CleanPath(r.URL.EscapedPath())
	if err != nil {
		return object{}, err
	}
	pq := p
	if r.URL.RawQuery != "" {
		pq += "?" + r.URL.Query().Encode()
	}
	if len(pq) > MaxPurgeValueLen*2 {
		return object{}, errBadKey
	}
	return object{path: p, pq: pq, v: st.s.view.versions(st.z, p)}, nil
}

// Key implements edge.Site. GET and HEAD are cached under the object's
// group key: the one it was filled under while that is fresh and no tag
// or soft purge moved since, else a new one (the TTL's generation, the
// object's tags' hard versions, the soft versions), so that the next
// request is a miss on every node. The group key is
// asset/<zone>/<hard versions>/<ttl>.<generation>.<tags>.<soft><path>.
func (st *site) Key(buf []byte, r *http.Request) ([]byte, bool, error) {
	st.meter(func(m *Meter) { m.Request(st.z) })
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return buf, false, nil
	}
	o, err := st.objectOf(r)
	if err != nil {
		return buf, false, err
	}
	now := st.s.cfg.Now()
	// The base key goes in buf's spare room, which the key then
	// overwrites: no allocation once buf has grown.
	e := st.s.entryBytes(st.appendBase(buf[len(buf):], o))
	if e != nil && now.Before(e.expires) && st.tagsCurrent(e) && st.softCurrent(e, o.v) {
		if e.env.Pass {
			return buf, false, nil
		}
		// Most likely a hit in the hot map, which edge serves without
		// asking the surface again: counted here.
		st.meter(func(m *Meter) { m.Bytes(st.z, int64(len(e.answer.Body()))); m.Hit(st.z) })
		return append(buf, e.key...), true, nil
	}
	ttl := DefaultTTL(TypeFor(o.path, ""))
	var tags, soft uint64 = 0, o.v.Soft
	if e != nil {
		ttl = e.ttl
		for _, t := range e.env.Tags {
			h, s := st.s.view.tag(st.z.ID, t)
			tags, soft = tags+h, soft+s
		}
	}
	sec := max(int64(ttl/time.Second), 1)
	buf = append(buf, "asset/"...)
	buf = append(buf, st.z.ID...)
	buf = append(buf, '/')
	buf = append(buf, o.v.Key...)
	buf = append(buf, '/')
	buf = strconv.AppendInt(buf, sec, 10)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, now.Unix()/sec, 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, tags, 10)
	buf = append(buf, '.')
	buf = strconv.AppendUint(buf, soft, 10)
	buf = append(buf, o.pq...)
	return buf, true, nil
}

// tagsCurrent reports whether no hard tag purge moved since e was filled.
func (st *site) tagsCurrent(e *entry) bool {
	for i, t := range e.env.Tags {
		if h, _ := st.s.view.tag(st.z.ID, t); h != e.env.TagHard[i] {
			return false
		}
	}
	return true
}

// softCurrent reports whether no soft purge (of the zone, the path, a
// prefix or a tag of e) moved since e was filled; v are the versions that
// apply now.
func (st *site) softCurrent(e *entry, v Versions) bool {
	if v.Soft != e.env.PathSoft {
		return false
	}
	for i, t := range e.env.Tags {
		if _, s := st.s.view.tag(st.z.ID, t); s != e.env.TagSoft[i] {
			return false
		}
	}
	return true
}

// meter runs f with the surface's meter, if any. Usage is counted per
// request on the node that served it: the request in Key, its body bytes
// (the identity length, whatever coding or range was sent) and whether
// the cache answered it where that is known.
func (st *site) meter(f func(m *Meter)) {
	if m := st.s.cfg.Meter; m != nil {
		f(m)
	}
}

// Fill implements edge.Site: the object from the cluster's asset group.
// A node that holds a copy soft-purged since serves it while one fetch,
// in the background, revalidates it.
func (st *site) Fill(ctx context.Context, r *http.Request, key string) (*edge.Answer, edge.Outcome, error) {
	o, err := st.objectOf(r)
	if err != nil {
		return nil, edge.Miss, err
	}
	base := st.base(o)
	prev := st.s.entry(base)
	if prev != nil && prev.answer != nil && st.tagsCurrent(prev) && !st.softCurrent(prev, o.v) {
		st.s.revalidate(base, key)
		return nil, edge.Hit, staleError{prev.answer}
	}
	a, e, outcome, err := st.s.get(ctx, key)
	// A node that did not know the object's tags asked under their old
	// versions: an object filled before a tag purge (or before a soft
	// one, when this node has no copy to serve meanwhile) is asked for
	// again under the versions that apply now.
	for try := 0; err == nil && try < 3 && !(st.tagsCurrent(e) && st.softCurrent(e, o.v)); try++ {
		key = st.rekey(key, e, o.v)
		a, e, outcome, err = st.s.get(ctx, key)
	}
	if err != nil {
		if errors.Is(err, errPass) {
			st.s.remember(base, &entry{key: key, expires: st.s.cfg.Now().Add(TTLPass), ttl: TTLPass, env: envelope{Pass: true, PathSoft: o.v.Soft}})
			return nil, edge.Miss, errPass
		}
		// stale-if-error: whatever failed (the origin, the owner), a copy
		// this node served is better than an error, unless a hard tag
		// purge removed it (a path purge changes the base key already).
		if prev != nil && prev.answer != nil && st.tagsCurrent(prev) {
			return nil, edge.Miss, staleError{prev.answer}
		}
		return nil, edge.Miss, err
	}
	// Key counted the request's bytes and hit already when it reused the
	// key this node remembered (the hot map had evicted the answer).
	counted := prev != nil && prev.key == key
	st.s.remember(base, e)
	if !counted {
		st.meter(func(m *Meter) {
			m.Bytes(st.z, int64(len(a.Body())))
			if outcome == edge.Hit {
				m.Hit(st.z)
			}
		})
	}
	return a, outcome, nil
}

// rekey returns key with the hard and soft versions that apply now to
// the object e describes: its tags' and its path's.
func (st *site) rekey(key string, e *entry, v Versions) string {
	parts := strings.SplitN(key, "/", 5)
	if len(parts) != 5 {
		return key
	}
	var tags, soft uint64 = 0, v.Soft
	for _, t := range e.env.Tags {
		h, s := st.s.view.tag(st.z.ID, t)
		tags, soft = tags+h, soft+s
	}
	f := strings.SplitN(parts[3], ".", 4)
	if len(f) != 4 {
		return key
	}
	parts[3] = f[0] + "." + f[1] + "." + strconv.FormatUint(tags, 10) + "." + strconv.FormatUint(soft, 10)
	return strings.Join(parts, "/")
}

// Pass implements edge.Site: a stale copy where the fill failed, the
// origin's answer streamed uncached for what is not cached (other
// methods, no-store, too large), or the error.
func (st *site) Pass(w http.ResponseWriter, r *http.Request, err error) error {
	var se staleError
	switch {
	case errors.As(err, &se):
		edge.Serve(w, r, se.a, edge.Hit, st.s.cfg.Now())
		st.meter(func(m *Meter) { m.Bytes(st.z, int64(len(se.a.Body()))); m.Hit(st.z) })
		return nil
	case err != nil && !errors.Is(err, errPass):
		return err
	}
	cw := &countingWriter{ResponseWriter: w}
	w.Header().Set("Cache-Status", "rendercache; fwd=bypass")
	st.s.proxy.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), zoneKey{}, st.z)))
	st.meter(func(m *Meter) { m.Bytes(st.z, cw.n) })
	return nil
}

// countingWriter counts body bytes written, for usage.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// entry is what this node knows of the object of base key base, or nil.
func (s *Surface) entry(base string) *entry {
	e, _ := s.entries.Get(base)
	return e
}

// entryBytes is entry of a base key in bytes, without copying it.
func (s *Surface) entryBytes(base []byte) *entry {
	e, _ := s.entries.GetBytes(base)
	return e
}

// remember records what this node knows of the object of base key base.
func (s *Surface) remember(base string, e *entry) { s.entries.Put(base, e) }

// revalidate fetches key in the background, once per object at a time:
// the fill on the key's owner revalidates with If-None-Match when the
// owner holds a copy. The result becomes the node's entry.
func (s *Surface) revalidate(base, key string) {
	s.mu.Lock()
	if s.revalid[base] {
		s.mu.Unlock()
		return
	}
	s.revalid[base] = true
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.revalid, base)
			s.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, e, _, err := s.get(ctx, key)
		if err != nil {
			s.log.Debug("soft purge revalidation failed", "key", key, "err", err)
			return
		}
		s.remember(base, e)
	}()
}
