package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/koe-vote/koe/internal/monitor"
)

func runMonitor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe monitor", "koe monitor --server URL --election ID --data DIR [--manifest-hash HEX] [--once] [--interval D] [--listen ADDR] [--record OUT]", stderr)
	srv := fs.String("server", "", "the koe server whose board to follow")
	id := fs.String("election", "", "the election id")
	data := fs.String("data", "", "the directory that keeps the copy of the board (created; reused on restart)")
	pin := fs.String("manifest-hash", "", "the manifest hash the election's official notice publishes (64 hex digits); without it the server's manifest is trusted on first use")
	once := fs.Bool("once", false, "follow the board up to the server's latest checkpoint, then exit")
	interval := fs.Duration("interval", 10*time.Second, "time between two polls")
	listen := fs.String("listen", "", "serve the mirror and /metrics on this address (for example 127.0.0.1:9464)")
	out := fs.String("record", "", "once the election is published and its record verifies, also write the record into this directory")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *srv == "" || *id == "" || *data == "" {
		return withHint(usagef("--server, --election and --data are required"), "koe monitor --server https://koe.city.example --election ID --data /var/lib/koe-monitor/ID")
	}
	if *interval <= 0 {
		return usagef("--interval must be positive")
	}
	var hash []byte
	if *pin != "" {
		h, err := hex.DecodeString(*pin)
		if err != nil || len(h) != 32 || hex.EncodeToString(h) != *pin {
			return usagef("--manifest-hash must be 64 lowercase hex digits")
		}
		hash = h
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	m, err := monitor.Open(ctx, monitor.Config{Server: *srv, Election: *id, Dir: *data, ManifestHash: hash, Logger: log})
	var p *monitor.Problem
	if m == nil {
		if errors.As(err, &p) {
			fmt.Fprintf(stderr, "koe: error: %v\n", err)
			return &exitError{code: p.Code}
		}
		return err
	}
	if *listen != "" {
		ln, lerr := net.Listen("tcp", *listen)
		if lerr != nil {
			return lerr
		}
		hs := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		defer hs.Close()
		log.Info("monitor: serving the mirror and /metrics", "addr", ln.Addr().String())
	}
	if err == nil {
		if *once {
			err = m.Poll(ctx)
		} else {
			err = m.Run(ctx, *interval)
		}
	}
	if *out != "" && m.RecordVerified() {
		if werr := m.WriteRecord(*out); werr != nil {
			return werr
		}
		fmt.Fprintf(stdout, "The verified record of %s is in %s\n", *id, *out)
	}
	if cp := m.Latest(); cp != nil {
		cs := int64(0)
		if c := m.Cosigned(); c != nil {
			cs = c.Size
		}
		fmt.Fprintf(stdout, "Board of %s: %d entries held and checked (root %x…), %d covered by a cosigned checkpoint\n", *id, cp.Size, cp.Hash[:8], cs)
	}
	if !errors.As(err, &p) {
		return err
	}
	fmt.Fprintf(stderr, "koe: error: %v\n", p)
	if *listen != "" && !*once {
		// Keep serving what was verified and the metrics that say what
		// went wrong, until stopped; then exit with the problem's status.
		log.Error("monitor: stopped following; serving the mirror and metrics until stopped", "exit_status", p.Code)
		<-ctx.Done()
	}
	return &exitError{code: p.Code}
}
