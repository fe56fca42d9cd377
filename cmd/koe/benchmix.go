package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/textenc"
)

// benchComment is the sentence the mix benchmark's comments are cut from
// (the city survey's free-text question, SPEC.md §16.2).
const benchComment = "駅前の駐輪場が足りず、朝は歩道まで自転車があふれています。" +
	"高齢者や車いすの方が通りにくいので、市営の立体駐輪場を増やし、放置自転車の撤去を週一回から毎日にしてほしいです。" +
	"また、公民館の夜間開館を続けてください。"

// runBenchMix measures one mix with its proof of shuffle and the
// verification of that mix (SPEC.md §16.3), of --ballots ballots each holding
// one --chars-character Japanese comment.
func runBenchMix(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe bench mix", "koe bench mix [--ballots N] [--chars L]", stderr)
	n := fs.Int("ballots", 10000, "ballots in the mixed list")
	chars := fs.Int("chars", 200, "characters of each comment (the question's maximum L)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *n < 2 || *n > shuffle.MaxCount {
		return usagef("--ballots must be 2..%d", shuffle.MaxCount)
	}
	w, err := textenc.Width(*chars)
	if err != nil {
		return usagef("--chars: %v", err)
	}
	x, err := group.RandomScalar(rand.Reader)
	if err != nil {
		return err
	}
	K := group.BaseMul(x)
	cores := runtime.GOMAXPROCS(0)
	fmt.Fprintf(stdout, "koe bench mix on %d cores (%s/%s, %s)\n", cores, runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(stdout, "List: %d ballots × one %d-character comment = %d elements each, %d ciphertexts\n\n",
		*n, *chars, w, *n*w)

	// The voters' side: encode and encrypt every comment (not timed).
	p := newProgress(stderr, "encrypting comments", *n)
	in := make([]shuffle.Vector, *n)
	var done atomic.Int64
	var ferr atomic.Value
	parallelRange(*n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ms, err := textenc.EncodeText(benchText(i, *chars), *chars)
			if err == nil {
				in[i], err = shuffle.Encrypt(rand.Reader, K, ms)
			}
			if err != nil {
				ferr.Store(err)
				return
			}
			p.set(int(done.Add(1)))
		}
	})
	if err, ok := ferr.Load().(error); ok {
		return err
	}

	inList, err := shuffle.NewList(in)
	if err != nil {
		return err
	}
	ctx := make([]byte, 32)
	rand.Read(ctx)
	fmt.Fprintln(stderr, "  mixing and proving …")
	start, cpu0 := time.Now(), cpuNow()
	out, proof, err := shuffle.ShuffleList(rand.Reader, ctx, K, inList)
	if err != nil {
		return err
	}
	rawProof := proof.Bytes()
	prove, proveCPU := time.Since(start), cpuNow()-cpu0
	mixRow(stdout, "mix + prove (+ encode)", prove, *n, w)
	fmt.Fprintf(stdout, "  %-34s %8.1f MiB list, %.1f MiB proof\n", "sizes",
		float64(len(out.Bytes()))/(1<<20), float64(len(rawProof))/(1<<20))

	// The verifier receives bytes: decoding the output list and the proof is
	// part of its work (the input list is the previous round's output, or the
	// counted ballots, decoded once).
	fmt.Fprintln(stderr, "  decoding and verifying …")
	start, cpu0 = time.Now(), cpuNow()
	outList, err := shuffle.DecodeList(out.Bytes(), *n, w)
	if err != nil {
		return err
	}
	dec := time.Since(start)
	if err := shuffle.VerifyList(ctx, K, inList, outList, rawProof); err != nil {
		return err
	}
	ver, verCPU := time.Since(start), cpuNow()-cpu0
	mixRow(stdout, "decode output list", dec, *n, w)
	mixRow(stdout, "decode + verify (list and proof)", ver, *n, w)
	if _, ok := cpuTime(); ok {
		fmt.Fprintf(stdout, "\n  CPU time (all cores; on a shared machine wall time ≥ CPU time / %d):\n", cores)
		fmt.Fprintf(stdout, "  %-34s %8.2f s\n  %-34s %8.2f s\n", "mix + prove", proveCPU.Seconds(), "decode + verify", verCPU.Seconds())
	}
	return nil
}

func cpuNow() time.Duration { d, _ := cpuTime(); return d }

// benchText returns the i-th comment: chars characters of benchComment,
// rotated by i so that no two neighbours are equal.
func benchText(i, chars int) string {
	r := []rune(strings.Repeat(benchComment, chars/len([]rune(benchComment))+2))
	off := i % len([]rune(benchComment))
	return string(r[off : off+chars])
}

func mixRow(w io.Writer, what string, d time.Duration, n, width int) {
	fmt.Fprintf(w, "  %-34s %8.2f s %9.0f ballots/s %9.0f ciphertexts/s\n",
		what, d.Seconds(), float64(n)/d.Seconds(), float64(n*width)/d.Seconds())
}

// parallelRange runs f on [0, n) in one chunk per core.
func parallelRange(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	doneCh := make(chan struct{}, p)
	for c := range p {
		go func() { f(c*n/p, (c+1)*n/p); doneCh <- struct{}{} }()
	}
	for range p {
		<-doneCh
	}
}
