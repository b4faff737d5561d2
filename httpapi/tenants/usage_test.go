package tenants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/tenanttraffic"
)

// trafficTenant is the slug the traffic test serves; leak is a secret a
// client puts in a query string, which no log entry may hold.
const (
	trafficTenant = "trafficco"
	leak          = "leak-me-7c1f"
)

// served is what the test's clients saw, the truth the API must match.
type served struct {
	requests, bytes                  map[string]int64 // by surface
	hits, misses, bypass, s2xx, s4xx map[string]int64
	nodes                            map[string]bool
	paths                            map[string]int64
}

func newServed() *served {
	m := func() map[string]int64 { return map[string]int64{} }
	return &served{requests: m(), bytes: m(), hits: m(), misses: m(), bypass: m(), s2xx: m(), s4xx: m(), nodes: map[string]bool{}, paths: m()}
}

// TestTenantTraffic serves a tenant from all three nodes and reads its
// usage, analytics, bandwidth and logs through a follower.
func TestTenantTraffic(t *testing.T) {
	fx := newFixture(t)
	owner := fx.account(t, "traffic-owner@example.com", "agency")
	other := fx.account(t, "traffic-other@example.com", "agency")
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.Error(w, "no such page", http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<p>page %s</p>", r.URL.Path)
	}))
	defer site.Close()
	cms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items":[1,2,3],"path":%q}`, r.URL.Path)
	}))
	defer cms.Close()
	p := "/api/tenants/" + trafficTenant
	want(t, fx.do(t, fx.f, owner, "POST", "/api/tenants", map[string]any{"slug": trafficTenant, "cms": map[string]any{"provider": "generic"}, "websiteOrigin": site.URL}), 201, "create tenant")
	want(t, fx.do(t, fx.f, owner, "PUT", p+"/api-config", map[string]any{"apiOrigin": cms.URL, "apiAuthMode": "bearer", "apiCacheTTL": 600}), 200, "api-config")
	want(t, fx.do(t, fx.f, owner, "PUT", p+"/api-token", map[string]string{"token": "cms-token-3d9e"}), 200, "api-token")
	if err := fx.c.WaitConverged(fx.ctx); err != nil {
		t.Fatal(err)
	}

	truth := newServed()
	for i := range 3 {
		for _, path := range []string{"/about", "/about", "/missing", "/~api/items?access_token=" + leak, "/~api/items", "/~api/items?x=1"} {
			truth.serve(t, fx, i, path)
		}
	}
	if len(truth.nodes) != 3 {
		t.Fatalf("served by %v, want all three nodes", truth.nodes)
	}

	t.Run("Analytics", func(t *testing.T) { truth.checkAnalytics(t, fx, owner) })
	t.Run("Usage", func(t *testing.T) { truth.checkUsage(t, fx, owner) })
	t.Run("BandwidthDaily", func(t *testing.T) { truth.checkBandwidth(t, fx, owner) })
	t.Run("TenantsUsage", func(t *testing.T) { truth.checkOverview(t, fx, owner, other) })
	t.Run("LogsGatheredPagedFiltered", func(t *testing.T) { truth.checkLogs(t, fx, owner) })
	t.Run("BadQueries400", func(t *testing.T) { badQueries(t, fx, owner) })
	t.Run("OtherAccount404", func(t *testing.T) {
		for _, r := range []string{"/usage", "/analytics", "/bandwidth-daily", "/logs"} {
			want(t, fx.do(t, fx.g, other, "GET", p+r, nil), 404, "other account's "+r)
			want(t, fx.do(t, fx.g, owner, "GET", "/api/tenants/no-such-tenant"+r, nil), 404, "unknown tenant "+r)
		}
	})
}

// serve asks node i for path on the tenant's host and records what came
// back.
func (s *served) serve(t *testing.T, fx *fixture, i int, path string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(fx.ctx, "GET", fx.c.URL(i)+path, nil)
	req.Host = trafficTenant + ".tenants.localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	surface := tenanttraffic.SurfaceWebsite
	bare, _, _ := strings.Cut(path, "?")
	if strings.HasPrefix(path, "/~api/") {
		surface = tenanttraffic.SurfaceAPI
	}
	s.requests[surface]++
	s.bytes[surface] += int64(len(body))
	s.paths[bare]++
	switch resp.Header.Get("X-Cachely-Cache") {
	case "HIT":
		s.hits[surface]++
	case "MISS":
		s.misses[surface]++
	case "BYPASS":
		s.bypass[surface]++
	default:
		t.Fatalf("%s: x-cachely-cache %q", path, resp.Header.Get("X-Cachely-Cache"))
	}
	switch resp.StatusCode / 100 {
	case 2:
		s.s2xx[surface]++
	case 4:
		s.s4xx[surface]++
	default:
		t.Fatalf("%s on node %d: %d %s", path, i, resp.StatusCode, body)
	}
	s.nodes[resp.Header.Get("X-Cachely-Node")] = true
}

func (s *served) total() int64 { return s.requests["api"] + s.requests["website"] }

