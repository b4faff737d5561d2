package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/testcluster"
)

// shape reduces a JSON value to its field names and types, so that a
// response can be compared with a seed example whatever the values.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func sameShape(t *testing.T, resp *testcluster.Response, status int, example string) {
	t.Helper()
	var got, want any
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("body %q is not JSON", resp.Body)
	}
	if err := json.Unmarshal([]byte(example), &want); err != nil {
		t.Fatalf("bad example: %v", err)
	}
	gs, _ := json.Marshal(shape(got))
	ws, _ := json.Marshal(shape(want))
	if resp.Status != status || string(gs) != string(ws) {
		t.Fatalf("got %d %s\nshape %s\nwant %d shape %s", resp.Status, resp.Body, gs, status, ws)
	}
}

// cached renders path on every node and checks it is a hit afterwards.
func (rf *renderFixture) cached(paths ...string) {
	rf.t.Helper()
	for _, p := range paths {
		wantRendered(rf.t, rf.crawl(0, p), p)
	}
}

func TestCacheAPISeedExamples(t *testing.T) {
	rf := newRenderFixture(t)
	rf.cached("/", "/about", "/contact")
	f, key := rf.f, rf.key
	cases := []struct {
		name, method, path string
		body               any
		status             int
		example            string
	}{
		{"list", "GET", "/api/cache/list/www.shop.test", nil, 200,
			`{"domain":"example.com","cachedPages":3,"pages":[{"path":"/","cacheKey":"render:example.com:/"}]}`},
		{"stats", "GET", "/api/cache/stats", nil, 200, `{"totalKeys":47,"domainCount":3}`},
		{"purge one page", "POST", "/api/cache/purge", map[string]string{"domain": "www.shop.test", "path": "/about"}, 200,
			`{"message":"Cache purged","keysDeleted":5}`},
		{"purge domain", "POST", "/api/cache/purge", map[string]string{"domain": "www.shop.test"}, 200,
			`{"message":"Cache purged","keysDeleted":5}`},
		{"refresh", "POST", "/api/cache/refresh", map[string]any{"domain": "www.shop.test", "paths": []string{"/", "/about", "/pricing"}}, 200,
			`{"message":"Cache refresh queued","domain":"example.com","jobs":[{"path":"/","jobId":"refresh_example.com___1708300000000"}]}`},
		{"refresh defaults", "POST", "/api/cache/refresh", map[string]any{"domain": "www.shop.test"}, 200,
			`{"message":"Cache refresh queued","domain":"example.com","jobs":[{"path":"/","jobId":"x"}]}`},
		{"purge all", "POST", "/api/cache/purge-all", nil, 200, `{"message":"All your domain caches purged","keysDeleted":24}`},
		{"refresh all", "POST", "/api/cache/refresh-all", map[string]any{"paths": []string{"/", "/about"}}, 200,
			`{"message":"All caches refresh queued","totalDomains":3,"totalJobs":6,"jobs":[{"domain":"example.com","path":"/","jobId":"..."}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameShape(t, rf.do(f, c.method, c.path, key, c.body), c.status, c.example)
		})
	}

	// The documented defaults.
	resp := rf.do(f, "POST", "/api/cache/refresh", key, map[string]any{"domain": "www.shop.test"})
	var refresh struct {
		Jobs []struct{ Path, JobID string }
	}
	json.Unmarshal(resp.Body, &refresh)
	var paths []string
	for _, j := range refresh.Jobs {
		paths = append(paths, j.Path)
		if !strings.HasPrefix(j.JobID, "refresh_www.shop.test_") {
			t.Fatalf("job ID %q is not in the documented shape", j.JobID)
		}
	}
	if strings.Join(paths, " ") != "/ /about /contact /shop" {
		t.Fatalf("default refresh paths = %v", paths)
	}
	resp = rf.do(f, "POST", "/api/cache/refresh-all", key, nil)
	var all struct{ TotalDomains, TotalJobs int }
	json.Unmarshal(resp.Body, &all)
	if all.TotalDomains != 1 || all.TotalJobs != 1 {
		t.Fatalf("refresh-all without paths: %s", resp.Body)
	}
}

func TestScriptAPISeed(t *testing.T) {
	rf := newRenderFixture(t)
	_, scriptKey := rf.account("script@example.com", "agency", "script")
	_, plainKey := rf.account("plain@example.com", "agency")
	f := rf.f
	script := func(key string, body any) *testcluster.Response {
		t.Helper()
		resp, err := doWith(rf.ctx, rf.c.URL(f), "POST", "/script/invalidate-cache", map[string]string{"X-API-KEY": key}, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// The script key's account needs a domain of its own to invalidate.
	if resp := rf.do(f, "POST", "/api/domains", scriptKey, map[string]string{"domain": "script.shop.test", "origin": rf.site.srv.URL}); resp.Status != 201 {
		t.Fatalf("domain: %d %s", resp.Status, resp.Body)
	}
	cases := []struct {
		name   string
		key    string
		body   any
		status int
		want   string
	}{
		{"success", scriptKey, map[string]string{"key": "render:script.shop.test:/about"}, 200, `{"status":"success"}`},
		{"whole domain", scriptKey, map[string]string{"key": "render:script.shop.test"}, 200, `{"status":"success"}`},
		{"missing key field", scriptKey, map[string]string{}, 400, `{"error":"field \"key\" is required"}`},
		{"malformed key", scriptKey, map[string]string{"key": "user:profile:12345"}, 400, `{"error":"invalid cache key: expected render:<domain>:<path>, render:<domain> or render/<domain>/<version>/<variant>/<path>"}`},
		{"another account's domain", scriptKey, map[string]string{"key": "render:www.shop.test:/"}, 404, `{"error":"Domain not found"}`},
		{"no script role", plainKey, map[string]string{"key": "render:script.shop.test:/"}, 403, `{"error":"This API key does not have the SCRIPT role"}`},
		{"missing API key", "", map[string]string{"key": "render:script.shop.test:/"}, 401, `{"error":"API key required"}`},
		{"invalid API key", "rk_live_00000000000000000000000000000000", map[string]string{"key": "render:script.shop.test:/"}, 401, `{"error":"Invalid API key"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { exactJSON(t, script(c.key, c.body), c.status, c.want) })
	}
}

func TestPurgeIsVisibleOnEveryNodeAtOnce(t *testing.T) {
	rf := newRenderFixture(t)
	rf.cached("/one", "/two")
	for i := range 3 {
		for _, p := range []string{"/one", "/two"} {
			if cs := rf.crawl(i, p).Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
				t.Fatalf("node %d %s before purge: %q", i, p, cs)
			}
		}
	}
	rf.site.setGen(1)
	resp := rf.do(0, "POST", "/api/cache/purge", rf.key, map[string]string{"domain": "www.shop.test", "path": "/one"})
	exactJSON(t, resp, 200, `{"message":"Cache purged","keysDeleted":1}`)
	// Right after the 2xx: node 2's next request misses, and no node
	// serves the purged render any more.
	if cs := rf.crawl(1, "/one").Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("node 1 right after the purge: Cache-Status %q, want a miss", cs)
	}
	for i := range 3 {
		if body := string(rf.crawl(i, "/one").Body); !strings.Contains(body, "(generation 1)") {
			t.Fatalf("node %d serves the purged page: %s", i, body)
		}
	}
	if cs := rf.crawl(1, "/two").Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
		t.Fatalf("an unpurged page missed: %q", cs)
	}

	// A domain purge: the list is empty at once and keysDeleted counts
	// the cached entries (/one again and /two).
	resp = rf.do(2, "POST", "/api/cache/purge", rf.key, map[string]string{"domain": "www.shop.test"})
	exactJSON(t, resp, 200, `{"message":"Cache purged","keysDeleted":2}`)
	for i := range 3 {
		exactJSON(t, rf.do(i, "GET", "/api/cache/list/www.shop.test", rf.key, nil), 200, `{"domain":"www.shop.test","cachedPages":0,"pages":[]}`)
	}
	again := rf.crawl(2, "/two")
	wantRendered(t, again, "/two")
	if cs := again.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=miss") {
		t.Fatalf("node 2 right after the domain purge: Cache-Status %q, want a miss", cs)
	}
	exactJSON(t, rf.do(1, "GET", "/api/cache/list/www.shop.test", rf.key, nil), 200,
		`{"domain":"www.shop.test","cachedPages":1,"pages":[{"path":"/two","cacheKey":"render:www.shop.test:/two"}]}`)
}

