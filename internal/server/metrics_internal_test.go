package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/koe-vote/koe/internal/server/httpx"
)

// TestWaitLeftOutOfDurations: the request log and the request metrics do
// not count the time a request waited for its batch, which would tell
// when in the batch it arrived.
func TestWaitLeftOutOfDurations(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wait", func(w http.ResponseWriter, r *http.Request) {
		httpx.RecordWait(r.Context(), time.Hour) // as a batch wait does
	})
	h := logRequests(log, m.instrument(mux))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/wait", nil))
	if !strings.Contains(logged.String(), `route="POST /wait"`) || !strings.Contains(logged.String(), "duration=0s") {
		t.Errorf("log line %q counts the batch wait (or lost the route)", logged.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "koe_http_request_duration_seconds" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			found = true
			if h := mt.GetHistogram(); h.GetSampleSum() != 0 || h.GetSampleCount() != 1 {
				t.Errorf("request histogram sum %v over %d requests counts the batch wait", h.GetSampleSum(), h.GetSampleCount())
			}
		}
	}
	if !found {
		t.Error("no request histogram")
	}
}
