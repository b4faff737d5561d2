package page_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// guardHost is the guarded article's domain in the cluster tests.
const guardHost = "www.guard.test"

// guardFixture adds a domain whose origin is a guardOrigin to a serving
// fixture.
func guardFixture(t *testing.T) (*servingFixture, *guardOrigin) {
	fx := newServingFixture(t)
	o := newGuardOrigin(t)
	// The shortest TTL: a replaced page reaches every node within a
	// quarter of it.
	if resp := fx.api(fx.f, "POST", "/api/domains", fx.key, map[string]any{"domain": guardHost, "origin": o.srv.URL, "cacheTtl": 60}); resp.Status != 201 {
		t.Fatalf("create %s: %s", guardHost, resp)
	}
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		t.Fatal(err)
	}
	return fx, o
}

// crawlGuarded asks node i for path of guardHost as Googlebot.
func (fx *servingFixture) crawlGuarded(i int, path string) *testcluster.Response {
	fx.t.Helper()
	return fx.request(i, http.MethodGet, guardHost, path, "User-Agent", googlebot)
}

// refreshJob posts body to route with the account key and returns the
// first job's ID.
func (fx *servingFixture) refreshJob(route string, body map[string]any) string {
	fx.t.Helper()
	resp := fx.api(fx.f, "POST", route, fx.key, body)
	if resp.Status != 200 {
		fx.t.Fatalf("%s: %s", route, resp)
	}
	var out struct{ Jobs []struct{ JobID string } }
	if err := json.Unmarshal(resp.Body, &out); err != nil || len(out.Jobs) == 0 {
		fx.t.Fatalf("%s: %s", route, resp.Body)
	}
	return out.Jobs[0].JobID
}

type jobStatus struct {
	Status, Error, Rejected string
}

