package page

import (
	"context"
	"fmt"
	"net/http"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/internal/errkind"
	"github.com/rendercache/rendercache/internal/peer"
	"github.com/rendercache/rendercache/render"
)

// PathPrefix is where Handler is mounted on the internal listener.
const PathPrefix = "/internal/v1/page/"

// pathRerender is the RPC that runs a guarded re-render on a page's owner.
const pathRerender = PathPrefix + "rerender"

// errBadKey refuses a re-render RPC naming no page key.
var errBadKey = errkind.New(errkind.Invalid, "page: bad key")

type rerenderRequest struct {
	Key   string `json:"key"`
	Cause string `json:"cause"`
}

// Refresh re-renders url (from NormalizeURL) of d in variant on the page's
// owner, under the quality guard: the cached page is replaced only if the
// new render is not clearly worse (Outcome.Err says why not). A page with
// no cached copy is rendered and stored. The new page reaches every node
// within one cache generation (see bucketFor). cause names the refresh in
// logs ("webhook", "refresh").
func (s *Service) Refresh(ctx context.Context, d domain.Domain, variant render.Variant, url, cause string) (Outcome, error) {
	k := s.KeyFor(d, variant, url)
	owner, addr := s.cfg.Ring.Owner(k.String())
	if owner == s.cfg.Ring.Self() || addr == "" {
		return s.rerender(ctx, k, d, cause)
	}
	var o Outcome
	if err := peer.Call(ctx, s.cfg.Client, addr, pathRerender, rerenderRequest{Key: k.String(), Cause: cause}, &o); err != nil {
		return Outcome{}, fmt.Errorf("page: refresh on %s: %w", owner, err)
	}
	return o, nil
}

// Handler serves other nodes' Refresh calls. Mount it at PathPrefix behind
// peer.Require.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+pathRerender, peer.Handle(func(ctx context.Context, req rerenderRequest) (Outcome, error) {
		k, err := ParseKey(req.Key)
		if err != nil {
			return Outcome{}, errBadKey
		}
		d, err := s.domain(ctx, k.Domain)
		if err != nil {
			return Outcome{}, err
		}
		return s.rerender(ctx, k, d, req.Cause)
	}))
	return mux
}
