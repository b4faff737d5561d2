package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Health, metrics and the contract.

// Healthz reports whether the node's process runs.
func (c *Client) Healthz(ctx context.Context) (Status, error) {
	var s Status
	return s, c.call(ctx, request{method: http.MethodGet, path: "/healthz"}, &s)
}

// Readyz reports whether the node knows a leader and has caught up; a
// node that is not ready answers an *Error with status 503.
func (c *Client) Readyz(ctx context.Context) (Status, error) {
	var s Status
	return s, c.call(ctx, request{method: http.MethodGet, path: "/readyz"}, &s)
}

// Metrics returns the node's Prometheus metrics as text.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/metrics"})
	if err != nil {
		return "", err
	}
	return string(resp.body), nil
}

// OpenAPI returns the OpenAPI document the node serves, as YAML or (json
// set) JSON.
func (c *Client) OpenAPI(ctx context.Context, json bool) ([]byte, error) {
	path := "/openapi.yaml"
	if json {
		path = "/openapi.json"
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// The operator API; these calls send the admin token.

// ClusterInfo describes the cluster as the answering node sees it.
func (c *Client) ClusterInfo(ctx context.Context) (ClusterInfo, error) {
	var info ClusterInfo
	return info, c.call(ctx, request{method: http.MethodGet, path: "/admin/cluster", auth: authAdmin}, &info)
}

// CreateAccount creates an account on plan.
func (c *Client) CreateAccount(ctx context.Context, email, plan string) (Account, error) {
	var a Account
	return a, c.call(ctx, request{method: http.MethodPost, path: "/admin/accounts", auth: authAdmin, body: map[string]string{"email": email, "plan": plan}}, &a)
}

// ListAccounts lists every account.
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	var body struct {
		Accounts []Account `json:"accounts"`
	}
	return body.Accounts, c.call(ctx, request{method: http.MethodGet, path: "/admin/accounts", auth: authAdmin}, &body)
}

// GetAccount reads one account.
func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	return a, c.call(ctx, request{method: http.MethodGet, path: "/admin/accounts/" + esc(id), auth: authAdmin}, &a)
}

// SetAccountPlan moves an account to another plan.
func (c *Client) SetAccountPlan(ctx context.Context, id, plan string) (Account, error) {
	var a Account
	return a, c.call(ctx, request{method: http.MethodPatch, path: "/admin/accounts/" + esc(id), auth: authAdmin, body: map[string]string{"plan": plan}}, &a)
}

// DeleteAccount deletes an account with its keys, domains and tokens.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/admin/accounts/" + esc(id), auth: authAdmin}, nil)
}

// AdminCreateKey issues an API key to an account; only the operator
// grants roles.
func (c *Client) AdminCreateKey(ctx context.Context, accountID string, k NewKey) (CreatedKey, error) {
	var out CreatedKey
	return out, c.call(ctx, request{method: http.MethodPost, path: "/admin/accounts/" + esc(accountID) + "/api-keys", auth: authAdmin, body: k}, &out)
}

// The account's API; these calls send the API key.

// ListKeys lists the account's API keys, without the keys.
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) {
	var body struct {
		Keys []Key `json:"keys"`
	}
	return body.Keys, c.call(ctx, request{method: http.MethodGet, path: "/api/keys", auth: authKey}, &body)
}

// CreateKey creates an API key for the account; the answer is the only
// time the key is shown.
func (c *Client) CreateKey(ctx context.Context, k NewKey) (CreatedKey, error) {
	var out CreatedKey
	return out, c.call(ctx, request{method: http.MethodPost, path: "/api/keys", auth: authKey, body: k}, &out)
}

// RevokeKey revokes an API key by its ID.
func (c *Client) RevokeKey(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/api/keys/" + esc(id), auth: authKey}, nil)
}

// ListDomains lists the account's domains.
func (c *Client) ListDomains(ctx context.Context) ([]Domain, error) {
	var body struct {
		Domains []Domain `json:"domains"`
	}
	return body.Domains, c.call(ctx, request{method: http.MethodGet, path: "/api/domains", auth: authKey}, &body)
}

// CreateDomain registers host with the settings named (Origin is
// required).
func (c *Client) CreateDomain(ctx context.Context, host string, set DomainSettings) (Domain, error) {
	body := map[string]any{}
	b, err := set.MarshalJSON()
	if err != nil {
		return Domain{}, err
	}
	if err := unmarshal(b, &body); err != nil {
		return Domain{}, err
	}
	body["domain"] = host
	var d Domain
	return d, c.call(ctx, request{method: http.MethodPost, path: "/api/domains", auth: authKey, body: body}, &d)
}

// GetDomain reads one of the account's domains.
func (c *Client) GetDomain(ctx context.Context, host string) (Domain, error) {
	var d Domain
	return d, c.call(ctx, request{method: http.MethodGet, path: "/api/domains/" + esc(host), auth: authKey}, &d)
}

// UpdateDomain changes the fields set names and nothing else.
func (c *Client) UpdateDomain(ctx context.Context, host string, set DomainSettings) (Domain, error) {
	var d Domain
	return d, c.call(ctx, request{method: http.MethodPatch, path: "/api/domains/" + esc(host), auth: authKey, body: set}, &d)
}

// DeleteDomain deletes one of the account's domains.
func (c *Client) DeleteDomain(ctx context.Context, host string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/api/domains/" + esc(host), auth: authKey}, nil)
}

// DomainUsage returns the domain's renders this month.
func (c *Client) DomainUsage(ctx context.Context, host string) (Usage, error) {
	var u Usage
	return u, c.call(ctx, request{method: http.MethodGet, path: "/api/domains/" + esc(host) + "/usage", auth: authKey}, &u)
}

