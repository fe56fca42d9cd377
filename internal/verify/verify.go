// Package verify is koe's universal verifier (SPEC.md §11): given an
// election record, it re-checks the ceremony, every ballot and its proofs,
// the spoiled ballots, the homomorphic tally, every partial decryption, the
// mix of every text and rank question (§16.6: each round's proof of
// shuffle, the decryption shares of the final list, mixed/Q.json) and the
// published results, and reports each failure with what and where.
package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

// Options tune a verification.
type Options struct {
	Workers   int                                 // parallel workers for ballots; 0 means GOMAXPROCS
	Unbatched bool                                // check every proof equation on its own
	Progress  func(stage string, done, total int) // called as ballots ("ballots") and mix rounds and shares ("mixes") are checked; may be nil
}

// Check is one line of a report.
type Check struct {
	OK     bool
	What   string // the part of the record
	Detail string
}

// Report is the outcome of a verification.
type Report struct {
	Checks   []Check
	Results  *tally.Results
	Spoiled  []ballot.Answers // what each spoiled ballot was opened to
	Ballots  int
	Election *ballot.Election
	issued   int // credentials issued, for a record with a board
	// of which by roll and by digital ID
	issuedRoll, issuedDigital int
	// Trusted lists, in plain words, what the verification could not
	// check and still trusts.
	Trusted []string
	// InProgress is set when the record ends before the results: every
	// check it allows has been made.
	InProgress bool
	// Withheld is set when the tally counts fewer ballots than the
	// manifest's privacy threshold and, as it must, nobody decrypted it.
	Withheld bool
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failures returns the failed checks.
func (r *Report) Failures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) pass(what, format string, args ...any) {
	r.Checks = append(r.Checks, Check{OK: true, What: what, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) fail(what, format string, args ...any) {
	r.Checks = append(r.Checks, Check{OK: false, What: what, Detail: fmt.Sprintf(format, args...)})
}

// maxListed bounds how many failures of one kind a report lists one by one.
const maxListed = 20

// Record verifies the election record in dir.
func Record(dir string, opt Options) *Report {
	r, res, acc, excluded := countedBallots(dir, opt)
	if acc == nil {
		return r
	}
	e := r.Election

	// 5. The encrypted tally. An election still in progress has none yet:
	// everything published so far has been checked.
	if !fileExists(filepath.Join(dir, record.Tally)) && !fileExists(filepath.Join(dir, record.Results)) {
		if n := mixFilesPresent(dir, e); n > 0 {
			r.fail(record.MixesDir, "%d round or share files of a mix before the tally: a mix shuffles the counted ballots of the tally (SPEC.md §16.6)", n)
			return r
		}
		r.InProgress = true
		r.pass(record.Tally, "not published yet: the election is still open or not yet tallied")
		return r
	}
	var pub tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &pub); err != nil {
		r.fail(record.Tally, "%v", err)
		return r
	}
	if err := CheckTally(acc, &pub); err != nil {
		r.fail(record.Tally, "%v", err)
		return r
	}
	r.pass(record.Tally, "is the homomorphic sum of the %d ballots", acc.Ballots)

	// The privacy threshold: below it nothing may be decrypted.
	if err := tally.CheckPrivacy(e.Manifest, acc.Ballots); err != nil {
		files, ierr := record.Indexed(filepath.Join(dir, record.DecryptDir), "trustee")
		switch {
		case ierr != nil:
			r.fail(record.DecryptDir, "%v", ierr)
		case len(files) > 0 || fileExists(filepath.Join(dir, record.Results)):
			r.fail(record.DecryptDir, "%d partial decryptions published of a tally of %d ballots, below the manifest's privacy threshold of %d: no trustee may decrypt it", len(files), acc.Ballots, e.Manifest.PrivacyThreshold())
		case mixFilesPresent(dir, e) > 0:
			r.fail(record.MixesDir, "%d round or share files of a mix of a tally of %d ballots, below the manifest's privacy threshold of %d: there is no mix below it (SPEC.md §16.6)", mixFilesPresent(dir, e), acc.Ballots, e.Manifest.PrivacyThreshold())
		default:
			r.Withheld = true
			r.pass(record.Results, "withheld: %d ballots counted, fewer than the privacy threshold of %d, and no trustee decrypted the tally", acc.Ballots, e.Manifest.PrivacyThreshold())
		}
		return r
	}

	// 6. Partial decryptions.
	partials := checkDecryptions(r, dir, e, res, acc)
	// 11. The mixes of text and rank questions: rounds and shares as far
	// as they go; with the results, complete and matching mixed/.
	published := fileExists(filepath.Join(dir, record.Results))
	mixed, _ := checkMixes(r, dir, e, res, excluded, published, opt)
	if !published {
		r.InProgress = true
		r.pass(record.Results, "not published yet: %d of the %d partial decryptions needed are in", len(partials), e.Manifest.Threshold)
		return r
	}
	if len(partials) < e.Manifest.Threshold {
		r.fail(record.DecryptDir, "%d valid partial decryptions, the threshold is %d", len(partials), e.Manifest.Threshold)
		return r
	}

	// 7. Results.
	table := elgamal.NewDlogTable(tally.MaxTotal(e.Style, acc.Ballots))
	totals, err := tally.Combine(acc, partials, e.Manifest.Threshold, table)
	if err != nil {
		r.fail(record.Results, "combining the partial decryptions: %v", err)
		return r
	}
	computed := tally.ResultsOf(e.Manifest, acc.Ballots, totals)
	skip, err := mixedCounts(computed, mixed)
	if err != nil {
		r.fail(record.Results, "%v", err)
		return r
	}
	r.Results = computed
	data, err := record.ReadFile(filepath.Join(dir, record.Results))
	if err != nil {
		r.fail(record.Results, "%v", err)
		return r
	}
	published2, err := tally.ParseResults(data)
	if err != nil {
		r.fail(record.Results, "%v", err)
		return r
	}
	if diff := compareResults(computed, published2, skip); diff != "" {
		r.fail(record.Results, "the published results do not follow from the decryption: %s", diff)
		return r
	}
	r.pass(record.Results, "follow from the tally and the partial decryptions of trustees %v", sortedKeys(partials))
	return r
}

// Counted runs the verifier's steps up to the tally on the record in dir
// (SPEC.md §11 steps 1–4 and, for a record with a board, §13.6): the
// manifest and ceremony, election.json, the board's checkpoint, lifecycle
// and envelopes, every counted ballot and its proofs, and the rules across
// ballots. It returns the report and, only if every check passed, the
// ceremony's result and the homomorphic sum of exactly the counted ballots
// (its Ballots field their number). A trustee runs it before decrypting
// (§9.2); Record runs it first.
func Counted(dir string, opt Options) (*Report, *ceremony.Result, *tally.Accumulator) {
	r, res, acc, _ := countedBallots(dir, opt)
	if !r.OK() {
		return r, nil, nil
	}
	return r, res, acc
}

// countedBallots is Counted, except that acc is returned whenever the
// ballots themselves verified, so that Record goes on to check the tally
// of a record whose other parts failed; excluded are the positions in
// ballots.bin (0-based, increasing) of the ballots the cross-ballot rules
// exclude.
func countedBallots(dir string, opt Options) (r *Report, res *ceremony.Result, acc *tally.Accumulator, excluded []int) {
	r = &Report{}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		r.fail("record", "%s is not a directory holding an election record", dir)
		return r, nil, nil, nil
	}

	// 1. Manifest and ceremony.
	e, res, err := record.LoadElection(dir)
	if err != nil {
		r.fail("manifest and ceremony", "%v", err)
		return r, nil, nil, nil
	}
	r.Election = e
	r.pass(record.Manifest, "%q (%s), %d questions, manifest hash %x", e.Manifest.Title.Ja, e.Manifest.ID, len(e.Manifest.Questions), e.ManifestHash[:8])
	r.pass(record.CeremonyDir, "%d trustees, threshold %d: every commitment and proof checks; qualified trustees %v", e.Manifest.Trustees, e.Manifest.Threshold, res.Qual)

	// 2. election.json must be what the ceremony implies.
	var published record.Params
	if err := record.ReadJSON(filepath.Join(dir, record.Election), &published); err != nil {
		r.fail(record.Election, "%v", err)
	} else {
		want, _ := json.Marshal(record.ParamsOf(e, res))
		got, _ := json.Marshal(&published)
		if !bytes.Equal(want, got) {
			r.fail(record.Election, "does not match the parameters the manifest and ceremony imply (joint key, context or verification keys differ)")
		} else {
			r.pass(record.Election, "joint key %x…, context %x… follow from the ceremony", e.Key.Bytes()[:8], e.Context[:8])
		}
	}

	// The bulletin board, if the record came from a server. A failure
	// there stops verification (SPEC.md §11 step 10): the record's other
	// files are then not known to be the board's.
	if hasBoard(dir) {
		before := len(r.Failures())
		checkBoard(r, dir, e, res, opt)
		if len(r.Failures()) > before {
			return r, res, nil, nil
		}
	} else {
		trustNoBoard(r)
	}

	// 3. Cast ballots.
	acc, cast, ok := checkBallots(r, dir, e, opt)

	// 4. Spoiled ballots.
	checkSpoiled(r, dir, e, cast)
	if !ok {
		return r, res, nil, nil
	}
	return r, res, acc, cast.excluded
}

