package page

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rendercache/rendercache/page/quality"
)

// newRejections returns the counter of guard rejections by reason, with
// every reason present from the start (a zero is a useful sample).
func newRejections() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendercache_page_quality_rejections_total",
		Help: "Background re-renders the quality guard rejected, keeping the cached page, by reason (status, empty, text, title, canonical, soft-error, failed).",
	}, []string{"reason"})
	for _, r := range append(quality.Reasons, RenderFailed) {
		v.WithLabelValues(string(r))
	}
	return v
}

var (
	recachesDesc = prometheus.NewDesc("rendercache_page_recaches_total",
		"Proactive re-renders (and guard retries) this node started for crawled pages before their TTL ran out.", nil, nil)
	recacheIndexDesc = prometheus.NewDesc("rendercache_page_recache_index_pages",
		"Crawled pages in this node's recache index.", nil, nil)
	recacheDroppedDesc = prometheus.NewDesc("rendercache_page_recache_index_full_total",
		"Crawled pages not indexed for recache because the index was full.", nil, nil)
)

// Collector returns the service's metrics beyond Stats for a node to
// register: guard rejections by reason, recaches started, and the recache
// index's size and overflows. It reads the service at each scrape.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	c.s.rejections.Describe(ch)
	ch <- recachesDesc
	ch <- recacheIndexDesc
	ch <- recacheDroppedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.s.rejections.Collect(ch)
	ch <- prometheus.MustNewConstMetric(recachesDesc, prometheus.CounterValue, float64(c.s.stats.Recaches.Load()))
	ch <- prometheus.MustNewConstMetric(recacheIndexDesc, prometheus.GaugeValue, float64(c.s.recache.size()))
	ch <- prometheus.MustNewConstMetric(recacheDroppedDesc, prometheus.CounterValue, float64(c.s.recache.dropped.Load()))
}
