package trusteeflow

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// KeyKind is the keystore kind of a trustee key file (SPEC.md §6.5).
const KeyKind = "koe/v2/trustee-secret"

// SealKey encrypts the trustee's secrets with the passphrase: the bytes
// of a key file.
func SealKey(t *ceremony.Trustee, pass []byte) ([]byte, error) {
	plain, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return keystore.Seal(rand.Reader, pass, KeyKind, plain)
}

// OpenKey decrypts a key file; name is what to call it in errors.
func OpenKey(name string, sealed, pass []byte) (*ceremony.Trustee, error) {
	plain, err := keystore.Open(pass, KeyKind, sealed)
	if err != nil {
		return nil, WithHint(fmt.Errorf("%s: %w", name, err), "check the passphrase and that this is your trustee key file")
	}
	t := new(ceremony.Trustee)
	if err := t.UnmarshalBinary(plain); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// Session is one trustee step: the place, the election's manifest and
// ceremony context, and (but for keygen) the unlocked trustee.
type Session struct {
	Place Place
	M     *ballot.Manifest
	Raw   []byte
	Ctx   []byte
	P     ceremony.Params
	T     *ceremony.Trustee
	// Save keeps T after a step changed it (the key file rewritten).
	Save func(*ceremony.Trustee) error
	// Mixing: the step is the mix (refusals say "refusing to mix").
	Mixing bool
	// Checkpoint, if not nil, is a signed checkpoint the board must
	// extend, and CheckpointName what to call it.
	Checkpoint     []byte
	CheckpointName string
	// VerifyHint is the advice when the record does not verify.
	VerifyHint string
	// Progress reports the verifier's progress (may be nil); Step starts
	// a long step without progress of its own (may be nil).
	Progress func(stage string, done, total int)
	Step     func(label string) (done func())
}

// Open reads the election's manifest from the place.
func Open(pl Place) (*Session, error) {
	s := &Session{Place: pl}
	var err error
	if s.Raw, err = pl.Manifest(); err != nil {
		return nil, err
	}
	if s.M, err = ballot.ParseManifest(s.Raw); err != nil {
		return nil, err
	}
	h := ballot.Hash(s.Raw)
	s.Ctx = h[:]
	s.P = ceremony.Params{N: s.M.Trustees, T: s.M.Threshold}
	return s, nil
}

func (s *Session) step(label string) func() {
	if s.Step == nil {
		return func() {}
	}
	return s.Step(label)
}

// Round decodes every trustee's message of a round, in index order; all n
// must be there.
func Round[T any](s *Session, name string, decode func(ceremony.Params, []byte) (*T, error)) ([]T, error) {
	msgs, err := s.Place.Messages(name)
	if err != nil {
		return nil, err
	}
	var out []T
	for j := 1; j <= s.P.N; j++ {
		data, ok := msgs[j]
		if !ok {
			return nil, WithHint(fmt.Errorf("trustee %d has not finished the %q round", j, name), "wait until every trustee has (%s)", s.Place.Describe())
		}
		v, err := decode(s.P, data)
		if err != nil {
			return nil, fmt.Errorf("trustee %d's %s message: %w", j, name, err)
		}
		out = append(out, *v)
	}
	return out, nil
}

// CheckNotAnnounced refuses a keygen for a trustee who has announced.
func (s *Session) CheckNotAnnounced(index int) error {
	msgs, err := s.Place.Messages(ceremony.RoundAnnounce)
	if err != nil {
		return err
	}
	if _, done := msgs[index]; done {
		return fmt.Errorf("trustee %d has already announced", index)
	}
	return nil
}

// Deal sends every other trustee its encrypted share (round 2).
func (s *Session) Deal() (string, error) {
	anns, err := Round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return "", err
	}
	d, err := s.T.Deal(rand.Reader, s.Ctx, anns)
	if err != nil {
		return "", err
	}
	return s.Place.Publish(ceremony.RoundDeal, s.T.Index, d)
}

// Shares checks the shares sent to the trustee and publishes its verdict
// (round 3), keeping the shares in the key file.
func (s *Session) Shares() (*ceremony.Verdict, string, error) {
	anns, err := Round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return nil, "", err
	}
	deals, err := Round(s, ceremony.RoundDeal, ceremony.DecodeDealing)
	if err != nil {
		return nil, "", err
	}
	v, err := s.T.Receive(s.Ctx, anns, deals)
	if err != nil {
		return nil, "", err
	}
	if err := s.Save(s.T); err != nil {
		return nil, "", err
	}
	where, err := s.Place.Publish(ceremony.RoundVerdict, s.T.Index, v)
	return v, where, err
}

