package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/sqlite"
)

// runBenchCast is a load generator: it runs an election on a koe server
// (one it starts on loopback, or --server), registers voters and seals
// their ballots beforehand, then times concurrent casts.
func runBenchCast(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe bench cast", "koe bench cast [--db postgres://…] [--voters N] [--concurrency C] [--server URL --token-file F]", stderr)
	voters := fs.Int("voters", 3000, "ballots to cast in the timed phase (one voter each)")
	conc := fs.Int("concurrency", 32, "casts in flight at once")
	db := fs.String("db", "", "PostgreSQL URL for the server this command starts (default: SQLite in a temporary directory)")
	srvURL := fs.String("server", "", "cast against this running koe server instead of starting one")
	tokenFile := fs.String("token-file", "", "with --server: the administrator's token file (default: $KOE_ADMIN_TOKEN)")
	manifestName := fs.String("manifest", "budget", "manifest (the default has 10 selections)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	base := *srvURL
	token, err := readToken(*tokenFile, "KOE_ADMIN_TOKEN")
	if err != nil {
		return err
	}
	backend := "the server at " + base
	if base == "" {
		var stop func()
		var err error
		base, token, backend, stop, err = startBenchServer(ctx, *db, nil)
		if err != nil {
			return err
		}
		defer stop()
	}
	manifest, err := readManifestArg(*manifestName)
	if err != nil {
		return err
	}
	// A fresh id per run, so runs can share a server.
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return err
	}
	m.ID = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	manifest, err = jsonIndent(m)
	if err != nil {
		return err
	}
	admin := client.New(base, token)
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return err
	}
	id := created.ID
	fmt.Fprintf(stdout, "koe bench cast: %d casts, %d in flight, against %s\n", *voters, *conc, backend)
	if _, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens); err != nil {
		return err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "B", *voters)
	if err != nil {
		return err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Ballot: %d selections, %d bytes; setting up voters (not timed)…\n", el.E.Style.Selections(), el.E.Style.Size())

	// Register and seal beforehand, on every core.
	envs := make([]*ballotbox.Envelope, *voters)
	p := newProgress(stderr, "registering, sealing", *voters)
	var done sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	count := 0
	for range *conc {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := range next {
				vid := fmt.Sprintf("B%05d", i)
				cred, err := voter.Register(ctx, el, vid, codes[vid])
				var env *ballotbox.Envelope
				if err == nil {
					pt := demoPlaintext(el.E.Manifest, i)
					env, _, _, err = client.Seal(el, cred, pt, 1)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				envs[i] = env
				count++
				p.set(count)
				mu.Unlock()
			}
		}()
	}
	for i := range *voters {
		next <- i
	}
	close(next)
	done.Wait()
	if firstErr != nil {
		return firstErr
	}

	// The timed phase.
	lat := make([]time.Duration, *voters)
	jobs := make(chan int)
	start := time.Now()
	for range *conc {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := range jobs {
				t0 := time.Now()
				_, err := voter.Cast(ctx, id, envs[i])
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range *voters {
		jobs <- i
	}
	close(jobs)
	done.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	fmt.Fprintf(stdout, "  %d casts in %.2fs: %.0f casts/s\n", *voters, elapsed.Seconds(), float64(*voters)/elapsed.Seconds())
	fmt.Fprintf(stdout, "  latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(lat[len(lat)-1]))
	fmt.Fprintln(stdout, "  (each cast: credential, signature and every proof verified; committed durably before its receipt)")
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// demoPlaintext gives voter i plausible answers.
func demoPlaintext(m *ballot.Manifest, i int) ballot.Plaintext {
	pt := make(ballot.Plaintext, len(m.Questions))
	for qi, q := range m.Questions {
		switch q.Kind {
		case ballot.KindRating:
			pt[qi] = []uint64{uint64(i % (q.Max - q.Min + 1))}
		default:
			pt[qi] = make([]uint64, len(q.Options))
			k := 1
			if q.Kind == ballot.KindMultiple {
				k = max(q.Min, 1)
			}
			for c := 0; c < k; c++ {
				pt[qi][(i+c)%len(q.Options)] = 1
			}
		}
	}
	return pt
}

// startBenchServer starts a koe server on a loopback port in this process;
// tune, if not nil, adjusts its configuration.
func startBenchServer(ctx context.Context, db string, tune func(*server.Config)) (base, token, backend string, stop func(), err error) {
	var st store.Store
	dir, err := os.MkdirTemp("", "koe-bench-cast-")
	if err != nil {
		return
	}
	if db != "" {
		st, err = postgres.Open(ctx, db)
		backend = "koe serve on PostgreSQL (same process, loopback)"
	} else {
		st, err = sqlite.Open(filepath.Join(dir, "koe.db"))
		backend = "koe serve on SQLite (same process, loopback)"
	}
	if err != nil {
		os.RemoveAll(dir)
		return
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	token = "bench-administrator-token"
	cfg := server.Config{Store: st, Origin: "127.0.0.1", BoardKey: key, AdminToken: token,
		RegisterRate: 1e6, RegisterBurst: 1e6, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	base = "http://" + ln.Addr().String()
	stop = func() { hs.Close(); srv.Close(); st.Close(); os.RemoveAll(dir) }
	return
}
