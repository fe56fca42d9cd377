package monitor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
)

// Handler serves the monitor's copy under the server's read paths
// (SPEC.md §13.9), so that koe verify --server, koe verify --monitor,
// trustee clients and standard tlog-tiles clients read from it, and its
// metrics:
//
//	GET /api/v1/elections/{id}/log/checkpoint    the latest checkpoint verified
//	GET /api/v1/elections/{id}/log/tile/…        hash tiles and entry bundles of that tree
//	GET /api/v1/elections/{id}/cosigned-checkpoint  the latest held that satisfies the policy (404 not-cosigned before)
//	GET /api/v1/elections/{id}/manifest          the manifest's exact bytes
//	GET /api/v1/board-key/{id}                   the manifest's board key and "\n"
//	GET /api/v1/elections/{id}/record            the record (gzipped tar) once published and verified (404 otherwise)
//	GET /metrics                                 Prometheus metrics
//	GET /healthz                                 200 "ok", or 503 with the problem found
//
// Only what the monitor verified is served: the tiles of its latest
// checkpoint's tree, never entries beyond it.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	id := m.cfg.Election
	prefix := api.ElectionPath(id, "")
	mux.HandleFunc("GET "+prefix+"/log/", m.serveLog)
	mux.HandleFunc("GET "+prefix+"/cosigned-checkpoint", func(w http.ResponseWriter, r *http.Request) {
		cp := m.Cosigned()
		if cp == nil {
			writeError(w, http.StatusNotFound, api.CodeNotCosigned, fmt.Sprintf("the monitor holds no checkpoint of election %s that satisfies its witness policy yet", id))
			return
		}
		text(w, cp.Note)
	})
	mux.HandleFunc("GET "+prefix+"/manifest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(m.manifest)
	})
	mux.HandleFunc("GET "+api.Prefix+"/board-key/"+id, func(w http.ResponseWriter, r *http.Request) {
		key, err := m.boardKeyText()
		if err != nil {
			writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
			return
		}
		text(w, []byte(key+"\n"))
	})
	mux.HandleFunc("GET "+prefix+"/record", func(w http.ResponseWriter, r *http.Request) {
		if !m.RecordVerified() {
			writeError(w, http.StatusNotFound, api.CodeNoResults, "the monitor holds no verified record of a published election yet")
			return
		}
		files, err := m.RecordFiles()
		if err != nil {
			writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
			return
		}
		var b bytes.Buffer
		if err := record.Pack(&b, id, files, time.Now().UTC().Truncate(time.Second)); err != nil {
			writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+id+`-record.tar.gz"`)
		w.Write(b.Bytes())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if p := m.Problem(); p != nil {
			http.Error(w, p.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

func (m *Monitor) serveLog(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, api.ElectionPath(m.cfg.Election, "/log/"))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.latest == nil {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "the monitor holds no checkpoint yet")
		return
	}
	if p == "checkpoint" {
		text(w, m.latest.Note)
		return
	}
	t, err := board.ParseTilePath(p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !board.TileInTree(t, m.latest.Size) {
		w.Header().Set("Cache-Control", "no-cache")
		http.Error(w, "tile beyond the tree", http.StatusNotFound)
		return
	}
	var data []byte
	if t.L == -1 {
		first := t.N << board.TileHeight
		for _, e := range m.raw[first : first+int64(t.W)] {
			data = binary.BigEndian.AppendUint16(data, uint16(len(e)))
			data = append(data, e...)
		}
	} else if data, err = tlog.ReadTileData(t, m.reader()); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == 1<<board.TileHeight {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func text(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Error: code, Message: msg})
}

// boardKeyText is the manifest's board key (SPEC.md §7.1).
func (m *Monitor) boardKeyText() (string, error) {
	man, err := ballot.ParseManifest(m.manifest)
	if err != nil {
		return "", err
	}
	return man.Board.Key, nil
}
