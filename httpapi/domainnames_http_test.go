package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// TestSpecialUseDomainNames registers names that are not public DNS names:
// refused while private origins are not allowed, accepted once they are.
func TestSpecialUseDomainNames(t *testing.T) {
	names := []string{"x.localhost", "x.local", "metadata.google.internal", "nas.home.arpa", "www.shop.test", "shop.example"}
	// A public IP origin passes the strict policy without DNS.
	const publicOrigin = "http://1.1.1.1"
	for _, tc := range []struct {
		name    string
		strict  bool
		special int // status for the special-use names
	}{
		{"private origins not allowed", true, http.StatusBadRequest},
		{"private origins allowed", false, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testcluster.New(t, 1, testcluster.Options{StrictOrigins: tc.strict})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			resp, err := c.Do(ctx, 0, "POST", "/admin/accounts", map[string]string{"email": "names@example.com", "plan": "enterprise"})
			if err != nil || resp.Status != http.StatusCreated {
				t.Fatalf("create account: %v %v", resp, err)
			}
			resp, err = c.Do(ctx, 0, "POST", "/admin/accounts/"+resp.JSON()["id"].(string)+"/api-keys", map[string]string{"name": "k"})
			if err != nil || resp.Status != http.StatusCreated {
				t.Fatalf("create key: %v %v", resp, err)
			}
			key := map[string]string{"X-Api-Key": resp.JSON()["key"].(string)}
			create := func(name string) *testcluster.Response {
				t.Helper()
				r, err := doWith(ctx, c.URL(0), "POST", "/api/domains", key, map[string]string{"domain": name, "origin": publicOrigin})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if r := create("shop.example.com"); r.Status != http.StatusCreated {
				t.Fatalf("public name: %s, want 201", r)
			}
			for _, name := range names {
				r := create(name)
				if r.Status != tc.special {
					t.Errorf("%s: %s, want %d", name, r, tc.special)
					continue
				}
				if msg, _ := r.JSON()["error"].(string); tc.strict && !strings.Contains(msg, "not a public domain name") {
					t.Errorf("%s: error %q does not say why", name, msg)
				}
			}
			for _, name := range []string{"x.invalid", "x.onion", "1.0.0.127.in-addr.arpa"} {
				if r := create(name); r.Status != http.StatusBadRequest {
					t.Errorf("%s: %s, want 400 under any policy", name, r)
				}
			}
		})
	}
}
