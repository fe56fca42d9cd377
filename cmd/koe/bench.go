package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "cast" {
		return runBenchCast(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "mix" {
		return runBenchMix(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "linkage" {
		return runBenchLinkage(args[1:], stdout, stderr)
	}
	fs := newFlags("koe bench", "koe bench [--ballots N] [--election-ballots N] | koe bench cast … | koe bench linkage … | koe bench mix …", stderr)
	n := fs.Int("ballots", 512, "ballots for the encryption and verification measurements")
	full := fs.Int("election-ballots", 10000, "ballots in the whole-election measurement (0 to skip)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *n < 64 {
		return usagef("--ballots must be at least 64")
	}
	data, _ := examples.Manifest("budget")
	x, err := group.RandomScalar(rand.Reader)
	if err != nil {
		return err
	}
	e, err := ballot.NewElection(data, group.BaseMul(x), ballot.NoRegistrar)
	if err != nil {
		return err
	}
	cores := runtime.GOMAXPROCS(0)
	fmt.Fprintf(stdout, "koe bench on %d cores (%s/%s, %s)\n", cores, runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(stdout, "Ballot: %q — %d selections, %d range-proof branches, %d bytes\n\n",
		e.Manifest.Questions[0].Label.En, e.Style.Selections(), branches(e.Style), e.Style.Size())

	pt, err := e.Manifest.Plaintext(ballot.Answers{"projects": []any{"park-lights", "library-hours", "wifi"}})
	if err != nil {
		return err
	}
	// Encryption, one core.
	p := newProgress(stderr, "encrypting", *n)
	raws := make([][]byte, *n)
	start := time.Now()
	for i := range raws {
		var binding [32]byte
		rand.Read(binding[:])
		b, _, err := ballot.Encrypt(rand.Reader, e, binding, pt)
		if err != nil {
			return err
		}
		raws[i] = b.Bytes()
		p.set(i + 1)
	}
	enc := time.Since(start)
	row(stdout, "encrypt + prove, 1 core", enc, *n, 0)

	// Verification, one core, unbatched.
	start = time.Now()
	for _, raw := range raws {
		b, err := ballot.Decode(e, raw)
		if err != nil {
			return err
		}
		if err := b.Verify(e); err != nil {
			return err
		}
	}
	unb := time.Since(start)
	row(stdout, "verify, 1 core, unbatched", unb, *n, 0)

	// Verification, one core, batched: one batch per ballot, then 64 ballots per batch.
	verifyChunks := func(raws [][]byte, size int) error {
		for i := 0; i < len(raws); i += size {
			batch := group.NewBatch()
			for _, raw := range raws[i:min(i+size, len(raws))] {
				b, err := ballot.Decode(e, raw)
				if err != nil {
					return err
				}
				if err := b.AddTo(batch, e); err != nil {
					return err
				}
			}
			if !batch.Verify() {
				return fmt.Errorf("batch verification failed")
			}
		}
		return nil
	}
	start = time.Now()
	if err := verifyChunks(raws, 1); err != nil {
		return err
	}
	row(stdout, "verify, 1 core, batch per ballot", time.Since(start), *n, unb)
	start = time.Now()
	if err := verifyChunks(raws, 64); err != nil {
		return err
	}
	bat := time.Since(start)
	row(stdout, "verify, 1 core, batched (64)", bat, *n, unb)

	// Verification on every core, batched.
	start = time.Now()
	var wg sync.WaitGroup
	errs := make([]error, cores)
	per := (len(raws) + cores - 1) / cores
	for c := range cores {
		lo, hi := c*per, min((c+1)*per, len(raws))
		wg.Add(1)
		go func() { defer wg.Done(); errs[c] = verifyChunks(raws[lo:hi], 64) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	all := time.Since(start)
	row(stdout, fmt.Sprintf("verify, %d cores, batched (64)", cores), all, *n, unb)

	if *full > 0 {
		fmt.Fprintf(stdout, "\nWhole election: %d ballots of this kind, 5 trustees, threshold 3, 2 absent\n", *full)
		dir, err := os.MkdirTemp("", "koe-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		var dp *progress
		var stage string
		s, err := demo.Run(demo.Options{Dir: dir, Manifest: data, Voters: *full, Trustees: 5, Threshold: 3, Absent: []int{2, 4},
			Progress: func(st string, done, total int) {
				if dp == nil || st != stage {
					dp, stage = newProgress(stderr, st, total), st
				}
				dp.set(done)
			}})
		if err != nil {
			return err
		}
		if !s.Report.OK() {
			return fmt.Errorf("the benchmark election's record did not verify")
		}
		for _, t := range s.Timings {
			fmt.Fprintf(stdout, "  %-44s %9.2fs\n", t.Stage, t.Duration.Seconds())
		}
	}
	return nil
}

func branches(st *ballot.Style) int {
	n := 0
	for _, q := range st.Questions {
		if q.Mixed {
			continue
		}
		n += q.Selections * int(q.Max+1)
		if q.HasTotal {
			n += int(q.TotalHi - q.TotalLo + 1)
		}
	}
	return n
}

// row prints a throughput line, with the speed-up over base when base > 0.
func row(w io.Writer, what string, d time.Duration, n int, base time.Duration) {
	per := d / time.Duration(n)
	line := fmt.Sprintf("  %-34s %8.3f ms/ballot %9.0f ballots/s", what, float64(per.Microseconds())/1000, float64(n)/d.Seconds())
	if base > 0 {
		line += fmt.Sprintf("  ×%.2f", float64(base)/float64(d))
	}
	fmt.Fprintln(w, line)
}
