package tenants_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestTenantsAPI runs every acceptance check of issue 14 on one 3-node
// cluster (starting one per check would cost the shared machine more than
// the checks), through followers, under the contract check.
func TestTenantsAPI(t *testing.T) {
	fx := newFixture(t)
	t.Run("SeedRoutes", fx.seedRoutes)
	t.Run("Isolation", fx.isolation)
	t.Run("AuditPagination", fx.auditPagination)
	t.Run("Receiver", fx.receiver)
	t.Run("Rotation", fx.rotation)
	// Last: it scans for every secret the others handed out.
	t.Run("NoRawSecretsAtRest", fx.noRawSecrets)
}

func (fx *fixture) seedRoutes(t *testing.T) {
	own := fx.account(t, "owner@seed.test", "pro")
	adm := fx.account(t, "admin@seed.test", "pro")
	free := fx.account(t, "free@seed.test", "free")
	f, g := fx.f, fx.g
	create := map[string]any{"slug": "acme", "cms": map[string]any{"provider": "contentful", "fields": map[string]string{"spaceId": "abc123"}}, "cacheTTL": 300}

	want(t, fx.do(t, f, user{}, "GET", "/api/tenants", nil), 401, "list without a key")
	body := want(t, fx.do(t, f, own, "POST", "/api/tenants", create), 201, "create")
	if body["key"] != "tenant:acme" || body["ok"] != true || body["proxyBase"] != "https://acme.tenants.localhost" {
		t.Fatalf("create: %v", body)
	}
	want(t, fx.do(t, g, own, "POST", "/api/tenants", create), 409, "duplicate slug")
	want(t, fx.do(t, g, own, "POST", "/api/tenants", map[string]any{"slug": "www", "cms": map[string]any{"provider": "generic"}}), 400, "reserved slug")
	want(t, fx.do(t, g, own, "POST", "/api/tenants", map[string]any{"slug": "x", "cms": map[string]any{"provider": "generic"}, "apiOrigin": "ftp://x"}), 400, "bad origin")
	want(t, fx.do(t, f, free, "POST", "/api/tenants", map[string]any{"slug": "free-one", "cms": map[string]any{"provider": "generic"}}), 201, "free plan's first")
	lim := want(t, fx.do(t, g, free, "POST", "/api/tenants", map[string]any{"slug": "free-two", "cms": map[string]any{"provider": "generic"}}), 403, "free plan's second")
	if lim["current"] != 1.0 || lim["allowed"] != 1.0 {
		t.Fatalf("limit body: %v", lim)
	}
	want(t, fx.do(t, g, fx.operator(), "POST", "/api/tenants", create), 403, "operator creates")

	av := want(t, fx.do(t, f, own, "GET", "/api/tenants/slug-availability?slug=acme", nil), 200, "availability")
	if av["available"] != false || av["slug"] != "acme" {
		t.Fatalf("availability: %v", av)
	}
	av = want(t, fx.do(t, g, own, "GET", "/api/tenants/slug-availability?slug=My-Project", nil), 200, "availability")
	if av["available"] != true || av["slug"] != "my-project" {
		t.Fatalf("availability: %v", av)
	}
	want(t, fx.do(t, g, own, "GET", "/api/tenants/slug-availability?slug=-bad-", nil), 400, "invalid slug")
	want(t, fx.do(t, g, own, "GET", "/api/tenants/slug-availability", nil), 400, "no slug")

	list := want(t, fx.do(t, g, own, "GET", "/api/tenants", nil), 200, "list")
	if list["total"] != 1.0 {
		t.Fatalf("list: %v", list)
	}
	got := want(t, fx.do(t, f, own, "GET", "/api/tenants/acme", nil), 200, "get")
	if got["key"] != "tenant:acme" || got["value"].(map[string]any)["cacheTTL"] != 300.0 {
		t.Fatalf("get: %v", got)
	}
	put := want(t, fx.do(t, g, own, "PUT", "/api/tenants/acme", map[string]any{"cacheTTL": 600, "websiteDomain": "www.acme.test"}), 200, "put")
	v := put["value"].(map[string]any)
	if v["cacheTTL"] != 600.0 || v["websiteDomain"] != "www.acme.test" || v["cms"].(map[string]any)["fields"].(map[string]any)["spaceId"] != "abc123" {
		t.Fatalf("put: %v", put)
	}
	want(t, fx.do(t, f, own, "PUT", "/api/tenants/acme", map[string]any{"cacheTTL": -1}), 400, "put invalid")
	want(t, fx.do(t, f, own, "GET", "/api/tenants/nope", nil), 404, "get unknown")

	// Members and invites.
	inv := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/members/invite", map[string]string{"email": adm.email, "role": "admin"}), 201, "invite")
	tok := fx.keep(inv["token"].(string))
	if inv["emailSent"] != false || inv["id"] == nil {
		t.Fatalf("invite: %v", inv)
	}
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/members/invite", map[string]string{"email": "x@seed.test", "role": "boss"}), 400, "bad role")
	want(t, fx.do(t, g, adm, "POST", "/api/invites/accept", map[string]string{"token": tok}), 200, "accept")
	want(t, fx.do(t, f, adm, "POST", "/api/invites/accept", map[string]string{"token": tok}), 404, "accept twice")
	want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/members/invite", map[string]string{"email": "o@seed.test", "role": "owner"}), 403, "admin invites owner")
	ed := want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/members/invite", map[string]string{"email": "ed@seed.test", "role": "editor"}), 201, "admin invites editor")
	fx.keep(ed["token"].(string))
	ms := want(t, fx.do(t, g, adm, "GET", "/api/tenants/acme/members", nil), 200, "members")
	if len(ms["members"].([]any)) != 2 || len(ms["invites"].([]any)) != 1 {
		t.Fatalf("members: %v", ms)
	}
	want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/members/revoke-invite", map[string]any{"inviteId": ed["id"]}), 200, "revoke")
	want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/members/revoke-invite", map[string]any{"inviteId": ed["id"]}), 404, "revoke again")
	want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/members/revoke-invite", map[string]any{"inviteId": "x"}), 400, "revoke bad id")
	want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/members/remove", map[string]string{"userId": adm.id}), 403, "remove self")
	want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/members/remove", map[string]string{"userId": own.id}), 403, "remove last owner")
	want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/members/update-role", map[string]string{"userId": own.id, "role": "viewer"}), 403, "admin demotes owner")
	want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/members/update-role", map[string]string{"userId": "acct_nobody", "role": "viewer"}), 404, "unknown member")
	ur := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/members/update-role", map[string]string{"userId": adm.id, "role": "editor"}), 200, "owner demotes admin")
	if ur["role"] != "editor" || ur["userId"] != adm.id {
		t.Fatalf("update-role: %v", ur)
	}
	if ms := want(t, fx.do(t, g, adm, "GET", "/api/tenants/acme/members", nil), 200, "members as editor"); len(ms["invites"].([]any)) != 0 {
		t.Fatalf("editor sees invites: %v", ms)
	}

	// Cache versions, edge config, secrets, config.
	rv := want(t, fx.do(t, g, adm, "POST", "/api/tenants/acme/refresh-cache", map[string]string{"type": "all"}), 200, "refresh")
	if rv["versions"].(map[string]any)["htmlCacheVersion"] != 2.0 {
		t.Fatalf("refresh: %v", rv)
	}
	want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/refresh-cache", map[string]string{"type": "css"}), 400, "refresh bad type")
	ec := want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/edge-config", nil), 200, "edge-config")
	if kv := ec["kv"].(map[string]any); kv["exists"] != true || kv["publicOrigin"] != "https://www.acme.test" {
		t.Fatalf("edge-config: %v", ec)
	}
	s1 := fx.keep(want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/webhook-secret", nil), 200, "webhook-secret")["secret"].(string))
	if s := want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/webhook-secret", nil), 200, "webhook-secret again")["secret"]; s != s1 {
		t.Fatal("POST webhook-secret is not idempotent")
	}
	want(t, fx.do(t, g, adm, "PUT", "/api/tenants/acme/webhook-secret", nil), 403, "editor rotates")
	wh := want(t, fx.do(t, g, user{}, "POST", "/api/tenants/acme/webhook?secret="+s1, `{"any":"payload"}`), 200, "webhook")
	if wh["htmlCacheVersion"] != 3.0 || wh["ok"] != true {
		t.Fatalf("webhook: %v", wh)
	}
	want(t, fx.do(t, f, user{}, "POST", "/api/tenants/acme/webhook", nil), 401, "webhook without secret")
	want(t, fx.do(t, f, user{}, "POST", "/api/tenants/acme/webhook?secret=whsec_wrong", nil), 401, "webhook wrong secret")
	want(t, fx.do(t, f, user{}, "POST", "/api/tenants/nope/webhook?secret=x", nil), 404, "webhook unknown tenant")
	want(t, fx.do(t, f, free, "POST", "/api/tenants/free-one/webhook?secret=x", nil), 403, "webhook not configured")
	cfg := want(t, fx.do(t, f, adm, "PUT", "/api/tenants/acme/api-config", map[string]any{"apiOrigin": "http://127.0.0.1:9", "apiAuthMode": "header", "apiAuthParam": "X-Key", "apiCacheTTL": 60}), 200, "api-config")
	if cfg["apiAuthParam"] != "X-Key" || cfg["apiTokenSet"] != false {
		t.Fatalf("api-config: %v", cfg)
	}
	want(t, fx.do(t, f, adm, "PUT", "/api/tenants/acme/api-config", map[string]any{"apiAuthMode": "magic"}), 400, "api-config invalid")
	tokenValue := fx.keep("cms-token-" + strings.Repeat("z", 24))
	want(t, fx.do(t, g, adm, "PUT", "/api/tenants/acme/api-token", map[string]string{"token": tokenValue}), 200, "api-token")
	want(t, fx.do(t, g, adm, "PUT", "/api/tenants/acme/api-token", map[string]string{}), 400, "api-token missing")
	if got := fx.do(t, f, adm, "GET", "/api/tenants/acme", nil); strings.Contains(string(got.Body), tokenValue) || !strings.Contains(string(got.Body), `"apiTokenSet":true`) {
		t.Fatalf("token shown or not set: %s", got.Body)
	}

	// Cache-refresh webhooks.
	want(t, fx.do(t, f, adm, "POST", "/api/tenants/acme/cache-refresh-webhooks", map[string]string{"provider": "contentful"}), 403, "editor creates webhook")
	cr := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/cache-refresh-webhooks", map[string]string{"provider": "contentful"}), 201, "create webhook")
	fx.keep(cr["secret"].(string))
	id := cr["webhook"].(map[string]any)["id"].(string)
	if !strings.HasPrefix(cr["url"].(string), fx.c.URL(f)+"/api/webhooks/cache-refresh/"+id+"/whsec_") {
		t.Fatalf("url %v", cr["url"])
	}
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/cache-refresh-webhooks", map[string]string{"provider": "wix"}), 400, "bad provider")
	hl := fx.do(t, g, adm, "GET", "/api/tenants/acme/cache-refresh-webhooks", nil)
	if want(t, hl, 200, "list webhooks"); strings.Contains(strings.ToLower(string(hl.Body)), "secret") || strings.Contains(string(hl.Body), "hash") {
		t.Fatalf("list shows a secret: %s", hl.Body)
	}
	path := strings.TrimPrefix(cr["url"].(string), fx.c.URL(f))
	rc := want(t, fx.do(t, g, user{}, "POST", path, `{"sys":{}}`), 200, "receive")
	if rc["refreshed"] != true {
		t.Fatalf("receive: %v", rc)
	}
	evs := want(t, fx.do(t, f, adm, "GET", "/api/tenants/acme/cache-refresh-webhooks/"+id+"/events", nil), 200, "events")
	if len(evs["events"].([]any)) != 1 {
		t.Fatalf("events: %v", evs)
	}
	rg := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/cache-refresh-webhooks/"+id+"/regenerate", nil), 200, "regenerate")
	fx.keep(rg["secret"].(string))
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/cache-refresh-webhooks/whk_000000000000000000000000/regenerate", nil), 404, "regenerate unknown")
	want(t, fx.do(t, g, own, "DELETE", "/api/tenants/acme/cache-refresh-webhooks/"+id, nil), 200, "delete webhook")
	want(t, fx.do(t, f, own, "DELETE", "/api/tenants/acme/cache-refresh-webhooks/"+id, nil), 404, "delete webhook again")
	if evs := want(t, fx.do(t, f, adm, "GET", "/api/tenants/acme/cache-refresh-webhooks/"+id+"/events", nil), 200, "events after delete"); len(evs["events"].([]any)) != 1 {
		t.Fatalf("events after delete: %v", evs)
	}

	// A viewer reads, and gets 403 on every write; bodies that fail
	// validation are 400 whoever sends them.
	vw := fx.account(t, "viewer@seed.test", "pro")
	vi := want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/members/invite", map[string]string{"email": vw.email, "role": "viewer"}), 201, "invite viewer")
	want(t, fx.do(t, g, vw, "POST", "/api/invites/accept", map[string]string{"token": fx.keep(vi["token"].(string))}), 200, "viewer accepts")
	want(t, fx.do(t, f, vw, "GET", "/api/tenants/acme/audit-events", nil), 200, "viewer reads audit")
	for _, r := range []route{
		{"PUT", "/api/tenants/acme", map[string]any{"cacheTTL": 1}},
		{"POST", "/api/tenants/acme/refresh-cache", map[string]string{"type": "api"}},
		{"POST", "/api/tenants/acme/edge-config", nil},
		{"POST", "/api/tenants/acme/webhook-secret", nil},
		{"PUT", "/api/tenants/acme/api-config", map[string]any{"apiAuthMode": "none"}},
		{"PUT", "/api/tenants/acme/api-token", map[string]string{"token": "t"}},
		{"GET", "/api/tenants/acme/cache-refresh-webhooks", nil},
		{"GET", "/api/tenants/acme/cache-refresh-webhooks/" + id + "/events", nil},
		{"POST", "/api/tenants/acme/members/invite", map[string]string{"email": "v2@seed.test", "role": "viewer"}},
		{"POST", "/api/tenants/acme/members/update-role", map[string]string{"userId": adm.id, "role": "viewer"}},
		{"DELETE", "/api/tenants/acme", nil},
	} {
		want(t, fx.do(t, []int{f, g}[len(r.path)%2], vw, r.method, r.path, r.body), 403, "viewer "+r.method+" "+r.path)
	}
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/members/remove", map[string]string{}), 400, "remove without userId")
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/members/update-role", map[string]string{"userId": vw.id, "role": "root"}), 400, "update-role bad role")
	want(t, fx.do(t, g, own, "POST", "/api/tenants/acme/members/update-role", map[string]string{"role": "admin"}), 400, "update-role without userId")
	want(t, fx.do(t, f, own, "POST", "/api/tenants/acme/cache-refresh-webhooks", map[string]any{"provider": "generic", "extra": 1}), 400, "webhook unknown field")

	au := want(t, fx.do(t, g, adm, "GET", "/api/tenants/acme/audit-events?limit=200", nil), 200, "audit")
	if len(au["events"].([]any)) < 15 || au["hasMore"] != false {
		t.Fatalf("audit: %d events, %v", len(au["events"].([]any)), au["hasMore"])
	}
	want(t, fx.do(t, g, adm, "GET", "/api/tenants/acme/audit-events?limit=201", nil), 400, "audit bad limit")

	want(t, fx.do(t, f, adm, "DELETE", "/api/tenants/acme", nil), 403, "editor deletes")
	del := want(t, fx.do(t, g, own, "DELETE", "/api/tenants/acme", nil), 200, "delete")
	if del["key"] != "tenant:acme" {
		t.Fatalf("delete: %v", del)
	}
	want(t, fx.do(t, f, own, "GET", "/api/tenants/acme", nil), 404, "get deleted")
}

