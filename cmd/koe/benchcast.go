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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/witness"
	"github.com/koe-vote/koe/internal/witness/omniwitness"
)

// runBenchCast is a load generator: it runs an election on a koe server
// (one it starts on loopback, or --server), registers voters and seals
// their ballots beforehand, then times concurrent casts. With
// --witnesses N it runs, in the same process, one election without
// witnesses and one whose manifest names N real omniwitnesses on loopback
// (quorum a majority), and compares them.
func runBenchCast(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe bench cast", "koe bench cast [--db postgres://…] [--voters N] [--concurrency C] [--witnesses N] [--server URL --token-file F]", stderr)
	voters := fs.Int("voters", 3000, "ballots to cast in the timed phase (one voter each)")
	conc := fs.Int("concurrency", 32, "casts in flight at once")
	db := fs.String("db", "", "PostgreSQL URL for the server this command starts (default: SQLite in a temporary directory)")
	srvURL := fs.String("server", "", "cast against this running koe server instead of starting one")
	tokenFile := fs.String("token-file", "", "with --server: the administrator's token file (default: $KOE_ADMIN_TOKEN)")
	manifestName := fs.String("manifest", "budget", "manifest (the default has 10 selections)")
	nWitnesses := fs.Int("witnesses", 0, "also run the election with this many omniwitnesses on loopback (built from tools/omniwitness), quorum a majority, and compare")
	witnessBin := fs.String("omniwitness", "", "with --witnesses: the omniwitness binary (default: build it from tools/omniwitness of this source tree)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *nWitnesses < 0 || *nWitnesses > witness.MaxWitnesses {
		return usagef("--witnesses: want 0..%d", witness.MaxWitnesses)
	}
	if *voters < 1 || *conc < 1 {
		return usagef("--voters and --concurrency: want at least 1")
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
	b := &castBench{base: base, token: token, manifest: manifest, voters: *voters, conc: *conc, stdout: stdout, stderr: stderr}
	fmt.Fprintf(stdout, "koe bench cast: %d casts, %d in flight, against %s\n", *voters, *conc, backend)
	plain, err := b.run(ctx, nil)
	if err != nil {
		return err
	}
	if *nWitnesses == 0 {
		return nil
	}
	bin := *witnessBin
	if bin == "" {
		dir, err := omniwitness.ModuleDir()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Building the omniwitness from %s (once; cached)…\n", dir)
		if bin, err = omniwitness.Build(dir); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "koe-bench-witnesses-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var ws []*omniwitness.Witness
	defer func() {
		for _, w := range ws {
			w.Stop()
		}
	}()
	quorum := *nWitnesses/2 + 1
	witnessed, err := b.run(ctx, func(id, boardKey, origin string) (*ballot.BoardPolicy, error) {
		pol := &ballot.BoardPolicy{Key: boardKey, Quorum: quorum}
		for i := range *nWitnesses {
			dir := filepath.Join(tmp, fmt.Sprint(i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("witness%d.bench.example", i+1)
			w, err := omniwitness.Start(bin, dir, name, omniwitness.Log{Origin: origin, Key: boardKey})
			if err != nil {
				return nil, err
			}
			ws = append(ws, w)
			pol.Witnesses = append(pol.Witnesses, ballot.Witness{Name: ballot.Text{Ja: fmt.Sprintf("証人 %d", i+1), En: fmt.Sprintf("Witness %d", i+1)}, Key: w.Key.String(), URL: w.URL})
		}
		fmt.Fprintf(stdout, "With %d omniwitnesses on loopback, quorum %d:\n", *nWitnesses, quorum)
		return pol, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Witnessing: %.0f casts/s without witnesses, %.0f with %d (%+.1f%%); cast p50 %.1f ms → %.1f ms\n",
		plain.rate, witnessed.rate, *nWitnesses, 100*(witnessed.rate-plain.rate)/plain.rate, ms(plain.p50), ms(witnessed.p50))
	if witnessed.cosigns > 0 {
		fmt.Fprintf(stdout, "  a witness's cosignature of a new checkpoint (koe_witness_cosign_seconds): %d submissions, mean %.1f ms\n",
			witnessed.cosigns, 1000*witnessed.cosignSum/float64(witnessed.cosigns))
	}
	fmt.Fprintf(stdout, "  the last receipt to a cosigned checkpoint that covers it: %.1f ms (casting never waits for it, SPEC.md §15.7)\n", ms(witnessed.cosignedAfter))
	return nil
}

// castBench runs elections for koe bench cast.
type castBench struct {
	base, token    string
	manifest       []byte
	voters, conc   int
	stdout, stderr io.Writer
}

type castResult struct {
	rate          float64 // casts per second in the timed phase
	p50           time.Duration
	cosigns       int64         // witness submissions that returned a cosignature
	cosignSum     float64       // their total time, seconds
	cosignedAfter time.Duration // from the last receipt until a cosigned checkpoint covered it
}

// run runs one election; policy, if not nil, gives its manifest's board
// object from the election's id, board key and origin.
func (b *castBench) run(ctx context.Context, policy func(id, boardKey, origin string) (*ballot.BoardPolicy, error)) (*castResult, error) {
	// A fresh id per run, so runs can share a server.
	m, err := ballot.ParseManifest(b.manifest)
	if err != nil {
		return nil, err
	}
	m.ID = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	admin := client.New(b.base, b.token)
	voter := client.New(b.base, "")
	if policy != nil {
		raw, err := voter.Raw(ctx, "GET", "/api/v1/board-key/"+m.ID, "", nil)
		if err != nil {
			return nil, err
		}
		boardKey := strings.TrimSuffix(string(raw), "\n")
		v, err := board.ParseVerifierKey(boardKey)
		if err != nil {
			return nil, err
		}
		if m.Board, err = policy(m.ID, boardKey, v.Name()); err != nil {
			return nil, err
		}
	}
	manifest, err := jsonIndent(m)
	if err != nil {
		return nil, err
	}
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return nil, err
	}
	id := created.ID
	if _, err := demo.ServerCeremony(ctx, b.base, id, manifest, created.TrusteeTokens); err != nil {
		return nil, err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "B", b.voters)
	if err != nil {
		return nil, err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return nil, err
	}
	el, err := voter.Election(ctx, id)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.stdout, "Ballot: %d selections, %d bytes; setting up voters (not timed)…\n", el.E.Style.Selections(), el.E.Style.Size())

	// Register and seal beforehand, on every core.
	envs := make([]*ballotbox.Envelope, b.voters)
	p := newProgress(b.stderr, "registering, sealing", b.voters)
	var done sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	count := 0
	for range b.conc {
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
	for i := range b.voters {
		next <- i
	}
	close(next)
	done.Wait()
	if firstErr != nil {
		return nil, firstErr
	}

	// The timed phase.
	lat := make([]time.Duration, b.voters)
	jobs := make(chan int)
	var lastIndex int64
	start := time.Now()
	for range b.conc {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := range jobs {
				t0 := time.Now()
				r, err := voter.Cast(ctx, id, envs[i])
				lat[i] = time.Since(t0)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil && r.Receipt.Index > lastIndex {
					lastIndex = r.Receipt.Index
				}
				mu.Unlock()
			}
		}()
	}
	for i := range b.voters {
		jobs <- i
	}
	close(jobs)
	done.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	res := &castResult{rate: float64(b.voters) / elapsed.Seconds()}
	if policy != nil {
		// Until a checkpoint cosigned by the quorum covers the last ballot.
		pol, err := m.WitnessPolicy()
		if err != nil {
			return nil, err
		}
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
			raw, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/cosigned-checkpoint"), "", nil)
			if err == nil {
				if cp, _, err := pol.Verify(raw); err == nil && cp.Size > lastIndex {
					break
				}
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("bench: no cosigned checkpoint covered the last ballot (entry %d) within 2 minutes", lastIndex)
			}
		}
		res.cosignedAfter = time.Since(start) - elapsed
		if res.cosigns, res.cosignSum, err = cosignMetric(ctx, admin, id); err != nil {
			return nil, err
		}
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	res.p50 = q(0.50)
	fmt.Fprintf(b.stdout, "  %d casts in %.2fs: %.0f casts/s\n", b.voters, elapsed.Seconds(), res.rate)
	fmt.Fprintf(b.stdout, "  latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(lat[len(lat)-1]))
	fmt.Fprintln(b.stdout, "  (each cast: credential, signature and every proof verified; committed durably before its receipt)")
	return res, nil
}

// cosignMetric reads koe_witness_cosign_seconds of an election from the
// server's /metrics: the number of cosignatures and their total time.
func cosignMetric(ctx context.Context, admin *client.Client, id string) (int64, float64, error) {
	raw, err := admin.Raw(ctx, "GET", "/metrics", "", nil)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: reading the server's metrics: %w", err)
	}
	var n int64
	var sum float64
	label := `{election="` + id + `",`
	for _, line := range strings.Split(string(raw), "\n") {
		name, rest, ok := strings.Cut(line, label)
		if !ok {
			continue
		}
		_, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		switch name {
		case "koe_witness_cosign_seconds_sum":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("bench: metric %q: %v", line, err)
			}
			sum += v
		case "koe_witness_cosign_seconds_count":
			v, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("bench: metric %q: %v", line, err)
			}
			n += v
		}
	}
	return n, sum, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// demoPlaintext gives voter i plausible answers.
func demoPlaintext(m *ballot.Manifest, i int) ballot.Plaintext {
	pt := make(ballot.Plaintext, len(m.Questions))
	for qi, q := range m.Questions {
		switch q.Kind {
		case ballot.KindRating:
			pt[qi] = make([]uint64, q.Max-q.Min+1)
			pt[qi][i%(q.Max-q.Min+1)] = 1
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