// get reads path as u through a follower into out.
func get(t *testing.T, fx *fixture, u user, path string, out any) {
	t.Helper()
	resp := fx.do(t, fx.f, u, "GET", path, nil)
	want(t, resp, 200, path)
	if err := json.Unmarshal(resp.Body, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// poll reads path until done accepts it: other nodes' counts arrive
// with their next report.
func poll[T any](t *testing.T, fx *fixture, u user, path string, done func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(fx.ctx, 30*time.Second)
	defer cancel()
	for {
		var v T
		get(t, fx, u, path, &v)
		if done(v) {
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never complete: %+v", path, v)
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
}

func (s *served) figures(t *testing.T, what, surface string, f tenanttraffic.Figures) {
	t.Helper()
	w := tenanttraffic.Figures{Requests: s.requests[surface], Hits: s.hits[surface], Misses: s.misses[surface], Bypass: s.bypass[surface],
		Bytes: s.bytes[surface], Status: tenanttraffic.StatusCounts{S2xx: s.s2xx[surface], S4xx: s.s4xx[surface]}}
	w.HitRate = float64(w.Hits) / float64(w.Requests)
	if f != w {
		t.Errorf("%s %s: %+v, want %+v", what, surface, f, w)
	}
}

func (s *served) checkAnalytics(t *testing.T, fx *fixture, owner user) {
	a := poll(t, fx, owner, "/api/tenants/"+trafficTenant+"/analytics", func(a tenanttraffic.Analytics) bool { return a.Total.Requests == s.total() })
	if a.Period != "month" || a.Total.Bytes != s.bytes["api"]+s.bytes["website"] {
		t.Fatalf("analytics %+v", a)
	}
	s.figures(t, "analytics", "api", a.API.Figures)
	s.figures(t, "analytics", "website", a.Website.Figures)
	if len(a.API.TopPaths) != 1 || a.API.TopPaths[0] != (tenanttraffic.PathCount{Path: "/~api/items", Requests: s.paths["/~api/items"]}) {
		t.Errorf("api top paths %+v", a.API.TopPaths)
	}
	wantSite := []tenanttraffic.PathCount{{Path: "/about", Requests: 6}, {Path: "/missing", Requests: 3}}
	if fmt.Sprint(a.Website.TopPaths) != fmt.Sprint(wantSite) {
		t.Errorf("website top paths %+v, want %+v", a.Website.TopPaths, wantSite)
	}
	for _, period := range []string{"day", "week"} {
		var d tenanttraffic.Analytics
		get(t, fx, owner, "/api/tenants/"+trafficTenant+"/analytics?period="+period, &d)
		if d.Total != a.Total || string(d.Period) != period {
			t.Errorf("period %s: %+v, want the month's %+v", period, d.Total, a.Total)
		}
	}
}

func (s *served) checkUsage(t *testing.T, fx *fixture, owner user) {
	u := poll(t, fx, owner, "/api/tenants/"+trafficTenant+"/usage", func(u tenanttraffic.Usage) bool { return u.Current.Requests == s.total() })
	now := time.Now().UTC()
	if u.Period != "month" || u.Previous.Requests != 0 || u.Current.Start != now.Format("2006-01")+"-01" {
		t.Fatalf("usage %+v", u)
	}
	s.figures(t, "usage", "api", u.Current.API)
	s.figures(t, "usage", "website", u.Current.Website)
	var d tenanttraffic.Usage
	get(t, fx, owner, "/api/tenants/"+trafficTenant+"/usage?period=day", &d)
	if d.Current.Requests != s.total() || d.Current.Start != now.Format(time.DateOnly) || d.Previous.End != now.AddDate(0, 0, -1).Format(time.DateOnly) {
		t.Errorf("day usage %+v", d)
	}
}

func (s *served) checkBandwidth(t *testing.T, fx *fixture, owner user) {
	today := time.Now().UTC().Format(time.DateOnly)
	total := s.bytes["api"] + s.bytes["website"]
	b := poll(t, fx, owner, "/api/tenants/"+trafficTenant+"/bandwidth-daily", func(b tenanttraffic.Bandwidth) bool { return b.TotalBytes == total })
	if len(b.Points) != tenanttraffic.BandwidthDefaultDays || b.To != today {
		t.Fatalf("bandwidth %d points to %s", len(b.Points), b.To)
	}
	last := b.Points[len(b.Points)-1]
	w := tenanttraffic.Point{Date: today, Bytes: total, Requests: s.total(), APIBytes: s.bytes["api"], WebsiteBytes: s.bytes["website"]}
	if last != w {
		t.Errorf("today %+v, want %+v", last, w)
	}
	for _, p := range b.Points[:len(b.Points)-1] {
		if p.Bytes != 0 || p.Requests != 0 {
			t.Errorf("day %s has traffic %+v", p.Date, p)
		}
	}
	var one tenanttraffic.Bandwidth
	get(t, fx, owner, "/api/tenants/"+trafficTenant+"/bandwidth-daily?from="+today+"&to="+today, &one)
	if len(one.Points) != 1 || one.Points[0] != w {
		t.Errorf("one day %+v", one)
	}
}

func (s *served) checkOverview(t *testing.T, fx *fixture, owner, other user) {
	o := poll(t, fx, owner, "/api/tenants/usage", func(o tenanttraffic.Overview) bool { return o.Total.Requests == s.total() })
	if len(o.Tenants) != 1 || o.Tenants[0].Slug != trafficTenant || o.Tenants[0].Requests != s.total() || o.Tenants[0].Bytes != s.bytes["api"]+s.bytes["website"] {
		t.Fatalf("owner's overview %+v", o)
	}
	var none tenanttraffic.Overview
	get(t, fx, other, "/api/tenants/usage?period=week", &none)
	if len(none.Tenants) != 0 || none.Total.Requests != 0 || none.Period != "week" {
		t.Fatalf("other account sees %+v", none)
	}
	var all tenanttraffic.Overview
	get(t, fx, fx.operator(), "/api/tenants/usage", &all)
	found := false
	for _, tu := range all.Tenants {
		found = found || tu.Slug == trafficTenant && tu.Requests == s.total()
	}
	if !found {
		t.Fatalf("operator's overview lacks the tenant: %+v", all)
	}
}

func (s *served) checkLogs(t *testing.T, fx *fixture, owner user) {
	base := "/api/tenants/" + trafficTenant + "/logs"
	full := poll(t, fx, owner, base+"?limit=200", func(p tenanttraffic.LogPage) bool { return int64(len(p.Entries)) == s.total() })
	if full.HasMore || full.NextCursor != nil || full.Nodes != 3 || len(full.Missing) != 0 {
		t.Fatalf("full page: hasMore %v cursor %v nodes %d missing %v", full.HasMore, full.NextCursor, full.Nodes, full.Missing)
	}
	nodes := map[string]bool{}
	for i, e := range full.Entries {
		nodes[e.Node] = true
		if strings.Contains(e.Path, "?") || strings.Contains(e.Path, leak) {
			t.Fatalf("entry keeps a query: %+v", e)
		}
		if i > 0 && e.Time.After(full.Entries[i-1].Time) {
			t.Fatalf("entries not newest first at %d", i)
		}
	}
	if len(nodes) != 3 {
		t.Fatalf("entries from %v, want all three nodes", nodes)
	}
	resp := fx.do(t, fx.f, owner, "GET", base+"?limit=200", nil)
	if strings.Contains(string(resp.Body), leak) {
		t.Fatal("the query secret is in the logs answer")
	}
	// Pages of 5 visit every entry once, in the same order.
	var ids []string
	cursor := ""
	for {
		var page tenanttraffic.LogPage
		get(t, fx, owner, base+"?limit=5&cursor="+url.QueryEscape(cursor), &page)
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == nil {
			if page.HasMore {
				t.Fatal("hasMore without a cursor")
			}
			break
		}
		cursor = *page.NextCursor
	}
	if len(ids) != len(full.Entries) {
		t.Fatalf("paged %d entries, want %d", len(ids), len(full.Entries))
	}
	for i, e := range full.Entries {
		if ids[i] != e.ID {
			t.Fatalf("page order differs at %d", i)
		}
	}
	for _, f := range []struct {
		q     string
		n     int64
		match func(tenanttraffic.Entry) bool
	}{
		{"status=4xx", s.s4xx["website"], func(e tenanttraffic.Entry) bool { return e.Status == 404 }},
		{"status=404", s.s4xx["website"], func(e tenanttraffic.Entry) bool { return e.Status == 404 }},
		{"surface=api", s.requests["api"], func(e tenanttraffic.Entry) bool { return e.Surface == "api" && e.Path == "/~api/items" }},
		{"surface=website&status=2xx", s.s2xx["website"], func(e tenanttraffic.Entry) bool { return e.Surface == "website" && e.Path == "/about" }},
	} {
		var page tenanttraffic.LogPage
		get(t, fx, owner, base+"?limit=200&"+f.q, &page)
		if int64(len(page.Entries)) != f.n {
			t.Errorf("%s: %d entries, want %d", f.q, len(page.Entries), f.n)
		}
		for _, e := range page.Entries {
			if !f.match(e) {
				t.Errorf("%s: entry %+v", f.q, e)
			}
		}
	}
}

func badQueries(t *testing.T, fx *fixture, owner user) {
	p := "/api/tenants/" + trafficTenant
	for _, q := range []string{
		"/api/tenants/usage?period=year",
		p + "/usage?period=7d",
		p + "/analytics?period=quarter",
		p + "/bandwidth-daily?from=2026-13-01",
		p + "/bandwidth-daily?from=2026-03-02&to=2026-03-01",
		p + "/bandwidth-daily?from=2026-01-01&to=2026-06-01",
		p + "/bandwidth-daily?to=tomorrow",
		p + "/logs?limit=0",
		p + "/logs?limit=201",
		p + "/logs?status=abc",
		p + "/logs?status=600",
		p + "/logs?surface=cdn",
		p + "/logs?cursor=bm90LWEtY3Vyc29y",
	} {
		resp := fx.do(t, fx.f, owner, "GET", q, nil)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), `"error"`) {
			t.Errorf("%s: %s, want 400 with an error body", q, resp)
		}
	}
}
