package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/rendercache/rendercache/api"
)

// maxBody bounds the request and response bodies a Checker keeps for
// validation. The API refuses request bodies over 1 MiB, and its largest
// answers (a cache listing of 10,000 pages) stay well below this.
const maxBody = 8 << 20

// Checker validates requests and responses against the OpenAPI document.
// It is safe for concurrent use.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

// Default returns the Checker of the embedded document, loaded once per
// process.
var Default = sync.OnceValues(func() (*Checker, error) { return New(api.YAML()) })

// New returns a Checker for the OpenAPI document spec (YAML or JSON),
// which must be valid.
func New(spec []byte) (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("contract: load: %w", err)
	}
	// Routes are matched on the path alone: test nodes listen on any
	// port, not on the servers the document names.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: router: %w", err)
	}
	return &Checker{doc: doc, router: router}, nil
}

// Wrap returns a middleware that checks the traffic of the node whose
// public address (host:port, as clients send it in Host) is own, and
// reports each mismatch through report (a test's Errorf).
//
// What is checked, and what is exempt:
//   - Requests whose Host is not own are exempt: those are the serve
//     path's host-routed traffic (a crawler asking for a registered
//     domain), which answers with the origin's pages, not the API.
//   - Requests for a path the document does not have are exempt: unknown
//     paths (the router's 404) and the prerender form GET
//     /https://host/path, which OpenAPI cannot template. So is OPTIONS,
//     which the router answers itself.
//   - A method the document does not have on a path it has must be
//     answered 405 with an Allow header and the error body.
//   - A request the document calls invalid (its body, parameters or
//     missing credentials) must be answered with a 4xx the operation
//     documents: a server that accepts what the contract refuses fails.
//   - Every other answer must have a documented status, content type,
//     headers and body. A request body sent without Content-Type is read
//     as JSON, as the server reads it.
func (c *Checker) Wrap(own string, report func(format string, args ...any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Host != own || r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			route, params, err := c.router.FindRoute(r)
			if err != nil {
				if c.pathKnown(r) {
					rec := record(w, r, next)
					if msg := c.notAllowed(rec); msg != "" {
						report("contract: %s %s: %s", r.Method, r.URL.RequestURI(), msg)
					}
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			body, err := readBody(r)
			if err != nil {
				report("contract: %s %s: reading the request body: %v", r.Method, r.URL.RequestURI(), err)
				next.ServeHTTP(w, r)
				return
			}
			in, reqErr := c.checkRequest(r, body, route, params)
			rec := record(w, r, next)
			if msg := c.checkResponse(in, reqErr, rec); msg != "" {
				report("contract: %s %s: %s", r.Method, r.URL.RequestURI(), msg)
			}
		})
	}
}

// pathKnown reports whether the document has r's path under some other
// method.
func (c *Checker) pathKnown(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := c.router.FindRoute(probe); err == nil {
			return true
		}
	}
	return false
}

// notAllowed checks the answer to a method the path does not have.
func (c *Checker) notAllowed(rec *recorder) string {
	if rec.status != http.StatusMethodNotAllowed || rec.header.Get("Allow") == "" {
		return fmt.Sprintf("a method the path does not have got %d (Allow %q), want 405 with Allow", rec.status, rec.header.Get("Allow"))
	}
	return c.errorBody(rec)
}

// errorBody checks that rec's body is the document's Error schema.
func (c *Checker) errorBody(rec *recorder) string {
	schema := c.doc.Components.Schemas["Error"]
	var v any
	if err := jsonDecode(rec.body.Bytes(), &v); err != nil {
		return fmt.Sprintf("the %d body is not JSON: %q", rec.status, truncate(rec.body.Bytes()))
	}
	if err := schema.Value.VisitJSON(v); err != nil {
		return fmt.Sprintf("the %d body is not an Error: %v", rec.status, err)
	}
	return ""
}

// options are the validation options every check uses.
var options = func() *openapi3filter.Options {
	o := &openapi3filter.Options{
		IncludeResponseStatus: true,
		AuthenticationFunc:    presentCredentials,
	}
	// One line per mismatch: where, and why; not the whole schema.
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		at := strings.Join(err.JSONPointer(), "/")
		if at == "" {
			return err.Reason
		}
		return "/" + at + ": " + err.Reason
	})
	return o
}()

// presentCredentials accepts a security scheme when the request carries
// its header: whether the credential is good is the server's to say
// (401), but a request without one is outside the contract.
func presentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	h := in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if v, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); ok && strings.TrimSpace(v) != "" {
			return nil
		}
		return errors.New("no Authorization: Bearer")
	case s.Type == "apiKey" && s.In == "header":
		if strings.TrimSpace(h.Get(s.Name)) != "" {
			return nil
		}
		return fmt.Errorf("no %s header", s.Name)
	}
	return fmt.Errorf("security scheme %s/%s is not checked", s.Type, s.Scheme)
}

// checkRequest validates r (with body) against route.
func (c *Checker) checkRequest(r *http.Request, body []byte, route *routers.Route, params map[string]string) (*openapi3filter.RequestValidationInput, error) {
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	vr.ContentLength = int64(len(body))
	if len(body) > 0 && vr.Header.Get("Content-Type") == "" {
		vr.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: options}
	if len(body) > maxBody {
		return in, fmt.Errorf("body over %d bytes", maxBody)
	}
	return in, openapi3filter.ValidateRequest(r.Context(), in)
}

// checkResponse validates the answer rec to the request in, which the
// document called invalid when reqErr is set.
func (c *Checker) checkResponse(in *openapi3filter.RequestValidationInput, reqErr error, rec *recorder) string {
	if reqErr != nil && (rec.status < 400 || rec.status > 499) {
		return fmt.Sprintf("the contract refuses this request (%v) but the server answered %d %q", reqErr, rec.status, truncate(rec.body.Bytes()))
	}
	in.Request.Body = http.NoBody
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.header,
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                options,
	}
	ct := rec.header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if !isJSON || rec.truncated {
		// Pages and documents are bytes, not JSON to decode: check the
		// status, headers and content type only.
		opts := *options
		opts.ExcludeResponseBody = true
		out.Options = &opts
	}
	if err := openapi3filter.ValidateResponse(in.Request.Context(), out); err != nil {
		return fmt.Sprintf("answer %d %q does not match the contract: %v", rec.status, truncate(rec.body.Bytes()), err)
	}
	if !isJSON && rec.body.Len() > 0 {
		resp := in.Route.Operation.Responses.Status(rec.status)
		if resp == nil {
			resp = in.Route.Operation.Responses.Default()
		}
		if resp != nil && resp.Value != nil && len(resp.Value.Content) > 0 && resp.Value.Content.Get(ct) == nil {
			return fmt.Sprintf("answer %d has Content-Type %q, which the contract does not list", rec.status, ct)
		}
	}
	return ""
}

// readBody reads r's body for validation and puts it back for the
// handler; past maxBody the rest streams through unread.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	return b, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