// Respond answers the complaints against the trustee (round 4). It
// returns the responses and the trustees who complained against it.
func (s *Session) Respond() ([]ceremony.Response, []int, string, error) {
	anns, err := Round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return nil, nil, "", err
	}
	verdicts, err := Round(s, ceremony.RoundVerdict, ceremony.DecodeVerdict)
	if err != nil {
		return nil, nil, "", err
	}
	rs, err := s.T.Respond(s.Ctx, anns, verdicts)
	if err != nil {
		return nil, nil, "", err
	}
	if rs == nil {
		rs = []ceremony.Response{}
	}
	where, err := s.Place.Publish(ceremony.RoundRespond, s.T.Index, rs)
	return rs, ceremony.ComplaintsAgainst(s.T.Index, verdicts), where, err
}

// Finish checks the complete transcript, computes the trustee's share and
// keeps only that in the key file (SPEC.md §6.5).
func (s *Session) Finish() (*ceremony.Result, error) {
	tr, err := s.Transcript()
	if err != nil {
		return nil, err
	}
	res, err := s.T.Finish(s.Ctx, tr)
	if err != nil {
		return nil, WithHint(err, "wait until every trustee has responded (%s); if the ceremony failed, the administrator restarts it", s.Place.Describe())
	}
	if err := s.Save(s.T); err != nil {
		return nil, err
	}
	return res, nil
}

// Transcript assembles the ceremony transcript from the place.
func (s *Session) Transcript() (*ceremony.Transcript, error) {
	tr := &ceremony.Transcript{Params: s.P}
	for _, r := range []string{ceremony.RoundAnnounce, ceremony.RoundDeal, ceremony.RoundVerdict, ceremony.RoundRespond} {
		msgs, err := s.Place.Messages(r)
		if err != nil {
			return nil, err
		}
		for j := 1; j <= s.P.N; j++ {
			if data, ok := msgs[j]; ok {
				if err := tr.AddMessage(r, j, data); err != nil {
					return nil, err
				}
			}
		}
	}
	return tr, nil
}

// Election checks the ceremony from the place with the trustee's key
// file, as decrypt and mix need it, and returns the election and the
// ceremony's result. A trustee that skipped finish keeps only its share
// from then on, as finish would have left it (SPEC.md §6.5): saved
// reports that the key file was rewritten so.
func (s *Session) Election() (e *ballot.Election, res *ceremony.Result, saved bool, err error) {
	tr, err := s.Transcript()
	if err != nil {
		return nil, nil, false, err
	}
	finished := s.T.Finished()
	if res, err = s.T.Finish(s.Ctx, tr); err != nil {
		return nil, nil, false, err
	}
	if !finished {
		if err := s.Save(s.T); err != nil {
			return nil, nil, false, err
		}
	}
	reg, err := s.Place.Registrar()
	if err != nil {
		return nil, nil, !finished, err
	}
	e, err = ballot.NewElection(s.Raw, res.JointKey, reg)
	if err != nil {
		return nil, nil, !finished, err
	}
	return e, res, !finished, nil
}

// ErrRefuse is wrapped by every reason a trustee refuses to decrypt, and
// ErrRefuseMix to mix.
var (
	ErrRefuse    = errors.New("refusing to decrypt")
	ErrRefuseMix = errors.New("refusing to mix")
)

func (s *Session) refusal() error {
	if s.Mixing {
		return ErrRefuseMix
	}
	return ErrRefuse
}

// Verified is what a trustee verified before acting.
type Verified struct {
	Acc       *tally.Accumulator // the sum of exactly the counted ballots
	Checks    int                // the verifier's checks, all passed
	Decrypted bool               // the trustee's decryption of the tally is on the record
	Chains    []*mixnet.Chain    // the mix of every mixed question so far, checked
}