// route is one tenant route with a body a member could send.
type route struct {
	method, path string
	body         any
}

func tenantRoutes(slug string) []route {
	p := "/api/tenants/" + slug
	hook := p + "/cache-refresh-webhooks/whk_000000000000000000000000"
	return []route{
		{"GET", p, nil},
		{"PUT", p, map[string]any{"cacheTTL": 5}},
		{"GET", p + "/members", nil},
		{"POST", p + "/members/invite", map[string]string{"email": "iso@iso.test", "role": "viewer"}},
		{"POST", p + "/members/remove", map[string]string{"userId": "acct_x"}},
		{"POST", p + "/members/revoke-invite", map[string]any{"inviteId": 1}},
		{"POST", p + "/members/update-role", map[string]string{"userId": "acct_x", "role": "viewer"}},
		{"GET", p + "/audit-events", nil},
		{"POST", p + "/refresh-cache", map[string]string{"type": "api"}},
		{"POST", p + "/edge-config", nil},
		{"POST", p + "/webhook-secret", nil},
		{"PUT", p + "/webhook-secret", nil},
		{"PUT", p + "/api-config", map[string]any{"apiAuthMode": "none"}},
		{"PUT", p + "/api-token", map[string]string{"token": "t"}},
		{"GET", p + "/cache-refresh-webhooks", nil},
		{"POST", p + "/cache-refresh-webhooks", map[string]string{"provider": "generic"}},
		{"GET", hook + "/events", nil},
		{"POST", hook + "/regenerate", nil},
		{"DELETE", hook, nil},
		{"DELETE", p, nil}, // last: the operator deletes it
	}
}

