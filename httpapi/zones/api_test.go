package zones_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// shape maps a JSON value to its field names and types, so responses can
// be compared with the seed's examples by shape, not by value.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// The zone API as seed 003 shows it, request by request, through a
// follower: bodies compared with the seed's examples by field names and
// types, errors in its shape.
func TestZoneAPI(t *testing.T) {
	fx := newFixture(t)
	seedZone := map[string]any{"id": "zone_abc123", "name": "my-assets", "subdomain": "my-assets.rescdn.io",
		"origin": "https://your-origin.com", "created": "2025-01-14T10:00:00Z", "active": true}

	t.Run("seed examples", func(t *testing.T) {
		_, live, _ := fx.account("seed@example.com", "pro")
		z := fx.want(fx.do(fx.f, "POST", "/v1/zones", live, map[string]string{"name": "my-assets", "origin": "http://127.0.0.1:9000"}), 201, "create")
		if !reflect.DeepEqual(shape(z), shape(seedZone)) {
			t.Fatalf("created zone %v, want the seed's shape %v", z, seedZone)
		}
		if z["subdomain"] != "my-assets.cdn.localhost" || z["active"] != true {
			t.Fatalf("created zone %v", z)
		}
		id := z["id"].(string)
		// Read-your-writes on every node.
		for i := range 3 {
			list := fx.want(fx.do(i, "GET", "/v1/zones", live, nil), 200, "list")
			if !reflect.DeepEqual(shape(list), shape(map[string]any{"zones": []any{seedZone}})) || list["zones"].([]any)[0].(map[string]any)["id"] != id {
				t.Fatalf("node %d list %v", i, list)
			}
		}
		p := fx.want(fx.do(fx.f, "GET", "/v1/purge?zone="+id+"&path=/assets/v2/reset.css", live, nil), 200, "purge")
		if !reflect.DeepEqual(p, map[string]any{"purged": true, "nodes": float64(3)}) {
			t.Fatalf("purge: %v, want purged on 3 nodes", p)
		}
		u := fx.want(fx.do(fx.f, "GET", "/v1/usage", live, nil), 200, "usage")
		seedUsage := map[string]any{"period_start": "2026-03-01", "period_end": "2026-03-31", "requests": 4812033.0, "bandwidth_bytes": 98123456789.0, "cache_hit_rate": 0.97}
		if !reflect.DeepEqual(shape(u), shape(seedUsage)) {
			t.Fatalf("usage %v, want the seed's shape", u)
		}
		for _, key := range []string{"", "rk_live_xxxxxxxxxxxxxxxxxxxx", live + "x"} {
			e := fx.want(fx.do(fx.f, "GET", "/v1/zones", key, nil), 401, "key "+key)
			if !reflect.DeepEqual(e, map[string]any{"error": "authentication required"}) {
				t.Fatalf("401 body %v", e)
			}
		}
	})

	t.Run("get patch delete", func(t *testing.T) {
		_, live, _ := fx.account("crud@example.com", "pro")
		id := fx.want(fx.do(fx.f, "POST", "/v1/zones", live, map[string]string{"name": "crud", "origin": "http://127.0.0.1:9000"}), 201, "create")["id"].(string)
		z := fx.want(fx.do(0, "PATCH", "/v1/zones/"+id, live, map[string]any{"active": false, "origin": "http://127.0.0.1:9001"}), 200, "patch")
		if z["active"] != false || z["origin"] != "http://127.0.0.1:9001" || z["name"] != "crud" {
			t.Fatalf("patched %v", z)
		}
		for i := range 3 {
			if g := fx.want(fx.do(i, "GET", "/v1/zones/"+id, live, nil), 200, "get"); g["active"] != false {
				t.Fatalf("node %d: %v", i, g)
			}
		}
		fx.want(fx.do(1, "POST", "/v1/zones", live, map[string]string{"name": "crud", "origin": "http://127.0.0.1:9000"}), 409, "duplicate")
		fx.want(fx.do(1, "POST", "/v1/zones", live, map[string]string{"name": "no.dots", "origin": "http://127.0.0.1:9000"}), 400, "bad name")
		fx.want(fx.do(1, "POST", "/v1/zones", live, map[string]string{"name": "x"}), 400, "no origin")
		fx.want(fx.do(1, "PATCH", "/v1/zones/"+id, live, map[string]any{"bogus": 1}), 400, "unknown field")
		if resp := fx.do(2, "DELETE", "/v1/zones/"+id, live, nil); resp.Status != 204 {
			t.Fatalf("delete: %s", resp)
		}
		for i := range 3 {
			fx.want(fx.do(i, "GET", "/v1/zones/"+id, live, nil), 404, "deleted")
		}
	})

	t.Run("purge forms", func(t *testing.T) {
		_, live, _ := fx.account("purge@example.com", "pro")
		id := fx.want(fx.do(fx.f, "POST", "/v1/zones", live, map[string]string{"name": "purges", "origin": "http://127.0.0.1:9000"}), 201, "create")["id"].(string)
		for _, q := range []string{"", "&path=/assets/*", "&tag=product-1", "&soft=true", "&path=/a.css&soft=1"} {
			p := fx.want(fx.do(fx.f, "GET", "/v1/purge?zone="+id+q, live, nil), 200, "purge "+q)
			if p["nodes"] != float64(3) || p["purged"] != true {
				t.Fatalf("purge %q: %v", q, p)
			}
		}
		p := fx.want(fx.do(0, "POST", "/v1/purge", live, map[string]any{"zone": id, "tag": "t", "soft": true}), 200, "POST purge")
		if p["nodes"] != float64(3) {
			t.Fatalf("POST purge: %v", p)
		}
		fx.want(fx.do(0, "POST", "/v1/purge?zone="+id+"&path=/x", live, nil), 200, "POST purge with the query")
		for what, q := range map[string]string{"no zone": "", "relative path": "zone=" + id + "&path=a.css", "path and tag": "zone=" + id + "&path=/a&tag=t",
			"bad soft": "zone=" + id + "&soft=maybe", "mid-segment prefix": "zone=" + id + "&path=/a*"} {
			fx.want(fx.do(1, "GET", "/v1/purge?"+q, live, nil), 400, what)
		}
		fx.want(fx.do(1, "GET", "/v1/purge?zone=zone_nothere", live, nil), 404, "unknown zone")
	})

	t.Run("plan limit and modes", func(t *testing.T) {
		_, live, test := fx.account("free@example.com", "free")
		lz := fx.want(fx.do(fx.f, "POST", "/v1/zones", live, map[string]string{"name": "free-live", "origin": "http://127.0.0.1:9000"}), 201, "live zone")["id"].(string)
		e := fx.want(fx.do(fx.f, "POST", "/v1/zones", live, map[string]string{"name": "free-live-2", "origin": "http://127.0.0.1:9000"}), 403, "second live zone")
		if e["current"] != float64(1) || e["allowed"] != float64(1) {
			t.Fatalf("limit error %v, want current 1 allowed 1", e)
		}
		// Test zones do not count against the plan.
		var tz string
		for _, n := range []string{"free-test-1", "free-test-2"} {
			tz = fx.want(fx.do(fx.f, "POST", "/v1/zones", test, map[string]string{"name": n, "origin": "http://127.0.0.1:9000"}), 201, "test zone")["id"].(string)
		}
		// Names are unique across modes.
		fx.want(fx.do(fx.f, "POST", "/v1/zones", test, map[string]string{"name": "free-live", "origin": "http://127.0.0.1:9000"}), 409, "live name in test mode")
		if l := fx.want(fx.do(0, "GET", "/v1/zones", live, nil), 200, "live list")["zones"].([]any); len(l) != 1 {
			t.Fatalf("live key sees %v", l)
		}
		if l := fx.want(fx.do(1, "GET", "/v1/zones", test, nil), 200, "test list")["zones"].([]any); len(l) != 2 {
			t.Fatalf("test key sees %v", l)
		}
		// Neither mode sees nor touches the other's zones.
		for key, other := range map[string]string{live: tz, test: lz} {
			fx.want(fx.do(2, "GET", "/v1/zones/"+other, key, nil), 403, "get other mode")
			fx.want(fx.do(2, "PATCH", "/v1/zones/"+other, key, map[string]any{"active": false}), 403, "patch other mode")
			fx.want(fx.do(2, "GET", "/v1/purge?zone="+other, key, nil), 403, "purge other mode")
			fx.want(fx.do(2, "DELETE", "/v1/zones/"+other, key, nil), 403, "delete other mode")
		}
	})

	t.Run("other account is not found", func(t *testing.T) {
		_, owner, _ := fx.account("owner@example.com", "pro")
		_, stranger, _ := fx.account("stranger@example.com", "pro")
		id := fx.want(fx.do(fx.f, "POST", "/v1/zones", owner, map[string]string{"name": "owned", "origin": "http://127.0.0.1:9000"}), 201, "create")["id"].(string)
		for _, zid := range []string{id, "zone_0000000000000000"} {
			for i := range 3 {
				var bodies []string
				for _, r := range []struct{ method, path string }{{"GET", "/v1/zones/" + zid}, {"PATCH", "/v1/zones/" + zid}, {"DELETE", "/v1/zones/" + zid}, {"GET", "/v1/purge?zone=" + zid}, {"POST", "/v1/purge?zone=" + zid}} {
					var body any
					if r.method == "PATCH" {
						body = map[string]any{"active": false}
					}
					resp := fx.do(i, r.method, r.path, stranger, body)
					fx.want(resp, 404, r.method+" "+r.path)
					bodies = append(bodies, string(resp.Body))
				}
				for _, b := range bodies {
					if b != bodies[0] {
						t.Fatalf("404 bodies differ: %q", bodies)
					}
				}
			}
		}
		if z := fx.want(fx.do(0, "GET", "/v1/zones/"+id, owner, nil), 200, "owner"); z["active"] != true {
			t.Fatalf("a stranger changed the zone: %v", z)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		_, live, _ := fx.account("busy@example.com", "pro")
		// The limiter counts in wall-clock minutes: 101 requests that
		// straddled a minute's end would start a new budget. Begin the
		// burst with at least 20 s of the minute left.
		if left := time.Minute - time.Duration(time.Now().UnixNano()%int64(time.Minute)); left < 20*time.Second {
			time.Sleep(left)
		}
		var wg sync.WaitGroup
		codes := make([]int, 100)
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := send(fx.ctx, fx.c.URL(i%3), "GET", "/v1/zones", live, nil)
				if err != nil {
					t.Error(err)
					return
				}
				codes[i] = resp.Status
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 200 {
				t.Fatalf("request %d: %d, want 200 for the first 100", i, c)
			}
		}
		resp := fx.do(1, "GET", "/v1/zones", live, nil)
		fx.want(resp, 429, "101st request")
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		// Another key has its own budget.
		_, other, _ := fx.account("calm@example.com", "pro")
		fx.want(fx.do(1, "GET", "/v1/zones", other, nil), 200, "another key")
	})
}