// CheckTally reports whether the published encrypted tally pub is exactly
// acc, the homomorphic sum of the counted ballots (SPEC.md §11 step 5):
// the same number of ballots and, selection by selection, the same
// ciphertexts.
func CheckTally(acc *tally.Accumulator, pub *tally.Encrypted) error {
	want := acc.Publish()
	if pub.Ballots != want.Ballots {
		return fmt.Errorf("counts %d ballots, the record holds %d", pub.Ballots, want.Ballots)
	}
	if len(pub.Ciphertexts) != len(want.Ciphertexts) {
		return fmt.Errorf("has %d ciphertexts, a ballot has %d selections", len(pub.Ciphertexts), len(want.Ciphertexts))
	}
	for k := range want.Ciphertexts {
		if pub.Ciphertexts[k] != want.Ciphertexts[k] {
			return fmt.Errorf("selection %d is not the sum of the ballots' ciphertexts", k+1)
		}
	}
	return nil
}

func sortedKeys(m map[int][]*group.Element) []int {
	out := make([]int, 0, len(m))
	for j := 1; j <= ballot.MaxTrustees; j++ {
		if _, ok := m[j]; ok {
			out = append(out, j)
		}
	}
	return out
}

// compareResults says how the published results got differ from want,
// "" if they do not; the questions in skip (mixed questions whose mix
// failed, so whose counts are unknown) are compared by id and kind only.
func compareResults(want, got *tally.Results, skip map[string]bool) string {
	if want.Election != got.Election {
		return fmt.Sprintf("election %q, want %q", got.Election, want.Election)
	}
	if want.Ballots != got.Ballots {
		return fmt.Sprintf("%d ballots counted, want %d", got.Ballots, want.Ballots)
	}
	if len(want.Questions) != len(got.Questions) {
		return fmt.Sprintf("%d questions, want %d", len(got.Questions), len(want.Questions))
	}
	for i := range want.Questions {
		w, g := want.Questions[i], got.Questions[i]
		if w.ID != g.ID || w.Kind != g.Kind {
			return fmt.Sprintf("question %d is %q (%s), want %q (%s)", i+1, g.ID, g.Kind, w.ID, w.Kind)
		}
		if skip[w.ID] {
			continue
		}
		if diff := compareCounts(w, g); diff != "" {
			return fmt.Sprintf("question %q: %s", w.ID, diff)
		}
		if (w.Total == nil) != (g.Total == nil) || (w.Total != nil && *w.Total != *g.Total) {
			return fmt.Sprintf("question %q: total differs", w.ID)
		}
		if len(w.Values) != len(g.Values) {
			return fmt.Sprintf("question %q: %d values, want %d", w.ID, len(g.Values), len(w.Values))
		}
		for k := range w.Values {
			if w.Values[k].Value != g.Values[k].Value {
				return fmt.Sprintf("question %q: entry %d of values is for value %d, want %d (min to max)", w.ID, k+1, g.Values[k].Value, w.Values[k].Value)
			}
			if w.Values[k].Count != g.Values[k].Count {
				return fmt.Sprintf("question %q value %d: %d ballots published, the decryption gives %d", w.ID, w.Values[k].Value, g.Values[k].Count, w.Values[k].Count)
			}
		}
		if len(w.Options) != len(g.Options) {
			return fmt.Sprintf("question %q: %d options, want %d", w.ID, len(g.Options), len(w.Options))
		}
		for k := range w.Options {
			if w.Options[k] != g.Options[k] {
				return fmt.Sprintf("question %q option %q: %d votes published, the decryption gives %d", w.ID, w.Options[k].ID, g.Options[k].Count, w.Options[k].Count)
			}
		}
	}
	return ""
}