func TestListPaginates(t *testing.T) {
	rf := newRenderFixture(t)
	var want []string
	for i := range 5 {
		p := fmt.Sprintf("/p%d", i)
		rf.cached(p)
		want = append(want, p)
	}
	var got []string
	cursor := ""
	for range 10 {
		resp := rf.do(rf.f, "GET", "/api/cache/list/www.shop.test?limit=2&cursor="+cursor, rf.key, nil)
		var l struct {
			Pages      []struct{ Path string }
			NextCursor string
		}
		if err := json.Unmarshal(resp.Body, &l); err != nil || resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		for _, p := range l.Pages {
			got = append(got, p.Path)
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("paginated list = %v, want %v", got, want)
	}
	exactJSON(t, rf.do(rf.f, "GET", "/api/cache/list/www.shop.test?limit=0", rf.key, nil), 400, `{"error":"limit must be between 1 and 10000"}`)
}

// waitJobs waits until every job is done, asking another node than the
// one that queued them, and checks each page is then a hit.
func (rf *renderFixture) waitJobs(t *testing.T, body []byte, want int) []string {
	var r struct {
		Jobs []struct{ Path, JobID string }
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Jobs) != want {
		t.Fatalf("want %d jobs: %s", want, body)
	}
	var paths []string
	for _, j := range r.Jobs {
		paths = append(paths, j.Path)
		// Any node finds the job.
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp := rf.do((rf.f+1)%3, "GET", "/api/cache/jobs/"+j.JobID, rf.key, nil)
			var st struct{ Status, Error string }
			json.Unmarshal(resp.Body, &st)
			if resp.Status != 200 {
				t.Fatalf("job %s: %d %s", j.JobID, resp.Status, resp.Body)
			}
			if st.Status == "done" {
				break
			}
			if st.Status == "failed" || time.Now().After(deadline) {
				t.Fatalf("job %s: %s %s", j.JobID, st.Status, st.Error)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if cs := rf.crawl(0, j.Path).Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("%s after its job: %q", j.Path, cs)
		}
	}
	return paths
}

func TestRefreshJobsRenderAfterTheResponse(t *testing.T) {
	rf := newRenderFixture(t)
	resp := rf.do(rf.f, "POST", "/api/cache/refresh", rf.key, map[string]any{"domain": "www.shop.test", "paths": []string{"/warm/a", "/warm/b"}})
	rf.waitJobs(t, resp.Body, 2)
	var r struct {
		Jobs []struct{ Path, JobID string }
	}
	json.Unmarshal(resp.Body, &r)
	// Another account cannot see the job.
	_, other := rf.account("other@example.com", "agency")
	exactJSON(t, rf.do(rf.f, "GET", "/api/cache/jobs/"+r.Jobs[0].JobID, other, nil), 404, `{"error":"Job not found"}`)
}

func TestWarmFromSitemap(t *testing.T) {
	rf := newRenderFixture(t)
	resp := rf.do(rf.f, "POST", "/api/cache/warm", rf.key, map[string]any{"domain": "www.shop.test"})
	sameShape(t, resp, 200, `{"message":"Cache warm queued","domain":"www.shop.test","totalJobs":2,"jobs":[{"path":"/","jobId":"x"}]}`)
	paths := rf.waitJobs(t, resp.Body, 2)
	if strings.Join(paths, " ") != "/warm/one /warm/two?a=1&b=2" {
		t.Fatalf("warmed %v", paths)
	}
	if rf.site.count("/x") != 0 {
		t.Fatal("a URL on another host was fetched")
	}
}

func TestScriptRateLimitIsClusterWide(t *testing.T) {
	rf := newRenderFixture(t)
	_, key := rf.account("script@example.com", "agency", "script")
	if resp := rf.do(rf.f, "POST", "/api/domains", key, map[string]string{"domain": "script.shop.test", "origin": rf.site.srv.URL}); resp.Status != 201 {
		t.Fatalf("domain: %d %s", resp.Status, resp.Body)
	}
	body := map[string]string{"key": "render:script.shop.test:/"}
	statuses := map[int]int{}
	var last *testcluster.Response
	// A 503 (a leader election under load, say) is legitimate, and a
	// request that failed does not count against the limit: such a call is
	// checked for its Retry-After and left out of the count of 61.
	for i, counted := 0, 0; counted < 61; i++ {
		resp, err := doWith(rf.ctx, rf.c.URL(i%3), "POST", "/script/invalidate-cache", map[string]string{"X-API-KEY": key}, body)
		if err != nil {
			t.Fatal(err)
		}
		statuses[resp.Status]++
		if resp.Status == 503 {
			if resp.Header.Get("Retry-After") == "" || resp.JSON()["error"] == nil {
				t.Fatalf("a 503 without Retry-After or JSON error: %s", resp)
			}
			if statuses[503] > 20 {
				t.Fatalf("the cluster kept failing: %v", statuses)
			}
			continue
		}
		counted++
		last = resp
	}
	if statuses[200] != 60 || statuses[429] != 1 || last.Status != 429 {
		t.Fatalf("61 counted calls over 3 nodes gave %v; want 60×200 then 429", statuses)
	}
	exactJSON(t, last, 429, `{"error":"Rate limit exceeded"}`)
	if ra := last.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without Retry-After")
	}
}