// isolation: a non-member gets the same 404 on every route of a tenant
// that exists as of one that does not; the operator's token works on all.
func (fx *fixture) isolation(t *testing.T) {
	own := fx.account(t, "owner@iso.test", "pro")
	stranger := fx.account(t, "stranger@iso.test", "pro")
	want(t, fx.do(t, fx.f, own, "POST", "/api/tenants", map[string]any{"slug": "iso", "cms": map[string]any{"provider": "generic"}}), 201, "create")
	for _, slug := range []string{"iso", "iso-missing"} {
		for _, r := range tenantRoutes(slug) {
			resp := fx.do(t, fx.g, stranger, r.method, r.path, r.body)
			if resp.Status != 404 || !strings.Contains(string(resp.Body), "tenant not found") {
				t.Errorf("stranger %s %s: %s", r.method, r.path, resp)
			}
		}
	}
	if l := want(t, fx.do(t, fx.f, stranger, "GET", "/api/tenants", nil), 200, "stranger list"); l["total"] != 0.0 {
		t.Errorf("stranger lists %v", l)
	}
	for _, r := range tenantRoutes("iso") {
		resp := fx.do(t, fx.f, fx.operator(), r.method, r.path, r.body)
		// The operator passes authorization everywhere: what is left is
		// the target's own 404 (no such member, invite or webhook).
		if resp.Status >= 300 && !(resp.Status == 404 && !strings.Contains(string(resp.Body), "tenant not found")) {
			t.Errorf("operator %s %s: %s", r.method, r.path, resp)
		}
		if r.method == "POST" && strings.HasSuffix(r.path, "/members/invite") && resp.Status == 201 {
			fx.keep(resp.JSON()["token"].(string))
		}
		if strings.HasSuffix(r.path, "webhook-secret") || strings.HasSuffix(r.path, "/cache-refresh-webhooks") && r.method == "POST" {
			if s, ok := resp.JSON()["secret"].(string); ok {
				fx.keep(s)
			}
		}
	}
}