// compareCounts compares the counts of a text or rank question's entry
// (SPEC.md §9.4): answers, empty and invalid for text, valid, invalid and
// winners for rank, each present exactly when it should be; a tallied
// question has none of them.
func compareCounts(w, g tally.QuestionResult) string {
	for _, c := range []struct {
		name      string
		want, got *int
	}{{"answers", w.Answers, g.Answers}, {"empty", w.Empty, g.Empty}, {"valid", w.Valid, g.Valid}, {"invalid", w.Invalid, g.Invalid}} {
		switch {
		case c.want == nil && c.got != nil:
			return fmt.Sprintf("has %q, which a %s question has not", c.name, w.Kind)
		case c.want != nil && c.got == nil:
			return fmt.Sprintf("%q is missing", c.name)
		case c.want != nil && *c.want != *c.got:
			return fmt.Sprintf("%s %d published, the mix's decryption gives %d", c.name, *c.got, *c.want)
		}
	}
	if !slices.Equal(w.Winners, g.Winners) {
		return fmt.Sprintf("winners %v published, the mix's decryption gives %v", g.Winners, w.Winners)
	}
	return ""
}

// Ballots verifies every cast ballot of the record in dir, as Record does,
// and returns their homomorphic sum, or an error listing the invalid ballots.
func Ballots(dir string, e *ballot.Election, opt Options) (*tally.Accumulator, error) {
	r := &Report{}
	acc, _, ok := checkBallots(r, dir, e, opt)
	if !ok || len(r.Failures()) > 0 {
		var msgs []string
		for _, f := range r.Failures() {
			msgs = append(msgs, f.Detail)
		}
		return nil, fmt.Errorf("%s: %s", record.Ballots, strings.Join(msgs, "; "))
	}
	return acc, nil
}

