package api_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/rendercache/rendercache/api"
	"github.com/rendercache/rendercache/httpapi"
	"github.com/rendercache/rendercache/httpapi/accountapi"
	"github.com/rendercache/rendercache/httpapi/admin"
	"github.com/rendercache/rendercache/httpapi/cacheapi"
	"github.com/rendercache/rendercache/httpapi/tenants"
	"github.com/rendercache/rendercache/httpapi/zones"
)

// outsideRouter marks spec paths that the node answers before the API's
// router (the serve path's prerender-compatible endpoints, which the edge
// answers whatever the host); they have no router entry to compare with.
const outsideRouter = "x-rendercache-outside-router"

// routedAs marks a spec path that httprouter cannot hold beside a
// parameter at the same position (/api/tenants/slug-availability beside
// /api/tenants/{slug}): the named route answers it, and must exist.
const routedAs = "x-rendercache-routed-as"

// routerParam matches httprouter's :name and *name path parameters.
var routerParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// Every route registered on the router is in the OpenAPI document, and
// every route of the document is on the router: a route added without a
// spec entry (or a spec entry without a route) fails here.
func TestEveryRouteIsInTheSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.YAML())
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		if item.Extensions[outsideRouter] == true {
			continue
		}
		if as, ok := item.Extensions[routedAs].(string); ok {
			path = as
		}
		for method := range item.Operations() {
			spec[method+" "+path] = true
		}
	}
	// Every surface, as node registers them: registration calls none of
	// the surfaces' dependencies.
	srv := httpapi.NewRouter(httpapi.Config{})
	admin.Register(srv, admin.Deps{})
	accountapi.Register(srv, accountapi.Deps{})
	cacheapi.Register(srv, cacheapi.Deps{})
	zones.Register(srv, zones.Deps{})
	tenants.Register(srv, tenants.Deps{})
	router := map[string]bool{}
	for _, r := range srv.Routes() {
		router[r.Method+" "+routerParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(router) < 30 {
		t.Fatalf("only %d routes recorded: does every registration go through Router.handle?", len(router))
	}
	var missing, extra []string
	for r := range router {
		if !spec[r] {
			missing = append(missing, r)
		}
	}
	for r := range spec {
		if !router[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes registered on the router but missing from api/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("routes in api/openapi.yaml that the router lacks (mark a path answered before the router %s: true):\n  %s", outsideRouter, strings.Join(extra, "\n  "))
	}
}
