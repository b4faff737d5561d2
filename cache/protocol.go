package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang/groupcache"
	pb "github.com/golang/groupcache/groupcachepb"

	"github.com/rendercache/rendercache/internal/errkind"
)

// PathPrefix is where Handler is mounted on the internal listener.
const PathPrefix = "/internal/v1/cache/"

// hintHeader carries a Hint to the owner.
const hintHeader = "X-Rendercache-Hint"

// maxValue bounds a value read from a peer.
const maxValue = 64 << 20

// statusFillFailed marks a response whose body is the owner's fill error
// (as opposed to the owner being unreachable or broken).
const statusFillFailed = http.StatusFailedDependency

// ErrClosed is returned by a group whose node is stopping.
var ErrClosed = errkind.New(errkind.Unavailable, "cache is shutting down")

type hintKey struct{}

// WithHint attaches a short string to ctx that travels with a Get to the
// owner and reaches its Fill (the render priority, for example).
func WithHint(ctx context.Context, hint string) context.Context {
	return context.WithValue(ctx, hintKey{}, hint)
}

// Hint returns the hint attached to ctx, or "".
func Hint(ctx context.Context) string {
	h, _ := ctx.Value(hintKey{}).(string)
	return h
}

// remote is the owner of a key as groupcache's ProtoGetter.
type remote struct {
	g    *Group
	name string
	addr string
}

// Get asks the owner for a value over the internal listener.
func (r *remote) Get(ctx context.Context, in *pb.GetRequest, out *pb.GetResponse) error {
	u := "http://" + r.addr + PathPrefix + url.PathEscape(r.g.cfg.Name) + "?key=" + url.QueryEscape(in.GetKey())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("cache: peer %s: %w", r.name, err)
	}
	if h := Hint(ctx); h != "" {
		req.Header.Set(hintHeader, h)
	}
	resp, err := r.g.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("cache: peer %s: %w", r.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxValue+1))
	if err != nil {
		return fmt.Errorf("cache: peer %s: read: %w", r.name, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK && len(body) <= maxValue:
		out.Value = body
		return nil
	case resp.StatusCode == statusFillFailed:
		var e errkind.Error
		if json.Unmarshal(body, &e) != nil || e.Message == "" {
			e = errkind.Error{Kind: errkind.Unavailable, Message: "peer fill failed"}
		}
		if n, ok := ctx.Value(noteKey{}).(*note); ok {
			n.remote = &e
		}
		return &e
	default:
		return fmt.Errorf("cache: peer %s: status %d: %s", r.name, resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
}

// Handler serves the peer protocol for the given groups of one node:
// GET PathPrefix+<group>?key=K. Mount it behind peer.Require.
func Handler(groups ...*Group) http.Handler {
	byName := map[string]*Group{}
	for _, g := range groups {
		byName[g.cfg.Name] = g
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := url.PathUnescape(strings.TrimPrefix(r.URL.Path, PathPrefix))
		g, ok := byName[name]
		if err != nil || !ok {
			http.Error(w, "unknown cache group", http.StatusNotFound)
			return
		}
		key := r.URL.Query().Get("key")
		if key == "" {
			http.Error(w, "key is required", http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		if h := r.Header.Get(hintHeader); h != "" {
			ctx = WithHint(ctx, h)
		}
		v, err := g.serve(ctx, key)
		if err != nil {
			e := errkind.Of(err)
			if e == nil {
				e = errkind.New(errkind.Unavailable, "fill failed: "+err.Error())
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(statusFillFailed)
			json.NewEncoder(w).Encode(e)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(v)
	})
}

// serve answers a peer. When this node agrees that it owns key, the value
// comes through groupcache (cached, single-flight). When views differ, it
// fills directly instead of forwarding again, so a request never bounces
// A→B→A while membership settles.
func (g *Group) serve(ctx context.Context, key string) ([]byte, error) {
	if g.closed.Load() {
		return nil, ErrClosed
	}
	if owner, _ := g.cfg.Ring.Owner(key); owner != g.cfg.Ring.Self() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.FillTimeout)
		defer cancel()
		return g.cfg.Fill(fctx, key)
	}
	var v []byte
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.FillTimeout)
	defer cancel()
	if err := g.gc.Get(context.WithValue(fctx, noteKey{}, &note{}), key, groupcache.AllocatingByteSliceSink(&v)); err != nil {
		return nil, err
	}
	return v, nil
}

var _ groupcache.PeerPicker = (*Group)(nil)
