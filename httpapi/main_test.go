package httpapi_test

// Besides the kit's own tests, this package holds the API's cluster
// tests: they start whole nodes, so they exercise every surface
// (httpapi/admin, accountapi, cacheapi) as node registers them on one
// router, errors and all, against the OpenAPI contract.

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rendercache/rendercache/origin"
	"github.com/rendercache/rendercache/render"
)

// browser is the one Chromium of this test package, shared by every test
// cluster's nodes. Without Chromium the package fails; it never skips.
var browser *render.Pool

func TestMain(m *testing.M) {
	p, err := render.New(context.Background(), render.Options{Concurrency: 2, Policy: origin.Policy{AllowPrivate: true}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpapi tests need Chromium (make deps installs it): %v\n", err)
		os.Exit(1)
	}
	browser = p
	code := m.Run()
	if err := p.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "closing Chromium: %v\n", err)
	}
	os.Exit(code)
}
