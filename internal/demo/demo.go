// Package demo runs a whole koe election on one machine: the key ceremony
// among n trustees, N voters encrypting ballots, a Benaloh challenge, the
// encrypted tally, a threshold decryption with some trustees absent, the
// results and the verification of the record that all of this wrote.
package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	crand "crypto/rand"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// Options configure a demo election.
type Options struct {
	Dir       string // where to write the record; must not exist or be empty
	Manifest  []byte // the manifest; Trustees and Threshold override its own when > 0
	Voters    int
	Trustees  int
	Threshold int
	Absent    []int // trustees who do not take part in the decryption
	Spoil     int   // ballots challenged (spoiled) besides the N cast
	Workers   int   // 0: every core
	Seed      uint64
	Progress  func(stage string, done, total int)
	Log       io.Writer
}

// Summary is what a demo did and found.
type Summary struct {
	Election *ballot.Election
	Results  *tally.Results
	Mixed    []*tally.MixedResult // the text and rank questions' answers, in manifest order
	Expected []uint64             // per-selection totals of the plaintexts the voters chose
	Report   *verify.Report
	Timings  []Timing
	// Trustees are the demo's in-process trustees, with their key shares:
	// for tests that act as a trustee would.
	Trustees []*ceremony.Trustee
}

// Timing is the wall-clock duration of one stage.
type Timing struct {
	Stage    string
	Duration time.Duration
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format, args...)
	}
}