// ballotResult is what a worker learns about one ballot.
type ballotResult struct {
	index    int
	tracking [32]byte
	err      error
	as       [][32]byte // the A component of every ciphertext, for duplicate detection
}

// chunk is the number of ballots verified in one batch.
const chunk = 64

// checkBallots verifies every ballot in parallel, in batches, and sums them.
// counted is what checkBallots learns of the counted ballots: their
// positions by tracking code and by the A component of every ciphertext.
type counted struct {
	byTracking map[[32]byte]int
	byA        map[[32]byte]int
	excluded   []int // positions of the ballots the cross-ballot rules exclude, increasing
}

func checkBallots(r *Report, dir string, e *ballot.Election, opt Options) (*tally.Accumulator, *counted, bool) {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	br, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		r.fail(record.Ballots, "%v", err)
		return nil, nil, false
	}
	defer br.Close()
	total := br.Count
	type job struct {
		start int
		raws  [][]byte
	}
	jobs := make(chan job, opt.Workers*2)
	results := make(chan []ballotResult, opt.Workers*2)
	accs := make([]*tally.Accumulator, opt.Workers)
	var wg sync.WaitGroup
	for w := range opt.Workers {
		accs[w] = tally.NewAccumulator(e.Style)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- verifyChunk(e, j.start, j.raws, accs[w], opt.Unbatched)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		for start := 0; start < total; start += chunk {
			var raws [][]byte
			for i := start; i < total && i < start+chunk; i++ {
				raw, err := br.Next()
				if err != nil {
					readErr <- err
					return
				}
				raws = append(raws, raw)
			}
			jobs <- job{start: start, raws: raws}
		}
		readErr <- nil
	}()
	go func() { wg.Wait(); close(results) }()
	done := 0

	// Every ballot's outcome, by index: the cross-ballot rules are judged
	// in ballots.bin order once all are in, whatever order the workers
	// finish in.
	outcomes := make([]ballotResult, total)
	for rs := range results {
		for _, b := range rs {
			outcomes[b.index] = b
		}
		done += len(rs)
		if opt.Progress != nil {
			opt.Progress("ballots", done, total)
		}
	}
	if err := <-readErr; err != nil {
		r.fail(record.Ballots, "%v", err)
		return nil, nil, false
	}
	cast := make(map[[32]byte]int, total)
	seenA := make(map[[32]byte]int, total*e.Style.Selections())
	seen := &counted{byTracking: cast, byA: seenA}
	var failures []string
	bad := 0
	for _, b := range outcomes {
		if b.err != nil {
			bad++
			if len(failures) < maxListed {
				failures = append(failures, fmt.Sprintf("ballot %d (tracking %s): %v", b.index+1, ShortCode(b.tracking), b.err))
			}
		}
	}
	if bad > 0 {
		for _, f := range failures {
			r.fail(record.Ballots, "%s", f)
		}
		if bad > len(failures) {
			r.fail(record.Ballots, "and %d more invalid ballots", bad-len(failures))
		}
		for _, b := range outcomes {
			if b.err == nil {
				seen.add(b)
			}
		}
		return nil, seen, false
	}

	// The cross-ballot rules (SPEC.md §11 step 5): a ballot that breaks one
	// is named, excluded, and the tally is checked against the others.
	sp := spoiledValues(dir, e)
	var excluded []int
	for _, b := range outcomes {
		if why := crossBallotFault(b, seen, sp); why != "" {
			excluded = append(excluded, b.index)
			if len(excluded) <= maxListed {
				r.fail(record.Ballots, "ballot %d (tracking %s) is invalid and not counted: %s", b.index+1, ShortCode(b.tracking), why)
			}
		}
		seen.add(b)
	}
	seen.excluded = excluded
	if len(excluded) > maxListed {
		r.fail(record.Ballots, "and %d more ballots not counted for breaking the cross-ballot rules", len(excluded)-maxListed)
	}
	acc := tally.NewAccumulator(e.Style)
	for _, a := range accs {
		acc.Merge(a)
	}
	if len(excluded) > 0 {
		var err error
		if acc, err = sumExcept(dir, e, excluded); err != nil {
			r.fail(record.Ballots, "%v", err)
			return nil, seen, false
		}
	}
	mode := "batched"
	if opt.Unbatched {
		mode = "one equation at a time"
	}
	r.Ballots = acc.Ballots
	if len(excluded) > 0 {
		r.pass(record.Ballots, "the other %d of the %d ballots: every proof valid (%s, %d workers), no duplicates; the tally is checked against these %d", acc.Ballots, total, mode, opt.Workers, acc.Ballots)
	} else {
		r.pass(record.Ballots, "%d ballots, every proof valid (%s, %d workers), no duplicates", total, mode, opt.Workers)
	}
	return acc, seen, true
}