// VerifiedTally runs the verifier's steps up to the tally (SPEC.md §9.2,
// §11 steps 1–5) on the record at the trustee's place, a directory or the
// record and board downloaded from the server, and returns the tally to
// decrypt: the homomorphic sum of exactly the counted ballots. It refuses,
// naming the check that failed, if the record does not verify, if it is
// not the election of the trustee's own ceremony, if the tally the
// trustee is asked to decrypt is not that sum, or if it counts fewer
// ballots than the manifest's privacy threshold.
//
// It also returns whether the record holds the trustee's decryption of
// the tally already, and the mix of every text and rank question so far,
// each round and share checked (LoadChains).
func (s *Session) VerifiedTally(e *ballot.Election, res *ceremony.Result) (*Verified, error) {
	dir, cleanup, err := s.Place.Record()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	verifyHint := s.VerifyHint
	if verifyHint == "" {
		verifyHint = "see the whole report with koe verify " + dir
	}
	rep, recRes, acc := verify.Counted(dir, verify.Options{Progress: s.Progress})
	if acc == nil {
		fails := rep.Failures()
		if len(fails) == 0 {
			fails = []verify.Check{{What: "record", Detail: "nothing to verify"}}
		}
		var msgs []string
		for _, f := range fails[:min(len(fails), 3)] {
			msgs = append(msgs, f.What+": "+f.Detail)
		}
		if len(fails) > 3 {
			msgs = append(msgs, fmt.Sprintf("and %d more problems", len(fails)-3))
		}
		return nil, WithHint(fmt.Errorf("%w: the election record does not verify up to the tally: %s", s.refusal(), strings.Join(msgs, "; ")), "%s", verifyHint)
	}
	if s.Checkpoint != nil {
		if err := verify.Extends(dir, s.Checkpoint); err != nil {
			return nil, WithHint(fmt.Errorf("%w: the board does not extend the checkpoint in %s: %v", s.refusal(), s.CheckpointName, err), "the server may be showing you another board than the one others see; compare checkpoints with the observers")
		}
	}
	raw, err := record.ReadFile(filepath.Join(dir, record.Manifest))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(raw, s.Raw) {
		return nil, WithHint(fmt.Errorf("%w: the record's manifest is not the election's manifest you read from %s", s.refusal(), s.Place.Describe()), "%s", verifyHint)
	}
	Y, qualified := recRes.VerificationKeys[s.T.Index]
	if !group.Equal(rep.Election.Key, e.Key) || !qualified || !group.Equal(Y, res.VerificationKeys[s.T.Index]) {
		return nil, WithHint(fmt.Errorf("%w: the record's key ceremony is not the one your key file finished (another joint key or verification key)", s.refusal()), "%s", verifyHint)
	}

	// The tally asked for, and the one on the record, are the sum.
	asked, err := s.Place.Tally()
	if err != nil {
		if client.IsCode(err, api.CodeNoTally) {
			return nil, WithHint(errors.New("the election has no tally yet"), "the administrator tallies it first (koe tally, or koe admin tally)")
		}
		return nil, err
	}
	if err := verify.CheckTally(acc, asked); err != nil {
		return nil, WithHint(fmt.Errorf("%w: the tally you are asked to decrypt (from %s) is not the homomorphic sum of the %d counted ballots: it %v", s.refusal(), s.Place.Describe(), acc.Ballots, err), "decrypting it could reveal single ballots; tell the other trustees and the election's observers")
	}
	var onRecord tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &onRecord); err != nil {
		return nil, WithHint(fmt.Errorf("%w: the record has no tally: %v", s.refusal(), err), "%s", verifyHint)
	}
	if err := verify.CheckTally(acc, &onRecord); err != nil {
		return nil, WithHint(fmt.Errorf("%w: the record's tally is not the homomorphic sum of the %d counted ballots: it %v", s.refusal(), acc.Ballots, err), "%s", verifyHint)
	}
	if err := tally.CheckPrivacy(e.Manifest, acc.Ballots); err != nil {
		return nil, WithHint(fmt.Errorf("%w: %d ballots were counted, fewer than the manifest's privacy threshold of %d", s.refusal(), acc.Ballots, e.Manifest.PrivacyThreshold()), "so few ballots would disclose how their voters answered: the results of this election are withheld")
	}
	v := &Verified{Acc: acc, Checks: len(rep.Checks)}
	if _, err := os.Stat(record.DecryptionFile(dir, s.T.Index)); err == nil {
		v.Decrypted = true
	}
	if v.Chains, err = LoadChains(dir, e, recRes, acc.Ballots, s.Step); err != nil {
		return nil, WithHint(fmt.Errorf("%w: the mix of the text and rank answers: %w", s.refusal(), err), "%s", verifyHint)
	}
	return v, nil
}

// DecryptTally computes the trustee's partial decryption of the verified
// tally, checks it and publishes it.
func (s *Session) DecryptTally(e *ballot.Election, res *ceremony.Result, v *Verified) (string, error) {
	share, err := tally.Decrypt(rand.Reader, e, v.Acc, s.T.Index, s.T.Share())
	if err != nil {
		return "", err
	}
	if _, err := tally.Check(e, v.Acc, share, res.VerificationKeys[s.T.Index]); err != nil {
		return "", fmt.Errorf("your partial decryption does not verify: %w", err)
	}
	return s.Place.PublishShare(share)
}

