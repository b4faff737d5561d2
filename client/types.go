package client

import (
	"encoding/json"
	"time"
)

// The API's bodies, as api/openapi.yaml describes them.

// Account is an account of the operator API.
type Account struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Plan      string    `json:"plan"`
	CreatedAt time.Time `json:"createdAt"`
}

// ClusterInfo is the cluster as one node sees it.
type ClusterInfo struct {
	Leader       string        `json:"leader"`
	Nodes        []ClusterNode `json:"nodes"`
	AppliedIndex uint64        `json:"appliedIndex"`
}

// ClusterNode is one member of ClusterInfo.
type ClusterNode struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Suffrage string `json:"suffrage"`
	HTTPAddr string `json:"httpAddr"`
}

// NewKey asks for an API key. Roles are granted by the operator only
// (AdminCreateKey); CreateKey refuses them.
type NewKey struct {
	Name      string     `json:"name"`
	Roles     []string   `json:"roles,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Mode is "live" (default) or "test".
	Mode string `json:"mode,omitempty"`
}

// Key is an API key as listings show it, without the key.
type Key struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	Mode       string     `json:"mode"`
	Roles      []string   `json:"roles"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// CreatedKey is a new API key: the only time the key is shown.
type CreatedKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Key       string     `json:"key"`
	Roles     []string   `json:"roles"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// RenderSettings tune how a domain's pages are rendered.
type RenderSettings struct {
	TimeoutMs      int      `json:"timeoutMs"`
	BlockResources []string `json:"blockResources"`
	BlockTrackers  bool     `json:"blockTrackers"`
}

// QualitySettings tune the quality guard of a domain's background
// re-renders.
type QualitySettings struct {
	SoftErrorMarkers []string `json:"softErrorMarkers"`
}

// RecacheSettings tune proactive recache of a domain's crawled pages.
type RecacheSettings struct {
	Enabled      bool    `json:"enabled"`
	LeadFraction float64 `json:"leadFraction"`
}

// Domain is a registered site.
type Domain struct {
	Domain             string          `json:"domain"`
	AccountID          string          `json:"accountId"`
	Origin             string          `json:"origin"`
	CacheTTL           int             `json:"cacheTtl"`
	Render             RenderSettings  `json:"render"`
	MonthlyRenderLimit *int64          `json:"monthlyRenderLimit"`
	Quality            QualitySettings `json:"quality"`
	Recache            RecacheSettings `json:"recache"`
	CacheVersion       uint64          `json:"cacheVersion"`
	CreatedAt          time.Time       `json:"createdAt"`
	UpdatedAt          time.Time       `json:"updatedAt"`
}

// DomainSettings are the fields a domain create or update names; nil
// fields are left out (unchanged, or on create their defaults). Reset
// lists fields to send as null, which returns them to their defaults:
// "cacheTtl", "render", "render.timeoutMs", "render.blockResources",
// "render.blockTrackers", "monthlyRenderLimit", "quality",
// "quality.softErrorMarkers", "recache", "recache.enabled",
// "recache.leadFraction".
type DomainSettings struct {
	Origin             *string
	CacheTTL           *int
	TimeoutMs          *int
	BlockResources     []string
	BlockTrackers      *bool
	MonthlyRenderLimit *int64
	SoftErrorMarkers   []string
	RecacheEnabled     *bool
	RecacheLead        *float64
	Reset              []string
}

// MarshalJSON writes the fields named, with nulls for Reset.
func (s DomainSettings) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	render := map[string]any{}
	if s.Origin != nil {
		m["origin"] = *s.Origin
	}
	if s.CacheTTL != nil {
		m["cacheTtl"] = *s.CacheTTL
	}
	if s.MonthlyRenderLimit != nil {
		m["monthlyRenderLimit"] = *s.MonthlyRenderLimit
	}
	if s.TimeoutMs != nil {
		render["timeoutMs"] = *s.TimeoutMs
	}
	if s.BlockResources != nil {
		render["blockResources"] = s.BlockResources
	}
	if s.BlockTrackers != nil {
		render["blockTrackers"] = *s.BlockTrackers
	}
	quality, recache := map[string]any{}, map[string]any{}
	if s.SoftErrorMarkers != nil {
		quality["softErrorMarkers"] = s.SoftErrorMarkers
	}
	if s.RecacheEnabled != nil {
		recache["enabled"] = *s.RecacheEnabled
	}
	if s.RecacheLead != nil {
		recache["leadFraction"] = *s.RecacheLead
	}
	nested := map[string]map[string]any{"render": render, "quality": quality, "recache": recache}
	for _, f := range s.Reset {
		reset := false
		for name, obj := range nested {
			if sub, ok := cutPrefix(f, name+"."); ok {
				obj[sub], reset = nil, true
			}
		}
		if !reset {
			m[f] = nil
		}
	}
	for name, obj := range nested {
		if len(obj) > 0 {
			if _, reset := m[name]; !reset {
				m[name] = obj
			}
		}
	}
	return json.Marshal(m)
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// WebhookToken is a webhook token as listings show it, without the token.
type WebhookToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hint      string    `json:"hint"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreatedWebhookToken is a new webhook token: the only time it is shown.
type CreatedWebhookToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"createdAt"`
}

// Usage is a domain's renders this calendar month (UTC).
type Usage struct {
	Domain   string `json:"domain"`
	Month    string `json:"month"`
	Renders  int64  `json:"renders"`
	Limit    int64  `json:"limit"`
	BypassAt int64  `json:"bypassAt"`
	Bypassed bool   `json:"bypassed"`
}

// CacheListing is one page of a domain's cached pages.
type CacheListing struct {
	Domain      string    `json:"domain"`
	CachedPages int       `json:"cachedPages"`
	Pages       []PageRef `json:"pages"`
	// NextCursor continues the listing when more pages follow.
	NextCursor string `json:"nextCursor,omitempty"`
}

// PageRef is one cached page.
type PageRef struct {
	Path     string `json:"path"`
	CacheKey string `json:"cacheKey"`
}

// PurgeResult answers a purge.
type PurgeResult struct {
	Message     string `json:"message"`
	KeysDeleted int    `json:"keysDeleted"`
}

// JobRef names a queued render job.
type JobRef struct {
	// Domain is set by RefreshAll only.
	Domain string `json:"domain,omitempty"`
	Path   string `json:"path"`
	JobID  string `json:"jobId"`
}

// JobsResult answers a refresh, a refresh-all, a warm-up or a webhook
// refresh: the jobs queued.
type JobsResult struct {
	Message string `json:"message"`
	// Domain is the refreshed domain (not set by RefreshAll).
	Domain string `json:"domain,omitempty"`
	// TotalDomains is set by RefreshAll.
	TotalDomains int `json:"totalDomains,omitempty"`
	// TotalJobs is set by RefreshAll and Warm.
	TotalJobs int      `json:"totalJobs,omitempty"`
	Jobs      []JobRef `json:"jobs"`
}

// Stats are the cached pages across an account's domains.
type Stats struct {
	TotalKeys   int `json:"totalKeys"`
	DomainCount int `json:"domainCount"`
}

// Job states.
const (
	JobQueued    = "queued"
	JobRendering = "rendering"
	JobDone      = "done"
	JobFailed    = "failed"
)

// Job is one page render queued by a refresh or warm-up.
type Job struct {
	JobID  string `json:"jobId"`
	Domain string `json:"domain"`
	Path   string `json:"path"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Rejected is the quality guard's reason when a guarded refresh kept
	// the cached page ("status", "empty", "text", "title", "canonical",
	// "soft-error", "failed").
	Rejected  string    `json:"rejected,omitempty"`
	Node      string    `json:"node"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Finished reports whether the job is done or failed.
func (j Job) Finished() bool { return j.Status == JobDone || j.Status == JobFailed }

// Status is the body of /healthz and /readyz.
type Status struct {
	Status string `json:"status"`
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
