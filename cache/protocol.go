package cache

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang/groupcache"
	pb "github.com/golang/groupcache/groupcachepb"

	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
)

// PathPrefix is where Handler is mounted on the internal listener.
const PathPrefix = "/internal/v1/cache/"

// hintHeader carries a Hint to the owner.
const hintHeader = "X-Rendercache-Hint"

// maxValue bounds a value read from a peer.
const maxValue = peer.MaxBody

var (
	// ErrClosed is returned by a group whose node is stopping.
	ErrClosed = errkind.New(errkind.Unavailable, "cache is shutting down")

	// errUnknownGroup and errNoKey refuse a peer's malformed Get; the
	// asking node then fills the key itself.
	errUnknownGroup = errkind.New(errkind.NotFound, "unknown cache group")
	errNoKey        = errkind.New(errkind.Invalid, "key is required")
)

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

// Get asks the owner for a value over the internal listener. When the
// owner answers with its fill's error, the flight records it so that this
// node does not fill the key a second time; when the owner cannot answer,
// groupcache fills locally.
func (r *remote) Get(ctx context.Context, in *pb.GetRequest, out *pb.GetResponse) error {
	u := "http://" + r.addr + PathPrefix + url.PathEscape(r.g.cfg.Name) + "?key=" + url.QueryEscape(in.GetKey())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("cache: peer %s: %w", r.name, err)
	}
	if h := Hint(ctx); h != "" {
		req.Header.Set(hintHeader, h)
	}
	v, err := peer.Do(r.g.cfg.Client, req, maxValue)
	if err != nil {
		err = fmt.Errorf("cache: peer %s: %w", r.name, err)
		if n, ok := ctx.Value(noteKey{}).(*note); ok && errkind.Of(err) != nil {
			n.remote = err
		}
		return err
	}
	out.Value = v
	return nil
}

// Handler serves the peer protocol for the given groups of one node:
// GET PathPrefix+<group>?key=K answers the value's bytes, or the fill's
// error in peer's wire format. Mount it behind peer.Require.
func Handler(groups ...*Group) http.Handler {
	byName := map[string]*Group{}
	for _, g := range groups {
		byName[g.cfg.Name] = g
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := url.PathUnescape(strings.TrimPrefix(r.URL.Path, PathPrefix))
		g, ok := byName[name]
		if err != nil || !ok {
			peer.Refuse(w, http.StatusNotFound, errUnknownGroup)
			return
		}
		key := r.URL.Query().Get("key")
		if key == "" {
			peer.Refuse(w, http.StatusBadRequest, errNoKey)
			return
		}
		ctx := r.Context()
		if h := r.Header.Get(hintHeader); h != "" {
			ctx = WithHint(ctx, h)
		}
		v, err := g.serve(ctx, key)
		if err != nil {
			if errkind.Of(err) == nil {
				err = errkind.New(errkind.Unavailable, "fill failed: "+err.Error())
			}
			peer.WriteError(w, err)
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