// Outcome is what a mix or mix decryption did with one question.
type Outcome struct {
	Question string
	// What: "already" (this trustee did it before), "complete" (the mix
	// has its t rounds, by others), "incomplete" (decrypt: the mix is not
	// complete yet), or "posted".
	What    string
	Round   int   // the trustee's round (already, posted), or the rounds so far (incomplete)
	Mixers  []int // the trustees who mixed, in round order
	Answers int   // the answers in the list
	Where   string
}

// Mix posts the trustee's round of every mixed question that still needs
// one and that it has not mixed (SPEC.md §16.6).
func (s *Session) Mix(chains []*mixnet.Chain) ([]Outcome, error) {
	j, t := s.T.Index, s.M.Threshold
	var out []Outcome
	for _, c := range chains {
		if r := MixedBy(c, j); r > 0 {
			out = append(out, Outcome{Question: c.ID, What: "already", Round: r, Mixers: Mixers(c), Answers: c.Input.Len()})
			continue
		}
		if c.Complete() {
			out = append(out, Outcome{Question: c.ID, What: "complete", Round: len(c.Rounds), Mixers: Mixers(c), Answers: c.Input.Len()})
			continue
		}
		if err := c.CanMix(j); err != nil {
			return out, err
		}
		if err := s.Place.CheckMixState(c); err != nil {
			return out, err
		}
		r := len(c.Rounds) + 1
		done := s.step(fmt.Sprintf("question %s: shuffling %d answers of %d ciphertexts (round %d of %d)", c.ID, c.Input.Len(), c.Input.Width(), r, t))
		msg, err := c.Mix(rand.Reader, j, s.T.Share())
		done()
		if err != nil {
			return out, fmt.Errorf("question %q: %w", c.ID, err)
		}
		done = s.step(fmt.Sprintf("question %s: checking your proof of shuffle", c.ID))
		round, err := c.CheckRound(j, msg)
		done()
		if err != nil {
			return out, fmt.Errorf("your round does not verify: %w", err)
		}
		where, err := s.Place.PublishRound(c, j, msg)
		if err != nil {
			return out, fmt.Errorf("question %q round %d: %w", c.ID, r, err)
		}
		c.Add(round)
		out = append(out, Outcome{Question: c.ID, What: "posted", Round: r, Mixers: Mixers(c), Answers: c.Input.Len(), Where: where})
	}
	return out, nil
}

// DecryptMixed posts the trustee's decryption share of every mixed
// question whose mix is complete and that it has not decrypted, and says
// which are not complete yet.
func (s *Session) DecryptMixed(chains []*mixnet.Chain) ([]Outcome, error) {
	j := s.T.Index
	var out []Outcome
	for _, c := range chains {
		if !c.Complete() {
			out = append(out, Outcome{Question: c.ID, What: "incomplete", Round: len(c.Rounds), Mixers: Mixers(c), Answers: c.Input.Len()})
			continue
		}
		if js, _ := c.Shares(); slices.Contains(js, j) {
			out = append(out, Outcome{Question: c.ID, What: "already", Mixers: Mixers(c), Answers: c.Input.Len()})
			continue
		}
		done := s.step(fmt.Sprintf("question %s: decrypting the mixed list of %d answers", c.ID, c.Input.Len()))
		share, err := c.Decrypt(rand.Reader, j, s.T.Share())
		done()
		if err != nil {
			return out, fmt.Errorf("question %q: %w", c.ID, err)
		}
		if err := c.AddShare(j, share); err != nil {
			return out, fmt.Errorf("your decryption of question %q does not verify: %w", c.ID, err)
		}
		where, err := s.Place.PublishMixShare(c, j, share)
		if err != nil {
			return out, fmt.Errorf("question %q: %w", c.ID, err)
		}
		out = append(out, Outcome{Question: c.ID, What: "posted", Mixers: Mixers(c), Answers: c.Input.Len(), Where: where})
	}
	return out, nil
}

// MixedBy returns the round trustee j mixed of c, or 0.
func MixedBy(c *mixnet.Chain, j int) int {
	for r, round := range c.Rounds {
		if round.Trustee == j {
			return r + 1
		}
	}
	return 0
}

// Mixers lists the trustees who mixed c, in round order.
func Mixers(c *mixnet.Chain) []int {
	var out []int
	for _, r := range c.Rounds {
		out = append(out, r.Trustee)
	}
	return out
}