func TestWebhookRefreshLimit(t *testing.T) {
	rf := newRenderFixture(t)
	resp := rf.do(rf.f, "POST", "/api/domains/www.shop.test/webhook-tokens", rf.key, map[string]string{"name": "cms"})
	if resp.Status != 201 {
		t.Fatalf("token: %d %s", resp.Status, resp.Body)
	}
	token := resp.JSON()["token"].(string)
	hook := func(i int, auth string, body any) *testcluster.Response {
		t.Helper()
		resp, err := doWith(rf.ctx, rf.c.URL(i), "POST", "/api/webhook/refresh", map[string]string{"Authorization": auth}, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	exactJSON(t, hook(rf.f, "", map[string]any{"urls": []string{"/"}}), 401, `{"error":"Webhook token required"}`)
	exactJSON(t, hook(rf.f, "Bearer rk_wh_00000000000000000000000000000000", map[string]any{"urls": []string{"/"}}), 401, `{"error":"Invalid webhook token"}`)
	for i := range 10 {
		resp := hook(i%3, "Bearer "+token, map[string]any{"urls": []string{"/", "https://www.shop.test/blog/new-post"}})
		sameShape(t, resp, 200, `{"message":"Cache refresh queued","domain":"www.shop.test","jobs":[{"path":"/","jobId":"x"}]}`)
	}
	resp = hook(1, "Bearer "+token, map[string]any{"urls": []string{"/"}})
	if resp.Status != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("11th webhook refresh: %d %s", resp.Status, resp.Body)
	}
	// Webhook tokens are an agency+ feature: a downgraded account's
	// tokens stop working (and are refused before the rate limit).
	if resp, err := rf.c.Do(rf.ctx, 0, "PATCH", "/admin/accounts/"+rf.acct, map[string]string{"plan": "pro"}); err != nil || resp.Status != 200 {
		t.Fatalf("downgrade: %v %v", resp, err)
	}
	// The plan is read from local state, as the token is: wait until node
	// 2 has applied the downgrade.
	if err := rf.c.WaitConverged(rf.ctx); err != nil {
		t.Fatal(err)
	}
	exactJSON(t, hook(2, "Bearer "+token, map[string]any{"urls": []string{"/"}}), 403, `{"error":"Webhook tokens are available on Agency plans and above"}`)
}

func TestQuotaBypassesMissesButServesHits(t *testing.T) {
	rf := newRenderFixture(t)
	// A limit of 1 render: past 120% (the second render) misses bypass.
	resp := rf.do(rf.f, "PATCH", "/api/domains/www.shop.test", rf.key, map[string]any{"monthlyRenderLimit": 1})
	if resp.Status != 200 {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	if err := rf.c.WaitConverged(rf.ctx); err != nil {
		t.Fatal(err)
	}
	rf.cached("/q1", "/q2")
	// Every node learns the cluster's count within a report interval.
	deadline := time.Now().Add(30 * time.Second)
	for i := range 3 {
		for {
			resp := rf.do(i, "GET", "/api/domains/www.shop.test/usage", rf.key, nil)
			var u struct {
				Renders  int
				Bypassed bool
			}
			json.Unmarshal(resp.Body, &u)
			if u.Renders >= 2 && u.Bypassed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d usage: %s", i, resp.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	before := rf.site.count("/q3")
	for i := range 3 {
		resp := rf.crawl(i, "/q3")
		if cs := resp.Header.Get("Cache-Status"); cs != "rendercache; fwd=bypass; detail=quota" {
			t.Fatalf("node %d miss over quota: Cache-Status %q", i, cs)
		}
		if resp.Status != 200 || !strings.Contains(string(resp.Body), "<script>fetch(") {
			t.Fatalf("bypass did not serve the origin's page: %d %s", resp.Status, resp.Body)
		}
		// Hits are served regardless of the quota.
		hit := rf.crawl(i, "/q1")
		wantRendered(t, hit, "/q1")
		if cs := hit.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
			t.Fatalf("node %d hit over quota: %q", i, cs)
		}
	}
	if got := rf.site.count("/q3"); got != before+3 {
		t.Fatalf("origin saw %d bypassed requests for /q3, want 3", got-before)
	}
}

func TestCacheAPITenantIsolation(t *testing.T) {
	rf := newRenderFixture(t)
	rf.cached("/mine")
	_, other := rf.account("intruder@example.com", "agency")
	f := rf.f
	cases := []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"list", "GET", "/api/cache/list/www.shop.test", nil, 404, `{"error":"Domain not found"}`},
		{"purge", "POST", "/api/cache/purge", map[string]string{"domain": "www.shop.test"}, 404, `{"error":"Domain not found"}`},
		{"purge path", "POST", "/api/cache/purge", map[string]string{"domain": "www.shop.test", "path": "/mine"}, 404, `{"error":"Domain not found"}`},
		{"refresh", "POST", "/api/cache/refresh", map[string]any{"domain": "www.shop.test"}, 404, `{"error":"Domain not found"}`},
		{"warm", "POST", "/api/cache/warm", map[string]any{"domain": "www.shop.test"}, 404, `{"error":"Domain not found"}`},
		{"usage", "GET", "/api/domains/www.shop.test/usage", nil, 404, `{"error":"Domain not found"}`},
		{"purge all touches only own", "POST", "/api/cache/purge-all", nil, 200, `{"message":"All your domain caches purged","keysDeleted":0}`},
		{"stats of own", "GET", "/api/cache/stats", nil, 200, `{"totalKeys":0,"domainCount":0}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { exactJSON(t, rf.do(f, c.method, c.path, other, c.body), c.status, c.want) })
	}
	// Nothing changed: the page is still cached and listed.
	if cs := rf.crawl(0, "/mine").Header.Get("Cache-Status"); !strings.HasPrefix(cs, "rendercache; hit") {
		t.Fatalf("the owner's page was touched: %q", cs)
	}
	exactJSON(t, rf.do(f, "GET", "/api/cache/list/www.shop.test", rf.key, nil), 200,
		`{"domain":"www.shop.test","cachedPages":1,"pages":[{"path":"/mine","cacheKey":"render:www.shop.test:/mine"}]}`)
}

func TestCacheAPIBadInput(t *testing.T) {
	rf := newRenderFixture(t)
	_, freeKey := rf.account("free@example.com", "free")
	f := rf.f
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		want                    string
	}{
		{"no domain", "POST", "/api/cache/purge", rf.key, map[string]string{}, 400, `{"error":"field \"domain\" is required"}`},
		{"relative path", "POST", "/api/cache/purge", rf.key, map[string]string{"domain": "www.shop.test", "path": "about"}, 400, `{"error":"each path must start with \"/\""}`},
		{"bad refresh path", "POST", "/api/cache/refresh", rf.key, map[string]any{"domain": "www.shop.test", "paths": []string{"x"}}, 400, `{"error":"each path must start with \"/\""}`},
		{"wrong type", "POST", "/api/cache/refresh", rf.key, map[string]any{"domain": "www.shop.test", "paths": "/"}, 400, `{"error":"field \"paths\" must be slice, not string"}`},
		{"unknown field", "POST", "/api/cache/purge", rf.key, map[string]any{"domain": "www.shop.test", "everything": true}, 400, `{"error":"unknown field \"everything\""}`},
		{"plan without API", "GET", "/api/cache/stats", freeKey, nil, 403, `{"error":"API access is available on Agency plans and above"}`},
		{"unknown job", "GET", "/api/cache/jobs/refresh_nope", rf.key, nil, 404, `{"error":"Job not found"}`},
		{"bad sitemap url", "POST", "/api/cache/warm", rf.key, map[string]any{"domain": "www.shop.test", "sitemap": "https://elsewhere.example/sitemap.xml"}, 400, `{"error":"sitemap must be an http(s) URL on the domain or its origin"}`},
		{"missing sitemap", "POST", "/api/cache/warm", rf.key, map[string]any{"domain": "www.shop.test", "sitemap": "https://www.shop.test/nope.xml"}, 400, `{"error":"the sitemap could not be fetched or is not a valid sitemap"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { exactJSON(t, rf.do(f, c.method, c.path, c.key, c.body), c.status, c.want) })
	}
	huge := map[string]string{"domain": strings.Repeat("a", 2<<20)}
	if resp := rf.do(f, "POST", "/api/cache/purge", rf.key, huge); resp.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge body: %d", resp.Status)
	}
}