func (o *Options) progress(stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// Run runs the demo.
func Run(o Options) (*Summary, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Voters < 1 {
		return nil, errors.New("demo: at least one voter")
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("demo: %s exists and is not empty", o.Dir)
	}
	manifest, err := adjustManifest(o.Manifest, o.Trustees, o.Threshold, o.Voters)
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	for _, a := range o.Absent {
		if a < 1 || a > m.Trustees {
			return nil, fmt.Errorf("demo: absent trustee %d is not one of 1..%d", a, m.Trustees)
		}
	}
	if m.Trustees-len(o.Absent) < m.Threshold {
		return nil, fmt.Errorf("demo: with %d of %d trustees absent, fewer than the threshold %d can decrypt", len(o.Absent), m.Trustees, m.Threshold)
	}
	s := &Summary{}
	stage := func(name string, start time.Time) {
		s.Timings = append(s.Timings, Timing{Stage: name, Duration: time.Since(start)})
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := record.WriteFile(filepath.Join(o.Dir, record.Manifest), manifest); err != nil {
		return nil, err
	}

	// 1. Key ceremony.
	t0 := time.Now()
	if orig, err := ballot.ParseManifest(o.Manifest); err == nil && orig.PrivacyThreshold() != m.PrivacyThreshold() {
		o.logf("Privacy threshold lowered from %d to %d ballots for this demo of %d voters: a real election withholds the results of fewer than %d.\n", orig.PrivacyThreshold(), m.PrivacyThreshold(), o.Voters, orig.PrivacyThreshold())
	}
	o.logf("Key ceremony: %d trustees, threshold %d\n", m.Trustees, m.Threshold)
	trustees, err := runCeremony(o.Dir, m, manifest)
	if err != nil {
		return nil, err
	}
	e, res, err := record.LoadElection(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := record.WriteJSON(filepath.Join(o.Dir, record.Election), record.ParamsOf(e, res)); err != nil {
		return nil, err
	}
	s.Election = e
	s.Trustees = trustees
	stage("key ceremony", t0)
	o.logf("  joint election key %x…\n", e.Key.Bytes()[:12])

	// 2. Voting.
	t0 = time.Now()
	o.logf("Voting: %d voters encrypt and cast ballots (%d bytes each)\n", o.Voters, e.Style.Size())
	s.Expected, err = castBallots(&o, e)
	if err != nil {
		return nil, err
	}
	stage(fmt.Sprintf("encrypt and cast %d ballots", o.Voters), t0)
	for i := 0; i < o.Spoil; i++ {
		if err := spoilOne(&o, e, uint64(i)); err != nil {
			return nil, err
		}
	}
	if o.Spoil > 0 {
		o.logf("  %d ballot(s) challenged (Benaloh): opened, published, not counted\n", o.Spoil)
	}

	// 3. Tally.
	t0 = time.Now()
	acc, err := sumBallots(&o, e)
	if err != nil {
		return nil, err
	}
	if err := record.WriteJSON(filepath.Join(o.Dir, record.Tally), acc.Publish()); err != nil {
		return nil, err
	}
	stage("encrypted tally", t0)

	// 4. Threshold decryption.
	t0 = time.Now()
	transcript, err := record.LoadTranscript(o.Dir, ceremony.Params{N: m.Trustees, T: m.Threshold})
	if err != nil {
		return nil, err
	}
	partials := map[int][]*group.Element{}
	var present []int
	for _, tr := range trustees {
		if slices.Contains(o.Absent, tr.Index) {
			continue
		}
		if _, err := tr.Finish(e.ManifestHash[:], transcript); err != nil {
			return nil, err
		}
		share, err := tally.Decrypt(crand.Reader, e, acc, tr.Index, tr.Share())
		if err != nil {
			return nil, err
		}
		if err := record.WriteJSON(record.DecryptionFile(o.Dir, tr.Index), share); err != nil {
			return nil, err
		}
		Ds, err := tally.Check(e, acc, share, res.VerificationKeys[tr.Index])
		if err != nil {
			return nil, err
		}
		partials[tr.Index] = Ds
		present = append(present, tr.Index)
	}
	o.logf("Decryption: trustees %v decrypt, %v absent\n", present, o.Absent)
	table := elgamal.NewDlogTable(tally.MaxTotal(e.Style, acc.Ballots))
	totals, err := tally.Combine(acc, partials, m.Threshold, table)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(totals, s.Expected) {
		return nil, fmt.Errorf("demo: decrypted totals %v differ from what the voters chose %v", totals, s.Expected)
	}
	s.Results = tally.ResultsOf(m, acc.Ballots, totals)
	stage("threshold decryption", t0)

	// 5. The mix of text and rank answers, and its decryption.
	if mixed := m.Mixed(); len(mixed) > 0 {
		t0 = time.Now()
		results, err := mixAll(&o, e, res.VerificationKeys, trustees, present, mixed)
		if err != nil {
			return nil, err
		}
		if err := s.Results.AddMixed(results); err != nil {
			return nil, err
		}
		s.Mixed = results
		stage("mix and decryption of text and rank answers", t0)
	}
	if err := record.WriteJSON(filepath.Join(o.Dir, record.Results), s.Results); err != nil {
		return nil, err
	}

	// 6. Verification.
	t0 = time.Now()
	s.Report = verify.Record(o.Dir, verify.Options{Workers: o.Workers, Progress: o.Progress})
	stage("verification of the record", t0)
	return s, nil
}

// mixAll mixes every mixed question with the first t present trustees in
// turn (SPEC.md §16.6), has every present trustee decrypt the final lists,
// and writes it all to the record.
func mixAll(o *Options, e *ballot.Election, keys map[int]*group.Element, trustees []*ceremony.Trustee, present []int, mixed []int) ([]*tally.MixedResult, error) {
	ballots, err := record.DecodeBallots(o.Dir, e)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]*ceremony.Trustee{}
	for _, tr := range trustees {
		byIndex[tr.Index] = tr
	}
	t := e.Manifest.Threshold
	var out []*tally.MixedResult
	for _, qi := range mixed {
		c, err := mixnet.NewChain(e, qi, ballots, keys, t)
		if err != nil {
			return nil, err
		}
		o.logf("Mix of %q: %d answers of %d ciphertexts, by trustees %v in turn\n", c.ID, c.Input.Len(), c.Input.Width(), present[:t])
		for _, j := range present[:t] {
			msg, err := c.Mix(crand.Reader, j, byIndex[j].Share())
			if err != nil {
				return nil, err
			}
			if err := record.WriteFile(record.MixRoundFile(o.Dir, c.ID, len(c.Rounds)+1, j), msg); err != nil {
				return nil, err
			}
			if err := c.AddRound(j, msg); err != nil {
				return nil, err
			}
			o.progress("mixing "+c.ID, len(c.Rounds), t)
		}
		for _, j := range present {
			share, err := c.Decrypt(crand.Reader, j, byIndex[j].Share())
			if err != nil {
				return nil, err
			}
			if err := record.WriteFile(record.MixShareFile(o.Dir, c.ID, j), share); err != nil {
				return nil, err
			}
			if err := c.AddShare(j, share); err != nil {
				return nil, err
			}
		}
		res, err := c.Result()
		if err != nil {
			return nil, err
		}
		if err := record.WriteJSON(record.MixedFile(o.Dir, c.ID), res); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// trusteeNames are the roles of the sample referendum's five trustees.
var trusteeNames = []string{"選挙管理委員長 (election board chair)", "選挙管理委員 (board member)", "選挙管理委員 (board member)", "外部監査人 (external auditor)", "市民代表 (citizen representative)"}

// runCeremony runs the four rounds of the key ceremony among m.Trustees
// in-process trustees, publishing every message to the record.
func runCeremony(dir string, m *ballot.Manifest, manifest []byte) ([]*ceremony.Trustee, error) {
	p := ceremony.Params{N: m.Trustees, T: m.Threshold}
	h := ballot.Hash(manifest)
	ctx := h[:]
	trustees := make([]*ceremony.Trustee, p.N)
	anns := make([]ceremony.Announcement, p.N)
	for j := 1; j <= p.N; j++ {
		name := fmt.Sprintf("受託者 %d (trustee %d)", j, j)
		if p.N == len(trusteeNames) {
			name = trusteeNames[j-1]
		}
		t, a, err := ceremony.NewTrustee(crand.Reader, p, ctx, j, name)
		if err != nil {
			return nil, err
		}
		trustees[j-1], anns[j-1] = t, *a
		if err := record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundAnnounce, j), a); err != nil {
			return nil, err
		}
	}
	deals := make([]ceremony.Dealing, p.N)
	for i, t := range trustees {
		d, err := t.Deal(crand.Reader, ctx, anns)
		if err != nil {
			return nil, err
		}
		deals[i] = *d
		if err := record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundDeal, t.Index), d); err != nil {
			return nil, err
		}
	}
	verdicts := make([]ceremony.Verdict, p.N)
	for i, t := range trustees {
		v, err := t.Receive(ctx, anns, deals)
		if err != nil {
			return nil, err
		}
		verdicts[i] = *v
		if err := record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundVerdict, t.Index), v); err != nil {
			return nil, err
		}
	}
	for _, t := range trustees {
		rs, err := t.Respond(ctx, anns, verdicts)
		if err != nil {
			return nil, err
		}
		if rs == nil {
			rs = []ceremony.Response{}
		}
		if err := record.WriteJSON(record.CeremonyFile(dir, ceremony.RoundRespond, t.Index), rs); err != nil {
			return nil, err
		}
	}
	return trustees, nil
}

