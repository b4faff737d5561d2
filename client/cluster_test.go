package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/api"
	"github.com/rendercache/rendercache/client"
	"github.com/rendercache/rendercache/testcluster"
)

// Every method against a real node, whose traffic testcluster checks
// against the contract: the ones the CLI does not use included.
func TestEveryMethodAgainstANode(t *testing.T) {
	cl := testcluster.New(t, 1, testcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := cl.Client()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	if s, err := op.Healthz(ctx); err != nil || s.Status != "ok" {
		t.Fatalf("healthz %+v %v", s, err)
	}
	if s, err := op.Readyz(ctx); err != nil || s.Status != "ready" {
		t.Fatalf("readyz %+v %v", s, err)
	}
	m, err := op.Metrics(ctx)
	if err != nil || !strings.Contains(m, "rendercache_http_requests_total") {
		t.Fatalf("metrics: %v", err)
	}
	y, err := op.OpenAPI(ctx, false)
	if err != nil || string(y) != string(api.YAML()) {
		t.Fatalf("the node serves another /openapi.yaml than it embeds: %v", err)
	}
	j, err := op.OpenAPI(ctx, true)
	want, _ := api.JSON()
	if err != nil || string(j) != string(want) || !json.Valid(j) {
		t.Fatalf("/openapi.json: %v", err)
	}

	acc, err := op.CreateAccount(ctx, "c@example.com", "pro")
	must("create account", err)
	got, err := op.GetAccount(ctx, acc.ID)
	if err != nil || got.Email != "c@example.com" {
		t.Fatalf("get account %+v %v", got, err)
	}
	got, err = op.SetAccountPlan(ctx, acc.ID, "agency")
	if err != nil || got.Plan != "agency" {
		t.Fatalf("set plan %+v %v", got, err)
	}
	if _, err := op.SetAccountPlan(ctx, acc.ID, "gold"); client.StatusOf(err) != 400 {
		t.Fatalf("unknown plan: %v", err)
	}
	k, err := op.AdminCreateKey(ctx, acc.ID, client.NewKey{Name: "script", Roles: []string{"script"}})
	must("admin create key", err)
	user, err := client.New(client.Options{Endpoints: []string{cl.URL(0)}, APIKey: k.Key})
	must("client", err)
	must("create domain", func() error {
		origin := "http://127.0.0.1:9"
		_, err := user.CreateDomain(ctx, "client.test", client.DomainSettings{Origin: &origin})
		return err
	}())
	tok, err := user.CreateWebhookToken(ctx, "client.test", "hook")
	must("webhook token", err)
	r, err := user.WebhookRefresh(ctx, tok.Token, []string{"/a"})
	if err != nil || r.Domain != "client.test" || len(r.Jobs) != 1 {
		t.Fatalf("webhook refresh %+v %v", r, err)
	}
	if _, err := user.WebhookRefresh(ctx, "rk_wh_00000000000000000000000000000000", []string{"/a"}); client.StatusOf(err) != 401 {
		t.Fatalf("bad webhook token: %v", err)
	}
	must("invalidate", user.InvalidateCache(ctx, "render:client.test:/a"))
	if err := user.InvalidateCache(ctx, "nonsense"); client.StatusOf(err) != 400 {
		t.Fatalf("bad cache key: %v", err)
	}
	// This cluster has no renderer: the page is a 503 the client returns
	// as an *Error with its Retry-After.
	_, err = user.Render(ctx, "http://client.test/")
	var e *client.Error
	if !errorAs(err, &e) || e.Status != 503 || e.RetryAfter == 0 {
		t.Fatalf("render without a renderer: %v", err)
	}
	if _, err := user.Render(ctx, "http://other.test/"); client.StatusOf(err) != 404 {
		t.Fatalf("render of another's domain: %v", err)
	}
	must("delete account", op.DeleteAccount(ctx, acc.ID))
	if _, err := op.GetAccount(ctx, acc.ID); client.StatusOf(err) != 404 {
		t.Fatalf("deleted account: %v", err)
	}
}