// finished polls a job until it is done or failed.
func (fx *servingFixture) finished(id string) jobStatus {
	fx.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp := fx.api((fx.f+1)%3, "GET", "/api/cache/jobs/"+id, fx.key, nil)
		var j jobStatus
		json.Unmarshal(resp.Body, &j)
		if resp.Status == 200 && (j.Status == "done" || j.Status == "failed") {
			return j
		}
		if time.Now().After(deadline) {
			fx.t.Fatalf("job %s did not finish: %s", id, resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rejections sums the guard's rejections of reason over every node's
// /metrics, and checks the render pool's metrics are exported too.
func (fx *servingFixture) rejections(reason string) float64 {
	fx.t.Helper()
	total := 0.0
	for i := range 3 {
		resp, err := fx.c.Do(fx.ctx, i, "GET", "/metrics", nil)
		if err != nil || resp.Status != 200 {
			fx.t.Fatalf("metrics of node %d: %v %v", i, resp, err)
		}
		text := string(resp.Body)
		if !strings.Contains(text, "rendercache_render_queue_depth{priority=\"live\"}") {
			fx.t.Fatalf("node %d does not export the render pool's metrics", i)
		}
		prefix := `rendercache_page_quality_rejections_total{reason="` + reason + `"} `
		for _, line := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return total
}

// The quality guard through the API on 3 nodes: once the origin answers
// an empty shell, a 500 or a page without its title, a webhook refresh or
// a Cache API refresh with keepUntilReplaced keeps serving the cached
// page, and its job reports the rejection with the reason (counted in
// /metrics). A plain Cache API refresh still deletes first (seed 000), a
// purge still clears the page, and a 404 confirmed by two refreshes
// replaces it.
func TestQualityGuardOnRefreshes(t *testing.T) {
	fx, o := guardFixture(t)
	resp := fx.api(fx.f, "POST", "/api/domains/"+guardHost+"/webhook-tokens", fx.key, map[string]string{"name": "cms"})
	if resp.Status != 201 {
		t.Fatalf("webhook token: %s", resp)
	}
	token := resp.JSON()["token"].(string)
	good := fx.crawlGuarded(0, "/shoes")
	if good.Status != 200 || !strings.Contains(string(good.Body), "generation 0") {
		t.Fatalf("first crawl: %s", good)
	}
	lastModified := good.Header.Get("Last-Modified")
	keep := map[string]any{"domain": guardHost, "paths": []string{"/shoes"}, "keepUntilReplaced": true}

	cases := []struct{ name, mode, reason string }{
		{"empty shell by webhook", "shell", "text"},
		{"500 by keepUntilReplaced", "500", "status"},
		{"no title by keepUntilReplaced", "notitle", "title"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o.mode.Store(tc.mode)
			before := fx.rejections(tc.reason)
			var id string
			if strings.Contains(tc.name, "webhook") {
				r, err := doWebhook(fx, token, []string{"/shoes"})
				if err != nil || r.Status != 200 {
					t.Fatalf("webhook refresh: %v %v", r, err)
				}
				var out struct{ Jobs []struct{ JobID string } }
				json.Unmarshal(r.Body, &out)
				id = out.Jobs[0].JobID
			} else {
				id = fx.refreshJob("/api/cache/refresh", keep)
			}
			j := fx.finished(id)
			if j.Status != "failed" || j.Rejected != tc.reason || !strings.Contains(j.Error, "cached page is kept") {
				t.Fatalf("job: %+v, want failed and rejected for %q", j, tc.reason)
			}
			if got := fx.rejections(tc.reason); got <= before {
				t.Fatalf("rejections{reason=%q} %v, was %v", tc.reason, got, before)
			}
			for i := range 3 {
				r := fx.crawlGuarded(i, "/shoes")
				if r.Status != 200 || !strings.Contains(string(r.Body), "Our blue shoes") || r.Header.Get("Last-Modified") != lastModified {
					t.Fatalf("node %d after the rejection: %d, Last-Modified %q (was %q): %s", i, r.Status, r.Header.Get("Last-Modified"), lastModified, r.Body)
				}
			}
		})
	}

	t.Run("plain refresh deletes first", func(t *testing.T) {
		o.mode.Store("500")
		id := fx.refreshJob("/api/cache/refresh", map[string]any{"domain": guardHost, "paths": []string{"/shoes"}})
		if j := fx.finished(id); j.Status != "failed" || j.Rejected != "" {
			t.Fatalf("plain refresh job: %+v", j)
		}
		if r := fx.crawlGuarded(1, "/shoes"); r.Status != 503 {
			t.Fatalf("after a delete-first refresh to a 500: %s", r)
		}
	})

	t.Run("purge clears the page", func(t *testing.T) {
		o.mode.Store("good")
		o.gen.Store(1)
		if r := fx.crawlGuarded(0, "/shoes"); r.Status != 200 || !strings.Contains(string(r.Body), "generation 1") {
			t.Fatalf("recache the good page: %s", r)
		}
		o.mode.Store("notitle")
		id := fx.refreshJob("/api/cache/refresh", keep)
		if j := fx.finished(id); j.Rejected != "title" {
			t.Fatalf("job: %+v", j)
		}
		if r := fx.api(fx.f, "POST", "/api/cache/purge", fx.key, map[string]any{"domain": guardHost, "path": "/shoes"}); r.Status != 200 {
			t.Fatalf("purge: %s", r)
		}
		r := fx.crawlGuarded(2, "/shoes")
		if r.Status != 200 || strings.Contains(string(r.Body), "<title>") || !strings.Contains(r.Header.Get("Cache-Status"), "miss") {
			t.Fatalf("after the purge the origin's page is rendered: %s %s", r.Header.Get("Cache-Status"), r.Body)
		}
	})

	t.Run("two confirmed 404s replace the page", func(t *testing.T) {
		o.mode.Store("good")
		if r := fx.api(fx.f, "POST", "/api/cache/purge", fx.key, map[string]any{"domain": guardHost, "path": "/shoes"}); r.Status != 200 {
			t.Fatalf("purge: %s", r)
		}
		if r := fx.crawlGuarded(0, "/shoes"); r.Status != 200 || !strings.Contains(string(r.Body), "<title>") {
			t.Fatalf("cache the good page: %s", r)
		}
		o.mode.Store("404")
		first := fx.finished(fx.refreshJob("/api/cache/refresh", keep))
		if first.Status != "failed" || first.Rejected != "status" {
			t.Fatalf("first 404: %+v", first)
		}
		if r := fx.crawlGuarded(1, "/shoes"); r.Status != 200 {
			t.Fatalf("one 404 replaced the page: %s", r)
		}
		second := fx.finished(fx.refreshJob("/api/cache/refresh", keep))
		if second.Status != "done" {
			t.Fatalf("second 404: %+v", second)
		}
		// The replaced page reaches every node within one cache
		// generation (a quarter of the TTL).
		for i := range 3 {
			deadline := time.Now().Add(60 * time.Second)
			for {
				r := fx.crawlGuarded(i, "/shoes")
				if r.Status == 404 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node %d still serves %d after the confirmed 404", i, r.Status)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	})
}

func doWebhook(fx *servingFixture, token string, urls []string) (*testcluster.Response, error) {
	return testcluster.Do(fx.ctx, fx.c.URL(fx.f), "POST", "/api/webhook/refresh", "Bearer "+token, map[string]any{"urls": urls})
}

// Proactive recache on 3 nodes through the API: with the domain's lead
// set to 0.9 of its 60 s TTL (a PATCH that leaves the rest alone), a page
// a crawler requested once is re-rendered by its owner about 6 s later,
// long before it expires, and crawlers then get hits on the fresher page
// (a newer Last-Modified) from every node.
func TestProactiveRecacheThroughTheCluster(t *testing.T) {
	fx, o := guardFixture(t)
	resp := fx.api(fx.f, "PATCH", "/api/domains/"+guardHost, fx.key, map[string]any{"recache": map[string]any{"leadFraction": 0.9}})
	if resp.Status != 200 {
		t.Fatalf("patch: %s", resp)
	}
	var d struct {
		CacheTTL int `json:"cacheTtl"`
		Recache  struct {
			Enabled      bool    `json:"enabled"`
			LeadFraction float64 `json:"leadFraction"`
		} `json:"recache"`
	}
	json.Unmarshal(resp.Body, &d)
	if d.CacheTTL != 60 || !d.Recache.Enabled || d.Recache.LeadFraction != 0.9 {
		t.Fatalf("patched domain: %s", resp.Body)
	}
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		t.Fatal(err)
	}
	first := fx.crawlGuarded(0, "/daily")
	if first.Status != 200 || !strings.Contains(first.Header.Get("Cache-Status"), "miss") {
		t.Fatalf("first crawl: %s %s", first.Header.Get("Cache-Status"), first)
	}
	firstModified, err := http.ParseTime(first.Header.Get("Last-Modified"))
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(60 * time.Second)
	o.gen.Store(7)
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		r := fx.crawlGuarded(i%3, "/daily")
		if strings.Contains(string(r.Body), "generation 7") {
			modified, err := http.ParseTime(r.Header.Get("Last-Modified"))
			if err != nil || !modified.After(firstModified) || r.Status != 200 || !strings.Contains(r.Header.Get("Cache-Status"), "hit") {
				t.Fatalf("the recached page: %s, Last-Modified %s (first %s)", r.Header.Get("Cache-Status"), r.Header.Get("Last-Modified"), first.Header.Get("Last-Modified"))
			}
			if !modified.Before(expires) {
				t.Fatalf("re-rendered at %v, after the first render expired (%v)", modified, expires)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recached page within a minute: %s", r.Header.Get("Cache-Status"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	total := 0.0
	for i := range 3 {
		m, err := fx.c.Do(fx.ctx, i, "GET", "/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(m.Body), "\n") {
			if v, ok := strings.CutPrefix(line, "rendercache_page_recaches_total "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	if total < 1 {
		t.Fatalf("rendercache_page_recaches_total %v over the cluster", total)
	}
}
