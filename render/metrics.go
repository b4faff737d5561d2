package render

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// priorityNames label metrics by priority.
var priorityNames = [numPriorities]string{Live: "live", Background: "background"}

// waitBuckets spread from a free slot (0) to a queue that takes a minute
// to drain, the longest Retry-After the pool gives.
var waitBuckets = []float64{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// newWaitHistogram returns the histogram of how long renders waited for a
// slot, by priority.
func newWaitHistogram() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rendercache_render_queue_wait_seconds",
		Help:    "How long renders waited for a browser slot, by priority.",
		Buckets: waitBuckets,
	}, []string{"priority"})
}

// observeWait records one render's wait for a slot.
func (p *Pool) observeWait(prio Priority, d time.Duration) {
	p.waits.WithLabelValues(priorityNames[prio]).Observe(d.Seconds())
}

// Collector returns the pool's metrics beyond Stats, for a node to
// register (Stats already feeds its queue length, active, render,
// failure and restart metrics): by priority, the renders and domains
// waiting, how long renders waited (a histogram) and the renders refused
// for a full queue; the time renders spent in each stage; and the tabs
// kept open ahead of renders. It is safe for concurrent use and reads the
// pool at each scrape.
func (p *Pool) Collector() prometheus.Collector { return collector{p} }

// collector is Pool.Collector.
type collector struct{ p *Pool }

var (
	queueDepthDesc = prometheus.NewDesc("rendercache_render_queue_depth",
		"Renders waiting for a browser slot, by priority.", []string{"priority"}, nil)
	queueDomainsDesc = prometheus.NewDesc("rendercache_render_queue_domains",
		"Domains with renders waiting for a browser slot, by priority.", []string{"priority"}, nil)
	queueRefusedDesc = prometheus.NewDesc("rendercache_render_queue_refused_total",
		"Renders refused at once (503 with Retry-After) because the queue, or the domain's share of it, was full.",
		[]string{"priority", "bound"}, nil)
	stageDesc = prometheus.NewDesc("rendercache_render_stage_seconds_total",
		"Time renders spent in each stage: queue, fetch, open, setup, load, ready, snapshot (of which strip and serialise, in the page), close, and intercept (summed over concurrent requests).",
		[]string{"stage"}, nil)
	warmDesc = prometheus.NewDesc("rendercache_render_warm_tabs",
		"Tabs open ahead of renders.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueDomainsDesc
	ch <- queueRefusedDesc
	ch <- stageDesc
	ch <- warmDesc
	c.p.waits.Describe(ch)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.slots.stats()
	for prio, name := range priorityNames {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.queued[prio]), name)
		ch <- prometheus.MustNewConstMetric(queueDomainsDesc, prometheus.GaugeValue, float64(st.domains[prio]), name)
		ch <- prometheus.MustNewConstMetric(queueRefusedDesc, prometheus.CounterValue, float64(st.refused[prio][fullQueue]), name, "queue")
		ch <- prometheus.MustNewConstMetric(queueRefusedDesc, prometheus.CounterValue, float64(st.refused[prio][fullDomain]), name, "domain")
	}
	for name, d := range c.p.stages.totals() {
		ch <- prometheus.MustNewConstMetric(stageDesc, prometheus.CounterValue, d.Seconds(), name)
	}
	ch <- prometheus.MustNewConstMetric(warmDesc, prometheus.GaugeValue, float64(c.p.warmTabs.Load()))
	c.p.waits.Collect(ch)
}
