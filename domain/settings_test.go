package domain

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rendercache/rendercache/internal/errkind"
)

// decodeSettings reads a body as the API does: unknown fields refused.
func decodeSettings(t *testing.T, body string) (Settings, error) {
	t.Helper()
	var set Settings
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&set)
	return set, err
}

// customised is a domain whose every setting differs from the defaults,
// so that a reset to a default is visible.
func customised() Domain {
	limit := int64(42)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Domain{
		Domain: "shop.example.com", AccountID: "acct_1", Origin: "https://origin.example.com",
		CacheTTL: 3600, MonthlyRenderLimit: &limit, CacheVersion: 7, CreatedAt: at, UpdatedAt: at,
		Render:  RenderSettings{TimeoutMs: 5000, BlockResources: []string{"stylesheet"}, BlockTrackers: false},
		Quality: QualitySettings{SoftErrorMarkers: []string{"oops"}},
		Recache: RecacheSettings{Enabled: false, LeadFraction: 0.5},
	}
}

func ptr[T any](v T) *T { return &v }

// Each field of a partial update, named alone, changes that field and
// nothing else; null returns it to its default; nested objects merge
// field by field.
func TestMergeChangesOnlyWhatItNames(t *testing.T) {
	tests := []struct {
		name string
		body string
		want func(d *Domain)
	}{
		{"nothing", `{}`, func(d *Domain) {}},
		{"origin", `{"origin":"HTTPS://New.Example.com:443/"}`, func(d *Domain) { d.Origin = "https://new.example.com" }},
		{"cacheTtl", `{"cacheTtl":120}`, func(d *Domain) { d.CacheTTL = 120 }},
		{"cacheTtl null", `{"cacheTtl":null}`, func(d *Domain) { d.CacheTTL = DefaultCacheTTL }},
		{"render.timeoutMs", `{"render":{"timeoutMs":7000}}`, func(d *Domain) { d.Render.TimeoutMs = 7000 }},
		{"render.timeoutMs 0 (node default)", `{"render":{"timeoutMs":0}}`, func(d *Domain) { d.Render.TimeoutMs = 0 }},
		{"render.timeoutMs null", `{"render":{"timeoutMs":null}}`, func(d *Domain) { d.Render.TimeoutMs = 0 }},
		{"render.blockResources", `{"render":{"blockResources":["media","font","media"]}}`, func(d *Domain) { d.Render.BlockResources = []string{"font", "media"} }},
		{"render.blockResources empty", `{"render":{"blockResources":[]}}`, func(d *Domain) { d.Render.BlockResources = []string{} }},
		{"render.blockResources null", `{"render":{"blockResources":null}}`, func(d *Domain) { d.Render.BlockResources = DefaultBlockResources }},
		{"render.blockTrackers", `{"render":{"blockTrackers":true}}`, func(d *Domain) { d.Render.BlockTrackers = true }},
		{"render.blockTrackers null", `{"render":{"blockTrackers":null}}`, func(d *Domain) { d.Render.BlockTrackers = true }},
		{"render empty", `{"render":{}}`, func(d *Domain) {}},
		{"render null", `{"render":null}`, func(d *Domain) { d.Render = DefaultRender() }},
		{"monthlyRenderLimit", `{"monthlyRenderLimit":1000}`, func(d *Domain) { d.MonthlyRenderLimit = ptr[int64](1000) }},
		{"monthlyRenderLimit 0", `{"monthlyRenderLimit":0}`, func(d *Domain) { d.MonthlyRenderLimit = ptr[int64](0) }},
		{"monthlyRenderLimit null", `{"monthlyRenderLimit":null}`, func(d *Domain) { d.MonthlyRenderLimit = nil }},
		{"two fields", `{"cacheTtl":600,"render":{"blockTrackers":true}}`, func(d *Domain) { d.CacheTTL, d.Render.BlockTrackers = 600, true }},
		{"quality.softErrorMarkers", `{"quality":{"softErrorMarkers":[" Sorry ","sorry ","Not found",""]}}`, func(d *Domain) { d.Quality.SoftErrorMarkers = []string{"Sorry", "sorry", "Not found"} }},
		{"quality.softErrorMarkers empty", `{"quality":{"softErrorMarkers":[]}}`, func(d *Domain) { d.Quality.SoftErrorMarkers = []string{} }},
		{"quality.softErrorMarkers null", `{"quality":{"softErrorMarkers":null}}`, func(d *Domain) { d.Quality = DefaultQuality() }},
		{"quality null", `{"quality":null}`, func(d *Domain) { d.Quality = DefaultQuality() }},
		{"quality empty", `{"quality":{}}`, func(d *Domain) {}},
		{"recache.enabled", `{"recache":{"enabled":true}}`, func(d *Domain) { d.Recache.Enabled = true }},
		{"recache.leadFraction", `{"recache":{"leadFraction":0.25}}`, func(d *Domain) { d.Recache.LeadFraction = 0.25 }},
		{"recache.leadFraction null", `{"recache":{"leadFraction":null}}`, func(d *Domain) { d.Recache.LeadFraction = DefaultRecacheLead }},
		{"recache null", `{"recache":null}`, func(d *Domain) { d.Recache = DefaultRecache() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := decodeSettings(t, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			set, err = set.normalize()
			if err != nil {
				t.Fatal(err)
			}
			base := customised()
			want := customised()
			tt.want(&want)
			got := merge(base, set)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("merge %s:\n got %+v\nwant %+v", tt.body, got, want)
			}
			if !reflect.DeepEqual(base, customised()) {
				t.Fatalf("merge changed its input: %+v", base)
			}
			// The result shares no memory with the input.
			got.Render.BlockResources = append(got.Render.BlockResources[:0:0], "x")
			if got.MonthlyRenderLimit != nil {
				*got.MonthlyRenderLimit = -5
			}
			if !reflect.DeepEqual(base, customised()) {
				t.Fatal("the merged domain aliases the stored one")
			}
		})
	}
}

