package render_test

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rendercache/rendercache/render"
)

// TestCollector registers the pool's collector as a node does and checks
// that a scrape has the queue's figures by priority, the wait histogram,
// the stages and the warm tabs.
func TestCollector(t *testing.T) {
	s := newSite(t, map[string]http.HandlerFunc{"/": html(`<p>hi</p>`)})
	renderOK(t, pool, render.Request{URL: s.URL + "/", Priority: render.Background})
	reg := prometheus.NewRegistry()
	reg.MustRegister(pool.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
	}
	want := map[string]int{
		"rendercache_render_queue_depth":         2, // live, background
		"rendercache_render_queue_domains":       2,
		"rendercache_render_queue_refused_total": 4, // by priority and bound
		"rendercache_render_queue_wait_seconds":  1, // background waited (0s) above
		"rendercache_render_stage_seconds_total": 11,
		"rendercache_render_warm_tabs":           1,
	}
	for name, n := range want {
		if series[name] < n {
			t.Errorf("%s: %d series, want at least %d (scrape: %v)", name, series[name], n, series)
		}
	}
}
