package edge

import "github.com/prometheus/client_golang/prometheus"

// surfaceMetrics are one surface's counters, resolved once at start so
// that a hit increments a counter and looks nothing up.
type surfaceMetrics struct {
	hits, misses, passes, bypasses, errors prometheus.Counter
	fill                                   prometheus.Observer
}

// freshMetrics count the fresh lookups of unknown hosts by result.
type freshMetrics struct {
	found, unknown, failed prometheus.Counter
}

type metrics struct {
	requests *prometheus.CounterVec
	fills    *prometheus.HistogramVec
	fresh    freshMetrics
}

// newMetrics creates the data plane's metrics and registers them, with
// the hot map's, on reg (nil: created but not exported).
func newMetrics(reg prometheus.Registerer, hot *HotMap) *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendercache_edge_requests_total",
		Help: "Requests to cache surfaces by surface and result: hit (served from the hot map or the cache), miss (filled for the request), pass (not cached, such as a person's request proxied to the origin), bypass (a fill that was refused and answered another way, such as a render over quota), error.",
	}, []string{"surface", "result"})
	fills := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rendercache_edge_fill_seconds",
		Help:    "Time to get an answer after a hot-map miss, by surface: from the cluster's cache, or a render.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
	}, []string{"surface"})
	freshLookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendercache_edge_fresh_lookups_total",
		Help: "Fresh (read-index) lookups of hosts not known locally, by result: found, unknown, failed.",
	}, []string{"result"})
	m := &metrics{requests: requests, fills: fills, fresh: freshMetrics{
		found:   freshLookups.WithLabelValues("found"),
		unknown: freshLookups.WithLabelValues("unknown"),
		failed:  freshLookups.WithLabelValues("failed"),
	}}
	if reg == nil {
		return m
	}
	reg.MustRegister(requests, fills, freshLookups)
	if hot != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rendercache_edge_hot_hits_total", Help: "Hot-map lookups that found an answer."},
				func() float64 { return float64(hot.Stats().Hits) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rendercache_edge_hot_misses_total", Help: "Hot-map lookups that found nothing."},
				func() float64 { return float64(hot.Stats().Misses) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rendercache_edge_hot_evictions_total", Help: "Answers evicted from the hot map to stay within --hot-bytes."},
				func() float64 { return float64(hot.Stats().Evictions) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rendercache_edge_hot_bytes", Help: "Bytes held by the hot map, purged entries not yet evicted included."},
				func() float64 { return float64(hot.Stats().Bytes) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rendercache_edge_hot_entries", Help: "Answers held by the hot map, purged entries not yet evicted included."},
				func() float64 { return float64(hot.Stats().Entries) }),
		)
	}
	return m
}

// forSurface resolves one surface's counters.
func (m *metrics) forSurface(name string) *surfaceMetrics {
	return &surfaceMetrics{
		hits:     m.requests.WithLabelValues(name, "hit"),
		misses:   m.requests.WithLabelValues(name, "miss"),
		passes:   m.requests.WithLabelValues(name, "pass"),
		bypasses: m.requests.WithLabelValues(name, "bypass"),
		errors:   m.requests.WithLabelValues(name, "error"),
		fill:     m.fills.WithLabelValues(name),
	}
}