// LoadChains rebuilds the mix of every mixed question of the verified
// record in dir: round 0 from the counted ballots (ballots.bin, every one
// of which Counted found counted: counted of them), then every round and
// share posted so far, each checked as it is added (the proof of shuffle
// against the list before it, the share's proofs against the final
// list). A record with a board takes them from the board's entries, in
// log order, which Counted checked against the signed checkpoint; a
// record without one from its mixes/ files. Anything invalid is an error
// naming the question, the round or share, and the trustee. stepper, if
// not nil, shows each long check.
func LoadChains(dir string, e *ballot.Election, res *ceremony.Result, counted int, stepper func(string) func()) ([]*mixnet.Chain, error) {
	mixed := e.Manifest.Mixed()
	if len(mixed) == 0 {
		return nil, nil
	}
	ballots, err := record.DecodeBallots(dir, e)
	if err != nil {
		return nil, err
	}
	if len(ballots) != counted {
		return nil, fmt.Errorf("%s holds %d ballots, %d are counted", record.Ballots, len(ballots), counted)
	}
	var chains []*mixnet.Chain
	byID := map[string]*mixnet.Chain{}
	for _, qi := range mixed {
		c, err := mixnet.NewChain(e, qi, ballots, res.VerificationKeys, e.Manifest.Threshold)
		if err != nil {
			return nil, err
		}
		chains = append(chains, c)
		byID[c.ID] = c
	}
	step := func(c *mixnet.Chain, what string) func() {
		if stepper == nil {
			return func() {}
		}
		return stepper(fmt.Sprintf("question %s: checking %s of %d answers", c.ID, what, c.Input.Len()))
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(record.BoardEntries))); err == nil {
		return chains, ChainsFromBoard(dir, byID, step)
	}
	for _, c := range chains {
		files, err := record.ListMix(dir, c.ID)
		if err != nil {
			return nil, err
		}
		for r, name := range files.Rounds {
			j := files.Trustees[r]
			msg, err := record.ReadBinary(name, int64(c.NextRoundSize()))
			if err != nil {
				return nil, fmt.Errorf("question %q round %d by trustee %d: %w", c.ID, r+1, j, err)
			}
			done := step(c, fmt.Sprintf("round %d (trustee %d)", r+1, j))
			err = c.AddRound(j, msg)
			done()
			if err != nil {
				return nil, WithHint(fmt.Errorf("%s: %w", name, err), "this round is not a valid shuffle of the list before it: remove it and the rounds after it, and tell its trustee")
			}
		}
		for _, j := range record.SortedKeys(files.Shares) {
			name := files.Shares[j]
			share, err := record.ReadBinary(name, int64(c.ShareSize()))
			if err != nil {
				return nil, fmt.Errorf("question %q: trustee %d's decryption share: %w", c.ID, j, err)
			}
			done := step(c, fmt.Sprintf("trustee %d's decryption", j))
			err = c.AddShare(j, share)
			done()
			if err != nil {
				return nil, WithHint(fmt.Errorf("%s: %w", name, err), "remove the file, and ask trustee %d to run koe trustee decrypt again", j)
			}
		}
	}
	return chains, nil
}

// ChainsFromBoard adds the mix and mix-decryption messages of the record's
// board entries to the chains, in log order.
func ChainsFromBoard(dir string, byID map[string]*mixnet.Chain, step func(*mixnet.Chain, string) func()) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		return err
	}
	defer f.Close()
	asm := board.Assembler{Size: func(typ string, j int, q string) (int, error) {
		c := byID[q]
		switch {
		case c == nil:
			return 0, fmt.Errorf("no text or rank question %q", q)
		case typ == board.TypeMix:
			return c.NextRoundSize(), nil
		default:
			return c.ShareSize(), nil
		}
	}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), board.MaxEntrySize+1)
	for i := int64(0); sc.Scan(); i++ {
		en, err := board.DecodeEntry(sc.Bytes())
		if err != nil {
			return fmt.Errorf("board entry %d: %w", i, err)
		}
		msg, err := asm.Feed(i, en)
		if err != nil {
			return fmt.Errorf("board: %w", err)
		}
		if msg == nil {
			continue
		}
		c := byID[msg.Question]
		if msg.Type == board.TypeMix {
			done := step(c, fmt.Sprintf("round %d (trustee %d)", len(c.Rounds)+1, msg.Trustee))
			err = c.AddRound(msg.Trustee, msg.Data)
			done()
		} else {
			done := step(c, fmt.Sprintf("trustee %d's decryption", msg.Trustee))
			err = c.AddShare(msg.Trustee, msg.Data)
			done()
		}
		if err != nil {
			return WithHint(fmt.Errorf("board entry %d: %w", msg.First, err), "the server accepted an invalid %s message: tell the administrator and the other trustees", msg.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", record.BoardEntries, err)
	}
	if asm.Pending() {
		return fmt.Errorf("board: the entries end inside a mix message")
	}
	return nil
}