// add records a counted ballot's tracking code and ciphertexts, keeping
// the first ballot of each.
func (c *counted) add(b ballotResult) {
	if _, ok := c.byTracking[b.tracking]; !ok {
		c.byTracking[b.tracking] = b.index
	}
	for _, a := range b.as {
		if _, ok := c.byA[a]; !ok {
			c.byA[a] = b.index
		}
	}
}

// spoiled holds the tracking codes and ciphertext A components of the
// record's valid spoiled ballots, whose nonces are public.
type spoiled struct {
	tracking map[[32]byte]bool
	as       map[[32]byte]bool
}

// spoiledValues reads the record's valid spoiled ballots. One that does
// not decode or open is left out here: checkSpoiled names it.
func spoiledValues(dir string, e *ballot.Election) spoiled {
	out := spoiled{tracking: map[[32]byte]bool{}, as: map[[32]byte]bool{}}
	lines, err := record.ReadSpoiled(dir)
	if err != nil {
		return out
	}
	for _, line := range lines {
		s, err := ballot.ParseSpoiled(line)
		if err != nil {
			continue
		}
		b, err := s.Check(e)
		if err != nil {
			continue
		}
		out.tracking[b.TrackingCode()] = true
		for _, a := range b.CiphertextAs() {
			out.as[a] = true
		}
	}
	return out
}

