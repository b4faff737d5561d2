package page

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/rendercache/rendercache/domain"
	"github.com/rendercache/rendercache/origin"
)

// ErrOriginUnreachable is the 502 body when the origin cannot be reached.
const ErrOriginUnreachable = "the origin could not be reached"

// siteKey carries the domain to the reverse proxy's Rewrite.
type siteKey struct{}

// newOriginProxy returns the reverse proxy for people's requests: the
// request goes to the domain's origin unchanged, over a transport that
// refuses private addresses unless the operator allowed them (checked on
// the address actually dialled).
func newOriginProxy(policy origin.Policy, onError func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	tr := policy.Transport(60 * time.Second)
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			d := pr.In.Context().Value(siteKey{}).(domain.Domain)
			target, _ := url.Parse(d.Origin)
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		ErrorHandler: onError,
	}
}

// toOrigin passes r to d's origin as it is.
func (surf *Surface) toOrigin(w http.ResponseWriter, r *http.Request, d domain.Domain) {
	surf.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), siteKey{}, d)))
}

// originError answers a request whose origin could not be reached: 502,
// which the API's error kinds have no name for.
func (surf *Surface) originError(w http.ResponseWriter, r *http.Request, err error) {
	surf.log.Info("origin request failed", "host", r.Host, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadGateway)
	json.NewEncoder(w).Encode(map[string]string{"error": ErrOriginUnreachable})
}
