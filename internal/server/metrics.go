package server

import (
	"net/http"
	"time"

	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics. Labels never hold an
// identifier of a voter, a credential or a ballot.
type metrics struct {
	requests  *prometheus.HistogramVec
	casts     *prometheus.CounterVec
	issued    prometheus.Counter
	commitLag prometheus.Histogram
	batch     prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "koe_http_request_duration_seconds", Help: "HTTP requests by route pattern and status.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"route", "code"}),
		casts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "koe_casts_total", Help: "Ballots submitted to the ballot box, by outcome.",
		}, []string{"outcome"}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "koe_credentials_issued_total", Help: "Anonymous credentials issued by the registrar.",
		}),
		commitLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "koe_cast_commit_seconds", Help: "Time to commit a batch of casts durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "koe_cast_batch_size", Help: "Casts committed per transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		}),
	}
	reg.MustRegister(m.requests, m.casts, m.issued, m.commitLag, m.batch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, waited := httpx.WithWaitRecord(r.Context())
		if ctx != r.Context() {
			r = r.WithContext(ctx) // (logRequests made it already: r keeps the Pattern it reads)
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, http.StatusText(rec.status)).Observe(max(0, time.Since(start)-time.Duration(waited.Load())).Seconds())
	})
}