// adjustManifest sets the number of trustees and the threshold and, for a
// demo of fewer voters than the manifest's privacy threshold, lowers that
// to the number of voters, so that the demo's tally can be decrypted.
func adjustManifest(data []byte, n, t, voters int) ([]byte, error) {
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return nil, err
	}
	if n == 0 && t == 0 && voters >= m.PrivacyThreshold() {
		return data, nil
	}
	if n > 0 {
		m.Trustees = n
	}
	if t > 0 {
		m.Threshold = t
	}
	if voters < m.PrivacyThreshold() {
		m.Privacy = &voters
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	out = append(out, '\n')
	if _, err := ballot.ParseManifest(out); err != nil {
		return nil, err
	}
	return out, nil
}

// voterRand gives each simulated voter reproducible answers.
func voterRand(seed uint64, i int) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(i))) }

// answersFor picks plausible answers: each question leans towards its
// first options, so the demo's results look like a real count; a text
// question gets one of the sample comments (or none, if optional), a rank
// question a ranking that leans the same way.
func answersFor(m *ballot.Manifest, rng *rand.Rand) ballot.Answers {
	a := ballot.Answers{}
	for _, q := range m.Questions {
		switch q.Kind {
		case ballot.KindRating:
			span := q.Max - q.Min
			a[q.ID] = q.Min + (rng.IntN(span+1)+rng.IntN(span+1)+1)/2
		case ballot.KindSingle:
			if q.Optional && rng.IntN(10) == 0 {
				continue
			}
			a[q.ID] = q.Options[weighted(rng, len(q.Options))].ID
		case ballot.KindMultiple:
			a[q.ID] = pick(rng, q.Options, q.Min+rng.IntN(q.Max-q.Min+1))
		case ballot.KindRank:
			a[q.ID] = pick(rng, q.Options, q.Min+rng.IntN(q.RankMax()-q.Min+1))
		case ballot.KindText:
			if q.Optional && rng.IntN(4) == 0 {
				continue
			}
			c := []rune(sampleComments[rng.IntN(len(sampleComments))])
			a[q.ID] = string(c[:min(len(c), q.MaxLength)])
		}
	}
	return a
}