// auditPagination pages audit events through two followers while a
// writer adds events: ids strictly fall, and every event at or below the
// first page's newest is seen exactly once.
func (fx *fixture) auditPagination(t *testing.T) {
	own := fx.account(t, "owner@audit.test", "pro")
	want(t, fx.do(t, fx.f, own, "POST", "/api/tenants", map[string]any{"slug": "audit", "cms": map[string]any{"provider": "generic"}}), 201, "create")
	for i := range 30 {
		want(t, fx.do(t, []int{fx.f, fx.g}[i%2], own, "POST", "/api/tenants/audit/refresh-cache", map[string]string{"type": "api"}), 200, "refresh")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := send(fx.ctx, fx.c.URL(fx.f), "POST", "/api/tenants/audit/refresh-cache", own.key, nil, map[string]string{"type": "html"})
			if err != nil || resp.Status != 200 {
				t.Errorf("concurrent write: %v %v", resp, err)
				return
			}
		}
	}()
	var ids []float64
	before := ""
	for page := 0; ; page++ {
		au := want(t, fx.do(t, []int{fx.f, fx.g}[page%2], own, "GET", "/api/tenants/audit/audit-events?limit=4"+before, nil), 200, "page")
		evs := au["events"].([]any)
		for _, e := range evs {
			id := e.(map[string]any)["id"].(float64)
			if len(ids) > 0 && id >= ids[len(ids)-1] {
				t.Fatalf("id %v after %v", id, ids[len(ids)-1])
			}
			ids = append(ids, id)
		}
		if au["hasMore"] != true {
			break
		}
		before = fmt.Sprintf("&beforeId=%d", int64(ids[len(ids)-1]))
	}
	close(stop)
	wg.Wait()
	all := want(t, fx.do(t, fx.g, own, "GET", fmt.Sprintf("/api/tenants/audit/audit-events?limit=200&beforeId=%d", int64(ids[0])+1), nil), 200, "all")
	evs := all["events"].([]any)
	if len(evs) != len(ids) {
		t.Fatalf("paged %d events, %d exist at or below %v", len(ids), len(evs), ids[0])
	}
	for i, e := range evs {
		if e.(map[string]any)["id"].(float64) != ids[i] {
			t.Fatalf("event %d differs", i)
		}
	}
}