// crossBallotFault says which cross-ballot rule of SPEC.md §11 step 5 a
// counted ballot breaks, judged against the counted ballots before it and
// every spoiled ballot; "" if none.
func crossBallotFault(b ballotResult, earlier *counted, sp spoiled) string {
	if prev, dup := earlier.byTracking[b.tracking]; dup {
		return fmt.Sprintf("it is a duplicate of ballot %d", prev+1)
	}
	if sp.tracking[b.tracking] {
		return "it was spoiled (challenged): its nonces, and so its vote, are public"
	}
	mine := make(map[[32]byte]bool, len(b.as))
	for k, a := range b.as {
		if mine[a] {
			return fmt.Sprintf("selection %d repeats one of its ciphertexts", k+1)
		}
		mine[a] = true
		if prev, dup := earlier.byA[a]; dup {
			return fmt.Sprintf("selection %d reuses a ciphertext of ballot %d", k+1, prev+1)
		}
		if sp.as[a] {
			return fmt.Sprintf("selection %d reuses a ciphertext of a spoiled ballot, whose nonces are public", k+1)
		}
	}
	return ""
}

// sumExcept sums the record's ballots but the excluded ones (indexes in
// increasing order). The ballots were verified already.
func sumExcept(dir string, e *ballot.Election, excluded []int) (*tally.Accumulator, error) {
	br, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		return nil, err
	}
	defer br.Close()
	acc := tally.NewAccumulator(e.Style)
	for i := 0; i < br.Count; i++ {
		raw, err := br.Next()
		if err != nil {
			return nil, err
		}
		if len(excluded) > 0 && excluded[0] == i {
			excluded = excluded[1:]
			continue
		}
		b, err := ballot.Decode(e, raw)
		if err != nil {
			return nil, fmt.Errorf("ballot %d: %v", i+1, err)
		}
		acc.Add(b)
	}
	return acc, nil
}

// verifyChunk decodes and verifies a run of ballots, adding the valid ones
// to acc. It batches all their proofs and falls back to checking ballot by
// ballot, to name the bad ones, only if the batch fails.
func verifyChunk(e *ballot.Election, start int, raws [][]byte, acc *tally.Accumulator, unbatched bool) []ballotResult {
	out := make([]ballotResult, len(raws))
	decoded := make([]*ballot.Ballot, len(raws))
	batch := group.NewBatch()
	for i, raw := range raws {
		out[i].index = start + i
		out[i].tracking = ballot.TrackingCode(raw)
		b, err := ballot.Decode(e, raw)
		if err != nil {
			out[i].err = err
			continue
		}
		if unbatched {
			out[i].err = b.Verify(e)
		} else {
			out[i].err = b.AddTo(batch, e)
		}
		if out[i].err == nil {
			decoded[i] = b
		}
	}
	if !unbatched && !batch.Verify() {
		found := false
		for i, b := range decoded {
			if b != nil {
				if err := b.Verify(e); err != nil {
					out[i].err = err
					decoded[i] = nil
					found = true
				}
			}
		}
		// A batch that fails while every proof passes on its own means a
		// bug somewhere; the rule is the same as for shares: reject.
		for i := range decoded {
			if !found && decoded[i] != nil {
				out[i].err = errors.New("batch verification failed, though each proof verified on its own")
				decoded[i] = nil
			}
		}
	}
	for i, b := range decoded {
		if b == nil {
			continue
		}
		acc.Add(b)
		out[i].as = b.CiphertextAs()
	}
	return out
}

