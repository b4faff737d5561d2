package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Zone is an asset CDN zone (seed 003): <name>.<cdn-domain> served from
// an origin. A live key (rk_live_) sees live zones, a test key test ones.
type Zone struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Subdomain string    `json:"subdomain"`
	Origin    string    `json:"origin"`
	Created   time.Time `json:"created"`
	Active    bool      `json:"active"`
}

// ZonePatch names the fields of a zone to change; nil ones stay.
type ZonePatch struct {
	Name   *string `json:"name,omitempty"`
	Origin *string `json:"origin,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

// ZonePurge says what a purge removes: Path (one path, or a prefix
// ending in "/*"), Tag (objects whose origin sent it as Cache-Tag or
// Surrogate-Key), or neither for the whole zone. Soft marks stale
// instead: stale copies are served while one refetch revalidates.
type ZonePurge struct {
	Path string
	Tag  string
	Soft bool
}

// ZonePurged is a purge's answer: Nodes live nodes confirmed it.
type ZonePurged struct {
	Purged bool `json:"purged"`
	Nodes  int  `json:"nodes"`
}

// ZoneUsage is the key's mode's zone usage this calendar month (UTC),
// summed over every node.
type ZoneUsage struct {
	PeriodStart    string  `json:"period_start"`
	PeriodEnd      string  `json:"period_end"`
	Requests       int64   `json:"requests"`
	BandwidthBytes int64   `json:"bandwidth_bytes"`
	CacheHitRate   float64 `json:"cache_hit_rate"`
}

// ListZones lists the zones of the key's mode.
func (c *Client) ListZones(ctx context.Context) ([]Zone, error) {
	var body struct {
		Zones []Zone `json:"zones"`
	}
	return body.Zones, c.call(ctx, request{method: http.MethodGet, path: "/v1/zones", auth: authKey}, &body)
}

// CreateZone creates a zone named name (a DNS label) for origin, in the
// key's mode.
func (c *Client) CreateZone(ctx context.Context, name, origin string) (Zone, error) {
	var z Zone
	body := map[string]string{"name": name, "origin": origin}
	return z, c.call(ctx, request{method: http.MethodPost, path: "/v1/zones", auth: authKey, body: body}, &z)
}

// GetZone reads one of the account's zones by ID.
func (c *Client) GetZone(ctx context.Context, id string) (Zone, error) {
	var z Zone
	return z, c.call(ctx, request{method: http.MethodGet, path: "/v1/zones/" + esc(id), auth: authKey}, &z)
}

// UpdateZone changes the fields p names.
func (c *Client) UpdateZone(ctx context.Context, id string, p ZonePatch) (Zone, error) {
	var z Zone
	return z, c.call(ctx, request{method: http.MethodPatch, path: "/v1/zones/" + esc(id), auth: authKey, body: p}, &z)
}

// DeleteZone deletes one of the account's zones.
func (c *Client) DeleteZone(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/v1/zones/" + esc(id), auth: authKey}, nil)
}

// PurgeZone purges what p names in zone id on every live node.
func (c *Client) PurgeZone(ctx context.Context, id string, p ZonePurge) (ZonePurged, error) {
	q := url.Values{"zone": {id}}
	if p.Path != "" {
		q.Set("path", p.Path)
	}
	if p.Tag != "" {
		q.Set("tag", p.Tag)
	}
	if p.Soft {
		q.Set("soft", strconv.FormatBool(true))
	}
	var out ZonePurged
	return out, c.call(ctx, request{method: http.MethodGet, path: "/v1/purge?" + q.Encode(), auth: authKey}, &out)
}

// ZoneUsage returns this month's usage of the key's mode's zones.
func (c *Client) ZoneUsage(ctx context.Context) (ZoneUsage, error) {
	var u ZoneUsage
	return u, c.call(ctx, request{method: http.MethodGet, path: "/v1/usage", auth: authKey}, &u)
}