// receiver: every auth failure is the same 404 body; 413 past 64 KiB; the
// providers' event types are recorded.
func (fx *fixture) receiver(t *testing.T) {
	own := fx.account(t, "owner@recv.test", "pro")
	want(t, fx.do(t, fx.f, own, "POST", "/api/tenants", map[string]any{"slug": "recv", "cms": map[string]any{"provider": "generic"}}), 201, "create")
	hooks := map[string]map[string]any{}
	for _, p := range []string{"contentful", "prismic", "storyblok", "generic"} {
		cr := want(t, fx.do(t, fx.g, own, "POST", "/api/tenants/recv/cache-refresh-webhooks", map[string]string{"provider": p}), 201, "create "+p)
		fx.keep(cr["secret"].(string))
		hooks[p] = cr
	}
	pathOf := func(p string) string { return strings.TrimPrefix(hooks[p]["url"].(string), fx.c.URL(fx.g)) }
	idOf := func(p string) string { return hooks[p]["webhook"].(map[string]any)["id"].(string) }
	// A disabled webhook: delete one and keep its URL.
	gone := want(t, fx.do(t, fx.g, own, "POST", "/api/tenants/recv/cache-refresh-webhooks", map[string]string{"provider": "generic"}), 201, "create doomed")
	fx.keep(gone["secret"].(string))
	gonePath := strings.TrimPrefix(gone["url"].(string), fx.c.URL(fx.g))
	want(t, fx.do(t, fx.f, own, "DELETE", "/api/tenants/recv/cache-refresh-webhooks/"+gone["webhook"].(map[string]any)["id"].(string), nil), 200, "delete doomed")

	fails := map[string]string{
		"unknown id":     "/api/webhooks/cache-refresh/whk_000000000000000000000000/" + hooks["generic"]["secret"].(string),
		"malformed id":   "/api/webhooks/cache-refresh/nothing/whsec_x",
		"wrong secret":   "/api/webhooks/cache-refresh/" + idOf("generic") + "/" + hooks["prismic"]["secret"].(string),
		"short secret":   "/api/webhooks/cache-refresh/" + idOf("generic") + "/whsec_short",
		"deleted":        gonePath,
		"other's secret": "/api/webhooks/cache-refresh/" + idOf("prismic") + "/" + hooks["generic"]["secret"].(string),
	}
	var bodies []string
	for name, p := range fails {
		for _, i := range []int{fx.f, fx.g} {
			resp := fx.do(t, i, user{}, "POST", p, `{"type":"x"}`)
			if resp.Status != 404 {
				t.Errorf("%s: %s", name, resp)
			}
			bodies = append(bodies, string(resp.Body))
		}
	}
	sort.Strings(bodies)
	if bodies[0] != bodies[len(bodies)-1] {
		t.Errorf("404 bodies differ: %q vs %q", bodies[0], bodies[len(bodies)-1])
	}
	big := bytes.Repeat([]byte("a"), 64<<10)
	plain := http.Header{"Content-Type": {"text/plain"}}
	for _, c := range []struct {
		body   []byte
		status int
	}{{big, 200}, {append(big, 'a'), 413}} {
		resp, err := send(fx.ctx, fx.c.URL(fx.f), "POST", pathOf("generic"), "", plain, c.body)
		if err != nil || resp.Status != c.status {
			t.Fatalf("body of %d bytes: %v %v, want %d", len(c.body), resp, err, c.status)
		}
	}
	hdr := http.Header{"X-Contentful-Topic": {"ContentManagement.Entry.publish"}}
	resp, err := send(fx.ctx, fx.c.URL(fx.g), "POST", pathOf("contentful"), "", hdr, `{}`)
	if err != nil || resp.Status != 200 {
		t.Fatalf("contentful: %v %v", resp, err)
	}
	want(t, fx.do(t, fx.g, user{}, "POST", pathOf("prismic"), `{"type":"api-update"}`), 200, "prismic")
	want(t, fx.do(t, fx.f, user{}, "POST", pathOf("storyblok"), `{"action":"published","story_id":1}`), 200, "storyblok")
	for p, wantType := range map[string]string{"contentful": "ContentManagement.Entry.publish", "prismic": "api-update", "storyblok": "published", "generic": ""} {
		evs := want(t, fx.do(t, fx.g, own, "GET", "/api/tenants/recv/cache-refresh-webhooks/"+idOf(p)+"/events", nil), 200, "events")["events"].([]any)
		if len(evs) == 0 || evs[0].(map[string]any)["eventType"] != wantType {
			t.Errorf("%s events: %v, want type %q", p, evs, wantType)
		}
	}
}