// A value that breaks a rule is refused as Invalid with a message naming
// the field, before anything is merged.
func TestNormalizeRefusesBadValues(t *testing.T) {
	tests := []struct {
		name, body, msg string
	}{
		{"origin null", `{"origin":null}`, `"origin" cannot be null`},
		{"origin not http", `{"origin":"ftp://x.example.com"}`, "http"},
		{"origin with credentials", `{"origin":"http://u:p@x.example.com"}`, ""},
		{"cacheTtl too small", `{"cacheTtl":59}`, "cacheTtl must be between 60 and 31536000"},
		{"cacheTtl too large", `{"cacheTtl":31536001}`, "cacheTtl must be between"},
		{"timeout too small", `{"render":{"timeoutMs":999}}`, "render.timeoutMs"},
		{"timeout too large", `{"render":{"timeoutMs":60001}}`, "render.timeoutMs"},
		{"unknown resource type", `{"render":{"blockResources":["image","everything"]}}`, `unknown type "everything"`},
		{"negative limit", `{"monthlyRenderLimit":-1}`, "monthlyRenderLimit must be >= 0"},
		{"lead too small", `{"recache":{"leadFraction":0.001}}`, "recache.leadFraction must be between 0.01 and 0.9"},
		{"lead too large", `{"recache":{"leadFraction":0.95}}`, "recache.leadFraction"},
		{"too many markers", `{"quality":{"softErrorMarkers":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}}`, "at most 20 markers"},
		{"marker too long", `{"quality":{"softErrorMarkers":["` + strings.Repeat("x", 201) + `"]}}`, "at most 200 bytes"},
		{"marker with a control character", `{"quality":{"softErrorMarkers":["a\nb"]}}`, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := decodeSettings(t, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = set.normalize()
			if errkind.KindOf(err) != errkind.Invalid || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("normalize %s = %v, want Invalid containing %q", tt.body, err, tt.msg)
			}
		})
	}
	// Bounds themselves are accepted.
	for _, body := range []string{`{"cacheTtl":60}`, `{"cacheTtl":31536000}`, `{"render":{"timeoutMs":1000}}`, `{"render":{"timeoutMs":60000}}`} {
		set, _ := decodeSettings(t, body)
		if _, err := set.normalize(); err != nil {
			t.Errorf("normalize %s: %v", body, err)
		}
	}
}

