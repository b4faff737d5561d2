package tenantproxy

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/rendercache/rendercache/tenant"
)

// passKey carries what the pass-through proxy needs to its Rewrite.
type passKey struct{}

type passing struct {
	t   tenant.Tenant
	o   object
	tok string
	// visitor: the request goes with the visitor's own Authorization
	// and without the tenant's token (site.visitorAuth).
	visitor bool
}

// newProxy returns the pass-through proxy: requests that are not cached
// (other methods, previews, no-store or private or Set-Cookie answers)
// stream to the tenant's origin and back. API requests carry the token
// as the auth mode says and never the client's own credentials, except a
// visitor's own Authorization where the tenant does not cache authorised
// requests (then without the token).
func newProxy(s *Surface, tr http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			p := pr.In.Context().Value(passKey{}).(*passing)
			target, _ := url.Parse(originURL(p.t, p.o.kind, p.o.pq))
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.SetXForwarded()
			if p.o.kind == kindAPI {
				if !p.visitor {
					pr.Out.Header.Del("Authorization")
				}
				pr.Out.Header.Del("Cookie")
				pr.Out.Header.Del("X-Cachely-Preview")
				if p.t.API.AuthMode == tenant.AuthHeader {
					pr.Out.Header.Del(p.t.API.AuthParam)
				}
				inject(pr.Out, p.t, p.tok)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			p := resp.Request.Context().Value(passKey{}).(*passing)
			if p.tok != "" {
				// A redirect may name the origin URL, which holds the
				// token in query mode.
				for _, f := range []string{"Location", "Content-Location"} {
					if v := resp.Header.Get(f); strings.Contains(v, p.tok) || strings.Contains(v, url.QueryEscape(p.tok)) {
						resp.Header.Del(f)
					}
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p := r.Context().Value(passKey{}).(*passing)
			s.log.Info("origin request failed", "tenant", p.t.Slug, "kind", p.o.kind, "path", p.o.pq, "err", redact(err.Error(), p.tok))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte(`{"error":"the tenant's origin could not be reached"}` + "\n"))
		},
	}
}