// pick returns k distinct option ids, drawn with weighted, in the order drawn.
func pick(rng *rand.Rand, options []ballot.Option, k int) []any {
	var ids []any
	for len(ids) < k {
		id := options[weighted(rng, len(options))].ID
		if !slices.Contains(ids, any(id)) {
			ids = append(ids, id)
		}
	}
	return ids
}

// sampleComments are what residents might write in a city survey's free-text
// question.
var sampleComments = []string{
	"駅前の駐輪場をもっと増やしてほしいです。朝は空きがありません。",
	"子育て支援センターの開館時間を夕方まで延ばしてください。",
	"バスの本数が少なく、病院に通うのが大変です。",
	"公園の遊具が古くなっています。安全点検をお願いします。",
	"図書館の自習席を増やしてほしい。",
	"ごみの分別ルールをもっと分かりやすく説明してほしいです。",
	"Please add English signs at the city hall and the stations.",
	"夜道が暗いので、街灯を増やしてください。",
	"特になし",
	"市のホームページが探しにくいです。スマートフォンでも見やすくしてください。",
}

// weighted picks 0..n-1 with weights n, n-1, …, 1 plus some noise.
func weighted(rng *rand.Rand, n int) int {
	total := n * (n + 1) / 2
	x := rng.IntN(total + n)
	if x >= total {
		return x - total
	}
	for i := 0; i < n; i++ {
		x -= n - i
		if x < 0 {
			return i
		}
	}
	return n - 1
}

// castBallots encrypts one ballot per voter on every core and appends them
// to the record, returning the plaintext totals per selection.
func castBallots(o *Options, e *ballot.Election) ([]uint64, error) {
	w, err := record.AppendBallots(o.Dir)
	if err != nil {
		return nil, err
	}
	type out struct {
		i   int
		raw []byte
		err error
	}
	jobs := make(chan int, 256)
	outs := make(chan out, 256)
	expected := make([][]uint64, o.Workers)
	var wg sync.WaitGroup
	for wk := range o.Workers {
		expected[wk] = make([]uint64, e.Style.Selections())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				pt, err := e.Manifest.Plaintext(answersFor(e.Manifest, voterRand(o.Seed, i)))
				if err != nil {
					outs <- out{i: i, err: err}
					continue
				}
				var binding [32]byte
				crand.Read(binding[:])
				b, _, err := ballot.Encrypt(crand.Reader, e, binding, pt)
				if err == nil {
					k := 0
					for qi, q := range pt {
						if ballot.Mixed(e.Manifest.Questions[qi].Kind) {
							continue // mixed and decrypted ballot by ballot, not tallied
						}
						for _, v := range q {
							expected[wk][k] += v
							k++
						}
					}
					outs <- out{i: i, raw: b.Bytes()}
					continue
				}
				outs <- out{i: i, err: err}
			}
		}()
	}
	go func() {
		for i := 0; i < o.Voters; i++ {
			jobs <- i
		}
		close(jobs)
	}()
	go func() { wg.Wait(); close(outs) }()
	var firstErr error
	done := 0
	for r := range outs {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		if err := w.Write(r.raw); err != nil && firstErr == nil {
			firstErr = err
		}
		done++
		o.progress("encrypting ballots", done, o.Voters)
	}
	if err := w.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	total := make([]uint64, e.Style.Selections())
	for _, ex := range expected {
		for k := range total {
			total[k] += ex[k]
		}
	}
	return total, nil
}

// spoilOne encrypts a ballot and opens it, as a voter does who challenges
// the booth's encryption instead of casting.
func spoilOne(o *Options, e *ballot.Election, i uint64) error {
	pt, err := e.Manifest.Plaintext(answersFor(e.Manifest, voterRand(o.Seed^0x5f0113d, int(i))))
	if err != nil {
		return err
	}
	var binding [32]byte
	crand.Read(binding[:])
	b, nonces, err := ballot.Encrypt(crand.Reader, e, binding, pt)
	if err != nil {
		return err
	}
	return record.AppendSpoiled(o.Dir, ballot.Spoil(b, pt, nonces))
}

// sumBallots adds up the cast ballots' ciphertexts. The verification at the
// end of the demo re-checks every proof.
func sumBallots(o *Options, e *ballot.Election) (*tally.Accumulator, error) {
	r, err := record.OpenBallots(o.Dir, e.Style.Size())
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var raws [][]byte
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		raws = append(raws, raw)
	}
	return tally.Sum(e, raws)
}