// Field decodes the three cases apart, refuses unknown fields inside
// objects as the body does, names nested fields in type errors, and
// encodes back to the same body.
func TestFieldJSON(t *testing.T) {
	set, err := decodeSettings(t, `{"cacheTtl":null,"render":{"timeoutMs":5000}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{CacheTTL: Reset[int](), Render: To(RenderPatch{TimeoutMs: To(5000)})}
	if !reflect.DeepEqual(set, want) {
		t.Fatalf("decoded %+v, want %+v", set, want)
	}
	b, err := json.Marshal(set)
	if err != nil || string(b) != `{"cacheTtl":null,"render":{"timeoutMs":5000}}` {
		t.Fatalf("encoded %s, %v", b, err)
	}
	for body, msg := range map[string]string{
		`{"render":{"timeout":5000}}`:          `unknown field "timeout"`,
		`{"render":{"timeoutMs":"5s"}}`:        "render.timeoutMs",
		`{"render":{"blockResources":"font"}}`: "render.blockResources",
		`{"render":5}`:                         "render",
		`{"cacheTtl":true}`:                    "cacheTtl",
	} {
		if _, err := decodeSettings(t, body); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("decode %s = %v, want an error naming %s", body, err, msg)
		}
	}
}

// FuzzSettings: any body either fails to decode or normalize, or merges
// into a domain whose settings are all within bounds; merging twice is
// merging once.
func FuzzSettings(f *testing.F) {
	for _, s := range []string{`{}`, `{"render":{"timeoutMs":5000}}`, `{"render":null,"cacheTtl":null}`, `{"origin":"http://x.example.com","monthlyRenderLimit":5}`, `{"render":{"blockResources":["font","font"]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var set Settings
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.DisallowUnknownFields()
		if dec.Decode(&set) != nil {
			return
		}
		set, err := set.normalize()
		if err != nil {
			if errkind.KindOf(err) != errkind.Invalid {
				t.Fatalf("normalize %q: %v is not Invalid", body, err)
			}
			return
		}
		once := merge(customised(), set)
		if twice := merge(once, set); !reflect.DeepEqual(once, twice) {
			t.Fatalf("merge %q is not idempotent: %+v then %+v", body, once, twice)
		}
		r := once.Render
		switch {
		case once.Origin == "":
			t.Fatal("origin lost")
		case once.CacheTTL < MinCacheTTL || once.CacheTTL > MaxCacheTTL:
			t.Fatalf("cacheTtl %d", once.CacheTTL)
		case r.TimeoutMs != 0 && (r.TimeoutMs < MinRenderTimeMs || r.TimeoutMs > MaxRenderTimeMs):
			t.Fatalf("timeoutMs %d", r.TimeoutMs)
		case !slices.IsSorted(r.BlockResources) || len(slices.Compact(slices.Clone(r.BlockResources))) != len(r.BlockResources):
			t.Fatalf("blockResources %v", r.BlockResources)
		case once.MonthlyRenderLimit != nil && *once.MonthlyRenderLimit < 0:
			t.Fatalf("monthlyRenderLimit %d", *once.MonthlyRenderLimit)
		}
	})
}

// A domain stored before the quality and recache settings existed reads
// with their defaults, and one that names them keeps what it names.
func TestOldRecordsGetBackgroundDefaults(t *testing.T) {
	var d Domain
	if err := json.Unmarshal([]byte(`{"domain":"a.example.com","cacheTtl":60,"render":{"timeoutMs":0,"blockResources":[],"blockTrackers":true}}`), &d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Quality, DefaultQuality()) || !reflect.DeepEqual(d.Recache, DefaultRecache()) {
		t.Fatalf("quality %+v recache %+v, want the defaults", d.Quality, d.Recache)
	}
	if err := json.Unmarshal([]byte(`{"domain":"a.example.com","recache":{"enabled":false},"quality":{"softErrorMarkers":null}}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.Recache != (RecacheSettings{Enabled: false, LeadFraction: DefaultRecacheLead}) || d.Quality.SoftErrorMarkers == nil || len(d.Quality.SoftErrorMarkers) != 0 {
		t.Fatalf("quality %+v recache %+v", d.Quality, d.Recache)
	}
}