// ListWebhookTokens lists the domain's webhook tokens, without the tokens.
func (c *Client) ListWebhookTokens(ctx context.Context, host string) ([]WebhookToken, error) {
	var body struct {
		Tokens []WebhookToken `json:"tokens"`
	}
	return body.Tokens, c.call(ctx, request{method: http.MethodGet, path: "/api/domains/" + esc(host) + "/webhook-tokens", auth: authKey}, &body)
}

// CreateWebhookToken creates a webhook token for the domain; the answer
// is the only time the token is shown.
func (c *Client) CreateWebhookToken(ctx context.Context, host, name string) (CreatedWebhookToken, error) {
	var t CreatedWebhookToken
	return t, c.call(ctx, request{method: http.MethodPost, path: "/api/domains/" + esc(host) + "/webhook-tokens", auth: authKey, body: map[string]string{"name": name}}, &t)
}

// DeleteWebhookToken deletes a webhook token by its ID.
func (c *Client) DeleteWebhookToken(ctx context.Context, host, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/api/domains/" + esc(host) + "/webhook-tokens/" + esc(id), auth: authKey}, nil)
}

// The Cache API (plans with API access).

// ListCache lists a domain's cached pages: at most limit (0: the
// server's default) after cursor ("" from the start).
func (c *Client) ListCache(ctx context.Context, host, cursor string, limit int) (CacheListing, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/cache/list/" + esc(host)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l CacheListing
	return l, c.call(ctx, request{method: http.MethodGet, path: path, auth: authKey}, &l)
}

// Purge purges one page of a domain, or the whole domain when path is "".
func (c *Client) Purge(ctx context.Context, host, path string) (PurgeResult, error) {
	body := map[string]string{"domain": host}
	if path != "" {
		body["path"] = path
	}
	var r PurgeResult
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/cache/purge", auth: authKey, body: body}, &r)
}

// PurgeAll purges every domain of the account.
func (c *Client) PurgeAll(ctx context.Context) (PurgeResult, error) {
	var r PurgeResult
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/cache/purge-all", auth: authKey}, &r)
}

// RefreshOptions tune a refresh.
type RefreshOptions struct {
	// KeepUntilReplaced keeps each cached page until its re-render passes
	// the quality guard, instead of deleting it first (seed 000's
	// refresh): crawlers never meet a miss, and a worse render is
	// rejected.
	KeepUntilReplaced bool
}

// set adds the options to a refresh body.
func (o RefreshOptions) set(body map[string]any) {
	if o.KeepUntilReplaced {
		body["keepUntilReplaced"] = true
	}
}

// Refresh re-renders paths of a domain (nil: the server's defaults).
func (c *Client) Refresh(ctx context.Context, host string, paths []string, opts RefreshOptions) (JobsResult, error) {
	body := map[string]any{"domain": host}
	if paths != nil {
		body["paths"] = paths
	}
	opts.set(body)
	var r JobsResult
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/cache/refresh", auth: authKey, body: body}, &r)
}

// RefreshAll re-renders paths (nil: "/") of every domain of the account.
func (c *Client) RefreshAll(ctx context.Context, paths []string, opts RefreshOptions) (JobsResult, error) {
	body := map[string]any{}
	if paths != nil {
		body["paths"] = paths
	}
	opts.set(body)
	var r JobsResult
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/cache/refresh-all", auth: authKey, body: body}, &r)
}

// Stats counts the cached pages across the account's domains.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	return s, c.call(ctx, request{method: http.MethodGet, path: "/api/cache/stats", auth: authKey}, &s)
}

// Job reads a refresh or warm-up job, wherever it runs.
func (c *Client) Job(ctx context.Context, id string) (Job, error) {
	var j Job
	return j, c.call(ctx, request{method: http.MethodGet, path: "/api/cache/jobs/" + esc(id), auth: authKey}, &j)
}

// Warm renders the pages of a sitemap ("": <origin>/sitemap.xml).
func (c *Client) Warm(ctx context.Context, host, sitemap string) (JobsResult, error) {
	body := map[string]string{"domain": host}
	if sitemap != "" {
		body["sitemap"] = sitemap
	}
	var r JobsResult
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/cache/warm", auth: authKey, body: body}, &r)
}

// WebhookRefresh re-renders urls (paths, or URLs on the token's domain)
// with a webhook token instead of the API key.
func (c *Client) WebhookRefresh(ctx context.Context, token string, urls []string) (JobsResult, error) {
	var r JobsResult
	h := http.Header{"Authorization": {"Bearer " + token}}
	return r, c.call(ctx, request{method: http.MethodPost, path: "/api/webhook/refresh", header: h, body: map[string]any{"urls": urls}}, &r)
}

// InvalidateCache is the Script API: it invalidates one cache key (needs
// a key with the script role).
func (c *Client) InvalidateCache(ctx context.Context, key string) error {
	return c.call(ctx, request{method: http.MethodPost, path: "/script/invalidate-cache", auth: authKey, body: map[string]string{"key": key}}, nil)
}

// Page is a page as crawlers get it.
type Page struct {
	Status int
	Header http.Header
	Body   []byte
}

// Render returns pageURL as crawlers get it, through GET /render?url=
// with the API key as X-Prerender-Token. A rendered page with an error
// status (an origin's 404) is a Page, not an error; the API's own
// refusals are *Error.
func (c *Client) Render(ctx context.Context, pageURL string) (*Page, error) {
	h := http.Header{"X-Prerender-Token": {c.opts.APIKey}}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/render?" + url.Values{"url": {pageURL}}.Encode(), header: h, page: true})
	if err != nil {
		return nil, err
	}
	return &Page{Status: resp.status, Header: resp.header, Body: resp.body}, nil
}
