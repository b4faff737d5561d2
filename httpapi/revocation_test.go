package httpapi_test

import (
	"fmt"
	"testing"
)

// After a revocation, an account deletion, a plan downgrade or a webhook
// token deletion returns 2xx on one node, no node accepts the old
// credential even once: every authenticated request checks credentials
// against fresh (read-index) state. Each loop sends the change to one node
// and the very next request, a write, to another.
func TestRevocationIsFinalEverywhere(t *testing.T) {
	rf := newRenderFixture(t)
	fx := rf.fixture
	acct, _ := fx.account("revoke@example.com", "agency")

	t.Run("revoked key", func(t *testing.T) {
		for i := range 100 {
			resp, err := fx.c.Do(fx.ctx, i%3, "POST", "/admin/accounts/"+acct+"/api-keys", map[string]string{"name": fmt.Sprintf("k%d", i)})
			if err != nil || resp.Status != 201 {
				t.Fatalf("round %d: create key: %v %v", i, resp, err)
			}
			key, id := resp.JSON()["key"].(string), resp.JSON()["id"].(string)
			for n := range 3 {
				if r := fx.do(n, "GET", "/api/keys", key, nil); r.Status != 200 {
					t.Fatalf("round %d: new key on node %d: %s", i, n, r)
				}
			}
			if r := fx.do(i%3, "DELETE", "/api/keys/"+id, key, nil); r.Status != 204 {
				t.Fatalf("round %d: revoke: %s", i, r)
			}
			if r := fx.do((i+1)%3, "POST", "/api/keys", key, map[string]string{"name": "minted"}); r.Status != 401 {
				t.Fatalf("round %d: a write with the revoked key on node %d answered %s; want 401", i, (i+1)%3, r)
			}
			if r := fx.do((i+2)%3, "GET", "/api/keys", key, nil); r.Status != 401 {
				t.Fatalf("round %d: a read with the revoked key on node %d answered %s; want 401", i, (i+2)%3, r)
			}
		}
	})

	t.Run("deleted account", func(t *testing.T) {
		for i := range 20 {
			id, key := fx.account(fmt.Sprintf("gone%d@example.com", i), "free")
			for n := range 3 {
				if r := fx.do(n, "GET", "/api/keys", key, nil); r.Status != 200 {
					t.Fatalf("round %d: key on node %d: %s", i, n, r)
				}
			}
			if r, err := fx.c.Do(fx.ctx, i%3, "DELETE", "/admin/accounts/"+id, nil); err != nil || r.Status != 204 {
				t.Fatalf("round %d: delete account: %v %v", i, r, err)
			}
			if r := fx.do((i+1)%3, "GET", "/api/keys", key, nil); r.Status != 401 {
				t.Fatalf("round %d: the deleted account's key on node %d answered %s; want 401", i, (i+1)%3, r)
			}
			if r := fx.do((i+2)%3, "POST", "/api/keys", key, map[string]string{"name": "minted"}); r.Status != 401 {
				t.Fatalf("round %d: a write with the deleted account's key on node %d answered %s; want 401", i, (i+2)%3, r)
			}
		}
	})

	t.Run("downgraded plan", func(t *testing.T) {
		id, key := fx.account("downgrade@example.com", "agency")
		setPlan := func(n int, plan string) {
			t.Helper()
			if r, err := fx.c.Do(fx.ctx, n, "PATCH", "/admin/accounts/"+id, map[string]string{"plan": plan}); err != nil || r.Status != 200 {
				t.Fatalf("set plan %s: %v %v", plan, r, err)
			}
		}
		for i := range 20 {
			setPlan(i%3, "agency")
			if r := fx.do((i+1)%3, "GET", "/api/cache/stats", key, nil); r.Status != 200 {
				t.Fatalf("round %d: API access on agency: %s", i, r)
			}
			setPlan(i%3, "pro")
			if r := fx.do((i+1)%3, "POST", "/api/cache/purge-all", key, nil); r.Status != 403 {
				t.Fatalf("round %d: the programmatic API right after a downgrade on node %d answered %s; want 403", i, (i+1)%3, r)
			}
		}
	})

	t.Run("webhook token", func(t *testing.T) {
		hook := func(n int, token string) int {
			t.Helper()
			r, err := doWith(fx.ctx, fx.c.URL(n), "POST", "/api/webhook/refresh", map[string]string{"Authorization": "Bearer " + token}, map[string]any{"urls": []string{"/"}})
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		newToken := func(i int) (string, string) {
			t.Helper()
			r := fx.do(i%3, "POST", "/api/domains/"+rf.host+"/webhook-tokens", rf.key, map[string]string{"name": fmt.Sprintf("t%d", i)})
			if r.Status != 201 {
				t.Fatalf("round %d: token: %s", i, r)
			}
			return r.JSON()["token"].(string), r.JSON()["id"].(string)
		}
		// Deleted: refused at once on another node. A refused request
		// never reaches the hourly limit, so the loop can be long.
		for i := range 20 {
			token, id := newToken(i)
			if r := fx.do(i%3, "DELETE", "/api/domains/"+rf.host+"/webhook-tokens/"+id, rf.key, nil); r.Status != 204 {
				t.Fatalf("round %d: delete token: %s", i, r)
			}
			if st := hook((i+1)%3, token); st != 401 {
				t.Fatalf("round %d: a deleted webhook token on node %d answered %d; want 401", i, (i+1)%3, st)
			}
		}
		// Downgraded: a token that worked is refused at once once its
		// account's plan loses webhook tokens (each accepted use costs one
		// of the domain's 10 refreshes an hour).
		token, _ := newToken(100)
		for i := range 3 {
			if r, err := fx.c.Do(fx.ctx, i%3, "PATCH", "/admin/accounts/"+rf.acct, map[string]string{"plan": "agency"}); err != nil || r.Status != 200 {
				t.Fatalf("round %d: upgrade: %v %v", i, r, err)
			}
			if st := hook((i+1)%3, token); st != 200 {
				t.Fatalf("round %d: webhook token on agency answered %d", i, st)
			}
			if r, err := fx.c.Do(fx.ctx, i%3, "PATCH", "/admin/accounts/"+rf.acct, map[string]string{"plan": "pro"}); err != nil || r.Status != 200 {
				t.Fatalf("round %d: downgrade: %v %v", i, r, err)
			}
			if st := hook((i+2)%3, token); st != 403 {
				t.Fatalf("round %d: webhook token right after a downgrade on node %d answered %d; want 403", i, (i+2)%3, st)
			}
		}
	})
}

// Once DELETE /api/domains/:domain returns 204 on one node, no node serves
// the domain any more, not even for the few milliseconds before it applies
// the delete: the delete answers only once every live node has applied
// it. A person's request, which the render surface proxies to the origin,
// shows whether a node still serves the host.
func TestDeletedDomainIsServedNowhere(t *testing.T) {
	fx := newFixture(t, 3)
	s := newSite(t)
	_, key := fx.account("deleted-domain@example.com", "agency")
	const person = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
	for i := range 20 {
		host := fmt.Sprintf("www.gone%d.test", i)
		if r := fx.do(i%3, "POST", "/api/domains", key, map[string]string{"domain": host, "origin": s.srv.URL}); r.Status != 201 {
			t.Fatalf("round %d: create domain: %s", i, r)
		}
		if err := fx.c.WaitConverged(fx.ctx); err != nil {
			t.Fatal(err)
		}
		for n := range 3 {
			if r, err := crawl(fx.ctx, fx.c, n, host, "/data.json", person); err != nil || r.Status != 200 {
				t.Fatalf("round %d: node %d before the delete: %v %v", i, n, r, err)
			}
		}
		if r := fx.do(i%3, "DELETE", "/api/domains/"+host, key, nil); r.Status != 204 {
			t.Fatalf("round %d: delete: %s", i, r)
		}
		for _, n := range []int{(i + 1) % 3, (i + 2) % 3} {
			r, err := crawl(fx.ctx, fx.c, n, host, "/data.json", person)
			if err != nil || r.Status != 404 {
				t.Fatalf("round %d: node %d served the deleted domain: %v %v; want 404", i, n, r, err)
			}
		}
	}
}
