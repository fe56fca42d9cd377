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
	witness   witnessMetrics
}

// witnessMetrics watch the election's witnesses (SPEC.md §13.7): labels
// are the election and the witness's key name.
type witnessMetrics struct {
	failures *prometheus.CounterVec   // submissions that brought no cosignature, by reason
	lag      *prometheus.GaugeVec     // entries the witness's cosigned tree lags behind the board
	latency  *prometheus.HistogramVec // time of a successful submission
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
	m.witness = witnessMetrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "koe_witness_failures_total", Help: "Checkpoint submissions to a witness that brought no cosignature, by reason.",
		}, []string{"election", "witness", "reason"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "koe_witness_lag_entries", Help: "Entries by which the tree a witness last cosigned lags behind the latest checkpoint.",
		}, []string{"election", "witness"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "koe_witness_cosign_seconds", Help: "Time for a witness to cosign a checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"election", "witness"}),
	}
	reg.MustRegister(m.witness.failures, m.witness.lag, m.witness.latency)
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
