package httpapi

import (
	"net/http"
	"slices"

	"github.com/julienschmidt/httprouter"

	"github.com/rendercache/rendercache/api"
	"github.com/rendercache/rendercache/internal/errkind"
)

// Route is one method and path pattern registered on the router, in
// httprouter's syntax (/api/keys/:id).
type Route struct {
	Method, Path string
}

// Routes returns every route registered on the router, in registration
// order, so that a test can hold them against the OpenAPI document
// (api/openapi.yaml): a route added without a spec entry fails it.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// handle registers h on the router and records the route for Routes.
// Every registration goes through here.
func (s *Server) handle(method, path string, h httprouter.Handle) {
	s.routes = append(s.routes, Route{Method: method, Path: path})
	s.router.Handle(method, path, h)
}

// registerSpecRoutes serves the OpenAPI document the binary embeds, as
// written and as JSON; the JSON is converted once, here at start.
func (s *Server) registerSpecRoutes() {
	js, err := api.JSON()
	s.route(http.MethodGet, "/openapi.yaml", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		writeBytes(w, "application/yaml; charset=utf-8", api.YAML())
		return nil
	})
	s.route(http.MethodGet, "/openapi.json", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
		if err != nil {
			return errkind.New(errkind.Internal, err.Error())
		}
		writeBytes(w, "application/json; charset=utf-8", js)
		return nil
	})
}

// writeBytes writes a 200 with body as it is.
func writeBytes(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