// rotation: after a rotate or regenerate answers 2xx, the old secret fails
// on every node, each time, in a loop.
func (fx *fixture) rotation(t *testing.T) {
	own := fx.account(t, "owner@rot.test", "pro")
	want(t, fx.do(t, fx.f, own, "POST", "/api/tenants", map[string]any{"slug": "rot", "cms": map[string]any{"provider": "generic"}}), 201, "create")
	old := fx.keep(want(t, fx.do(t, fx.g, own, "POST", "/api/tenants/rot/webhook-secret", nil), 200, "secret")["secret"].(string))
	cr := want(t, fx.do(t, fx.f, own, "POST", "/api/tenants/rot/cache-refresh-webhooks", map[string]string{"provider": "generic"}), 201, "hook")
	oldURL := strings.TrimPrefix(fx.keep(cr["url"].(string)), fx.c.URL(fx.f))
	fx.keep(cr["secret"].(string))
	id := cr["webhook"].(map[string]any)["id"].(string)
	for round := range 5 {
		at := []int{fx.f, fx.g}[round%2]
		next := fx.keep(want(t, fx.do(t, at, own, "PUT", "/api/tenants/rot/webhook-secret", nil), 200, "rotate")["secret"].(string))
		rg := want(t, fx.do(t, at, own, "POST", "/api/tenants/rot/cache-refresh-webhooks/"+id+"/regenerate", nil), 200, "regenerate")
		fx.keep(rg["secret"].(string))
		nextURL := strings.TrimPrefix(rg["url"].(string), fx.c.URL(at))
		for i := range fx.c.Size() {
			want(t, fx.do(t, i, user{}, "POST", "/api/tenants/rot/webhook?secret="+old, nil), 401, fmt.Sprintf("round %d: old webhook secret on node %d", round, i))
			want(t, fx.do(t, i, user{}, "POST", oldURL, nil), 404, fmt.Sprintf("round %d: old receiver URL on node %d", round, i))
		}
		want(t, fx.do(t, fx.g, user{}, "POST", "/api/tenants/rot/webhook?secret="+next, nil), 200, "new webhook secret")
		want(t, fx.do(t, fx.f, user{}, "POST", nextURL, nil), 200, "new receiver URL")
		old, oldURL = next, nextURL
	}
}

// noRawSecrets scans every node's data dir (Pebble, raft snapshots) and
// the logs for every raw secret and token the other checks handed out.
func (fx *fixture) noRawSecrets(t *testing.T) {
	fx.mu.Lock()
	secrets := append([]string(nil), fx.secrets...)
	fx.mu.Unlock()
	if len(secrets) < 20 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	var needles [][]byte
	for _, s := range secrets {
		if len(s) < 20 {
			t.Fatalf("secret %q too short to scan for", s)
		}
		// The random part alone too, so a secret stored without its
		// prefix is found as well.
		needles = append(needles, []byte(s), []byte(s[len(s)-20:]))
	}
	files := 0
	err := filepath.Walk(fx.dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("raw secret %.12s… in %s", n, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 6 {
		t.Fatalf("scanned only %d files under %s", files, fx.dir)
	}
	logs := []byte(fx.logs.String())
	if len(logs) == 0 {
		t.Fatal("no logs captured")
	}
	for _, n := range needles {
		if bytes.Contains(logs, n) {
			t.Errorf("raw secret %.12s… in the logs", n)
		}
	}
}
