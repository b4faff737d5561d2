package tenanttraffic

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rendercache/rendercache/storage"
	"github.com/rendercache/rendercache/tenantproxy"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func obs(slug, path string, status int, at time.Time) tenantproxy.Observation {
	surface := SurfaceWebsite
	if len(path) >= 6 && path[:6] == "/~api/" {
		surface = SurfaceAPI
	}
	return tenantproxy.Observation{Slug: slug, Surface: surface, Method: "GET", Path: path, Status: status, Bytes: 10, Cache: CacheMiss, Start: at, Duration: time.Millisecond}
}

// held counts slug's entries on disk.
func held(t *testing.T, db *storage.DB, slug string) int {
	t.Helper()
	n := 0
	p := tenantPrefix(slug)
	if err := db.Local().ScanRange(p, prefixEnd(p), false, func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLogsBoundedPerTenantAndPrunedPastRetention(t *testing.T) {
	db := openDB(t)
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: base}
	l, err := OpenLogs(db.Local(), LogOptions{PerTenant: 100, Retention: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	// 250 entries a second apart for acme, 5 for other.
	for i := range 250 {
		l.Observe(obs("acme", fmt.Sprintf("/p%d", i), 200, base.Add(time.Duration(i)*time.Second)))
	}
	for i := range 5 {
		l.Observe(obs("other", "/x", 200, base.Add(time.Duration(i)*time.Second)))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := held(t, db, "acme"); n != 100 {
		t.Fatalf("acme holds %d entries, want the bound 100", n)
	}
	es, more, err := l.query("n1", "acme", 0, nil, filter{}, 200)
	if err != nil || more || len(es) != 100 {
		t.Fatalf("query: %d entries, more %v, %v", len(es), more, err)
	}
	if es[0].Path != "/p249" || es[99].Path != "/p150" {
		t.Fatalf("kept %s..%s, want the newest /p249../p150", es[0].Path, es[99].Path)
	}
	if n := held(t, db, "other"); n != 5 {
		t.Fatalf("other holds %d, want 5", n)
	}
	if st := l.Stats(); st.Written != 255 || st.Pruned != 150 {
		t.Fatalf("stats %+v", st)
	}

	// An hour and 200s later, acme's entries before base+200s are past
	// the retention, and all of other's.
	clk.set(base.Add(time.Hour + 200*time.Second))
	if err := l.Prune(); err != nil {
		t.Fatal(err)
	}
	if n := held(t, db, "acme"); n != 50 {
		t.Fatalf("acme holds %d after pruning, want 50 (/p200../p249)", n)
	}
	if n := held(t, db, "other"); n != 0 {
		t.Fatalf("other holds %d after pruning, want 0", n)
	}

	// A reopened store counts what is on disk.
	l2, err := OpenLogs(db.Local(), LogOptions{PerTenant: 100, Retention: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if l2.counts["acme"] != 50 || l2.counts["other"] != 0 {
		t.Fatalf("reopened counts %v", l2.counts)
	}
}

func TestLogsQueryFiltersCursorAndNoQueryString(t *testing.T) {
	db := openDB(t)
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	l, err := OpenLogs(db.Local(), LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	statuses := []int{200, 404, 500, 301, 200, 404}
	for i := range 30 {
		p := fmt.Sprintf("/page%d", i)
		if i%3 == 0 {
			p = fmt.Sprintf("/~api/items/%d", i)
		}
		l.Observe(obs("acme", p, statuses[i%len(statuses)], base.Add(time.Duration(i)*time.Millisecond)))
	}
	// The surface hands over the path only; a test of the record format:
	// no query string can appear because none is stored.
	l.Observe(tenantproxy.Observation{Slug: "acme", Surface: SurfaceAPI, Method: "GET", Path: "/~api/secret", Status: 200, Start: base.Add(time.Second)})

	q, err := ParseLogQuery(url.Values{"status": {"4xx"}, "surface": {"website"}})
	if err != nil {
		t.Fatal(err)
	}
	es, _, err := l.query("n1", "acme", 0, nil, q.filter, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Status/100 != 4 || e.Surface != SurfaceWebsite {
			t.Fatalf("filtered entry %+v", e)
		}
	}
	want := 0
	for i := range 30 {
		if statuses[i%len(statuses)]/100 == 4 && i%3 != 0 {
			want++
		}
	}
	if len(es) != want {
		t.Fatalf("got %d 4xx website entries, want %d", len(es), want)
	}

	// Paging by cursor visits every entry once, newest first.
	var seen []string
	var before *position
	for {
		es, more, err := l.query("n1", "acme", 0, before, filter{}, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			seen = append(seen, e.Path)
		}
		if !more {
			break
		}
		last := es[len(es)-1]
		before = &position{NS: last.NS, Node: "n1", Seq: last.Seq}
	}
	if len(seen) != 31 || seen[0] != "/~api/secret" || seen[30] != "/~api/items/0" {
		t.Fatalf("paged %d entries: first %q last %q", len(seen), seen[0], seen[len(seen)-1])
	}
	// since leaves out older entries (a deleted tenant's of the same slug).
	es, _, err = l.query("n1", "acme", base.Add(20*time.Millisecond).UnixNano(), nil, filter{}, 100)
	if err != nil || len(es) != 11 {
		t.Fatalf("since: %d entries, %v", len(es), err)
	}
}

func TestParseLogQuery(t *testing.T) {
	good := position{NS: 5, Node: "node-1", Seq: 9}.cursor()
	for _, tc := range []struct {
		q  string
		ok bool
	}{
		{"", true}, {"limit=1", true}, {"limit=200", true}, {"limit=0", false}, {"limit=201", false}, {"limit=x", false},
		{"status=2xx", true}, {"status=5XX", true}, {"status=404", true}, {"status=6xx", false}, {"status=99", false},
		{"status=600", false}, {"status=4x", false}, {"status=ok", false},
		{"surface=api", true}, {"surface=website", true}, {"surface=web", false},
		{"cursor=" + good, true}, {"cursor=not-base64!", false}, {"cursor=" + "MS54", false},
	} {
		v, _ := url.ParseQuery(tc.q)
		_, err := ParseLogQuery(v)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok %v", tc.q, err, tc.ok)
		}
	}
	p, err := parseCursor(good)
	if err != nil || p != (position{NS: 5, Node: "node-1", Seq: 9}) {
		t.Fatalf("cursor round trip %+v %v", p, err)
	}
}
