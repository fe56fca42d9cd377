package monitor

import "github.com/prometheus/client_golang/prometheus"

// metrics are the monitor's Prometheus metrics (SPEC.md §13.9), each
// labelled with the election.
type metrics struct {
	reg                *prometheus.Registry
	fork               prometheus.Gauge
	problem            *prometheus.GaugeVec
	invalidEntries     prometheus.Counter
	invalidCheckpoints prometheus.Counter
	pollErrors         prometheus.Counter
	size               prometheus.Gauge
	cosignedSize       prometheus.Gauge
	lastSuccess        prometheus.Gauge
	recordVerified     prometheus.Gauge
}

func newMetrics(election string) *metrics {
	l := prometheus.Labels{"election": election}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		fork: prometheus.NewGauge(prometheus.GaugeOpts{Name: "koe_monitor_fork_detected", ConstLabels: l,
			Help: "1 once the monitor has seen two checkpoints of the board that are not of one history."}),
		problem: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "koe_monitor_problem", ConstLabels: l,
			Help: "1 for the kind of problem that stopped the monitor (fork, checkpoint, entry, record, local)."}, []string{"kind"}),
		invalidEntries: prometheus.NewCounter(prometheus.CounterOpts{Name: "koe_monitor_invalid_entries_total", ConstLabels: l,
			Help: "Board entries that failed a check of koe verify."}),
		invalidCheckpoints: prometheus.NewCounter(prometheus.CounterOpts{Name: "koe_monitor_invalid_checkpoints_total", ConstLabels: l,
			Help: "Checkpoints refused: a bad signature or cosignature, the witness quorum not met, or tiles that do not match the checkpoint."}),
		pollErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "koe_monitor_poll_errors_total", ConstLabels: l,
			Help: "Polls that failed to reach the server (retried)."}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{Name: "koe_monitor_checkpoint_size", ConstLabels: l,
			Help: "The size of the latest checkpoint verified, whose entries the monitor holds."}),
		cosignedSize: prometheus.NewGauge(prometheus.GaugeOpts{Name: "koe_monitor_cosigned_size", ConstLabels: l,
			Help: "The size of the latest checkpoint held that satisfies the witness policy."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "koe_monitor_last_success_timestamp_seconds", ConstLabels: l,
			Help: "When a poll last completed with every check passing (Unix time)."}),
		recordVerified: prometheus.NewGauge(prometheus.GaugeOpts{Name: "koe_monitor_record_verified", ConstLabels: l,
			Help: "1 once the election is published and its record, written from the monitor's copy, verifies."}),
	}
	m.reg.MustRegister(m.fork, m.problem, m.invalidEntries, m.invalidCheckpoints, m.pollErrors, m.size, m.cosignedSize, m.lastSuccess, m.recordVerified)
	for _, k := range []string{"fork", "checkpoint", "entry", "record", "local"} {
		m.problem.WithLabelValues(k).Set(0)
	}
	return m
}

func (m *metrics) setProblem(p *Problem) {
	m.problem.WithLabelValues(p.Kind).Set(1)
	if p.Code == CodeFork {
		m.fork.Set(1)
	}
}