// ShortCode is the first 16 characters of a tracking code (in four groups),
// enough for a person to find a ballot.
func ShortCode(code [32]byte) string {
	return ballot.FormatTrackingCode(code)[:19]
}

func checkSpoiled(r *Report, dir string, e *ballot.Election, seen *counted) {
	lines, err := record.ReadSpoiled(dir)
	if err != nil {
		r.fail(record.Spoiled, "%v", err)
		return
	}
	if len(lines) == 0 {
		r.pass(record.Spoiled, "no spoiled ballots")
		return
	}
	spoiled := map[[32]byte]bool{}
	ok := 0
	for i, line := range lines {
		s, err := ballot.ParseSpoiled(line)
		if err != nil {
			r.fail(record.Spoiled, "line %d: %v", i+1, err)
			continue
		}
		b, err := s.Check(e)
		if err != nil {
			r.fail(record.Spoiled, "line %d: %v", i+1, err)
			continue
		}
		code := b.TrackingCode()
		if seen != nil {
			if _, counted := seen.byTracking[code]; counted {
				r.fail(record.Spoiled, "line %d: spoiled ballot %s is also among the counted ballots", i+1, ShortCode(code))
				continue
			}
			if j, reused := reusedCiphertext(b, seen.byA); reused {
				r.fail(record.Spoiled, "line %d: spoiled ballot %s shares a ciphertext with counted ballot %d, whose vote its nonces reveal", i+1, ShortCode(code), j+1)
				continue
			}
		}
		if spoiled[code] {
			r.fail(record.Spoiled, "line %d: spoiled ballot %s appears twice", i+1, ShortCode(code))
			continue
		}
		spoiled[code] = true
		r.Spoiled = append(r.Spoiled, e.Manifest.Answers(s.Values))
		ok++
	}
	if ok == len(lines) {
		r.pass(record.Spoiled, "%d spoiled ballots open to the choices they state and none is counted", ok)
	}
}

func checkDecryptions(r *Report, dir string, e *ballot.Election, res *ceremony.Result, acc *tally.Accumulator) map[int][]*group.Element {
	files, err := record.Indexed(filepath.Join(dir, record.DecryptDir), "trustee")
	if err != nil {
		r.fail(record.DecryptDir, "%v", err)
		return nil
	}
	out := map[int][]*group.Element{}
	for _, j := range record.SortedKeys(files) {
		name := filepath.Join(record.DecryptDir, filepath.Base(files[j]))
		data, err := record.ReadFile(files[j])
		if err != nil {
			r.fail(name, "%v", err)
			continue
		}
		s, err := tally.ParseShare(data)
		if err != nil {
			r.fail(name, "%v", err)
			continue
		}
		if s.Trustee != j {
			r.fail(name, "is signed as trustee %d", s.Trustee)
			continue
		}
		Y, ok := res.VerificationKeys[j]
		if !ok {
			r.fail(name, "trustee %d is not a qualified trustee of the ceremony", j)
			continue
		}
		Ds, err := tally.Check(e, acc, s, Y)
		if err != nil {
			r.fail(name, "%v", err)
			continue
		}
		out[j] = Ds
	}
	if len(out) > 0 {
		r.pass(record.DecryptDir, "%d trustees' partial decryptions carry valid proofs", len(out))
	}
	return out
}

// reusedCiphertext reports whether any of b's ciphertexts has an A component
// seen among the counted ballots, and which ballot's.
func reusedCiphertext(b *ballot.Ballot, byA map[[32]byte]int) (int, bool) {
	for _, a := range b.CiphertextAs() {
		if j, ok := byA[a]; ok {
			return j, true
		}
	}
	return 0, false
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
