// Package mixnet is the mix of an election's text and rank answers as it is
// on the board and in the record (SPEC.md §16.6): for each mixed question,
// t rounds of the verifiable shuffle (package shuffle) by distinct
// qualified trustees, then the trustees' decryption shares of the final
// list (tally.DecryptList), combined and counted (tally.MixedResultOf).
//
// A Chain holds one question's mix and checks each step as it is added; the
// server, the trustee's command line and the verifier all build one, so
// the rules exist once.
package mixnet

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/zkp"
)

// Errors callers branch on.
var (
	ErrRound    = errors.New("invalid mix round")
	ErrShare    = errors.New("invalid decryption of the mixed list")
	ErrNotReady = errors.New("the mix is not complete")
)

// RoundContext returns the shuffle context (§16.3) of round r (1..t) of the
// mix of the question at index qi (0-based in the manifest) by trustee j:
//
//	H256("koe/v2/mix/round"; Bytes("election", ctx), Uint64("question", qi+1),
//	     Uint64("round", r), Uint64("trustee", j))
func RoundContext(ctx [32]byte, qi, round, trustee int) []byte {
	return group.NewDigest("koe/v2/mix/round").Bytes("election", ctx[:]).
		Uint64("question", uint64(qi+1)).Uint64("round", uint64(round)).
		Uint64("trustee", uint64(trustee)).Sum()
}

// RoundSize is the size of a round's message for a list of n vectors of
// width w: the output list, the proof of shuffle, then the trustee's
// attestation.
func RoundSize(n, w int) int { return 64*n*w + shuffle.ProofSize(n, w) + zkp.SchnorrSize }

// AttestationContext is the context of trustee j's attestation of a round
// (SPEC.md §16.6): the Schnorr proof of knowledge of its key share x_j
// (Y_j = x_j·G) under
//
//	H256("koe/v2/mix/attestation"; Bytes("round", ctx_{q,r,j}),
//	     Bytes("message", SHA-256(enc(L_r) ‖ proof)))
//
// so that only the trustee, not whoever holds its API token, can post a
// round in its name.
func AttestationContext(roundCtx, listAndProof []byte) []byte {
	h := sha256.Sum256(listAndProof)
	return group.NewDigest("koe/v2/mix/attestation").Bytes("round", roundCtx).Bytes("message", h[:]).Sum()
}

// Round is one checked round of a chain.
type Round struct {
	Trustee     int
	Output      *shuffle.List
	Proof       []byte
	Attestation []byte // the trustee's Schnorr proof (zkp.SchnorrSize bytes)
}

// Message returns the round's message as posted: output list ‖ proof ‖
// attestation.
func (r *Round) Message() []byte {
	return append(append(slices.Clip(r.Output.Bytes()), r.Proof...), r.Attestation...)
}

// Chain is the mix of one mixed question.
type Chain struct {
	e         *ballot.Election
	Question  int    // index in the manifest
	ID        string // the question's id
	threshold int
	keys      map[int]*group.Element // qualified trustees' verification keys
	Input     *shuffle.List          // round 0: the counted ballots' vectors, in ballots.bin order
	Rounds    []Round
	shares    map[int][]*group.Element // checked partial decryptions of the final list
	raw       map[int][]byte           // the shares as posted
}

// NewChain starts the chain of mixed question qi from the counted ballots
// (in ballots.bin order, §10.1). keys are the verification keys Y_j of the
// qualified trustees (§6.3); threshold is t. There must be at least one
// ballot: with none there is nothing to mix.
func NewChain(e *ballot.Election, qi int, ballots []*ballot.Ballot, keys map[int]*group.Element, threshold int) (*Chain, error) {
	if qi < 0 || qi >= len(e.Manifest.Questions) || !ballot.Mixed(e.Manifest.Questions[qi].Kind) {
		return nil, fmt.Errorf("question %d is not a text or rank question", qi+1)
	}
	if len(ballots) == 0 {
		return nil, fmt.Errorf("question %q: no counted ballots to mix", e.Manifest.Questions[qi].ID)
	}
	in, err := tally.MixInput(ballots, qi)
	if err != nil {
		return nil, err
	}
	return &Chain{e: e, Question: qi, ID: e.Manifest.Questions[qi].ID, threshold: threshold, keys: keys,
		Input: in, shares: map[int][]*group.Element{}, raw: map[int][]byte{}}, nil
}

// Last returns the latest list: the output of the last round, or the input.
func (c *Chain) Last() *shuffle.List {
	if len(c.Rounds) == 0 {
		return c.Input
	}
	return c.Rounds[len(c.Rounds)-1].Output
}

// Complete reports whether the chain has its t rounds.
func (c *Chain) Complete() bool { return len(c.Rounds) == c.threshold }

// NextRoundSize is the size of the next round's message.
func (c *Chain) NextRoundSize() int { return RoundSize(c.Input.Len(), c.Input.Width()) }

// ShareSize is the size of a decryption share of the final list.
func (c *Chain) ShareSize() int { return tally.ListShareSize(c.Input.Len() * c.Input.Width()) }

// CanMix returns nil if trustee j may post the next round: the chain is not
// complete, j is qualified and has not mixed this question.
func (c *Chain) CanMix(j int) error {
	if c.Complete() {
		return fmt.Errorf("%w: question %q already has its %d rounds", ErrRound, c.ID, c.threshold)
	}
	if _, ok := c.keys[j]; !ok {
		return fmt.Errorf("%w: trustee %d is not a qualified trustee", ErrRound, j)
	}
	for _, r := range c.Rounds {
		if r.Trustee == j {
			return fmt.Errorf("%w: trustee %d already mixed question %q", ErrRound, j, c.ID)
		}
	}
	return nil
}

// Mix shuffles the latest list as trustee j, whose key share is x, and
// returns the next round's message, attested with x (it does not add it:
// post it, then AddRound).
func (c *Chain) Mix(rand io.Reader, j int, x *group.Scalar) ([]byte, error) {
	if err := c.CanMix(j); err != nil {
		return nil, err
	}
	if Y := group.BaseMul(x); Y.Equal(c.keys[j]) != 1 {
		return nil, fmt.Errorf("%w: this key share is not trustee %d's (its verification key differs)", ErrRound, j)
	}
	ctx := RoundContext(c.e.Context, c.Question, len(c.Rounds)+1, j)
	out, proof, err := shuffle.ShuffleList(rand, ctx, c.e.Key, c.Last())
	if err != nil {
		return nil, err
	}
	r := Round{Trustee: j, Output: out, Proof: proof.Bytes()}
	att, err := zkp.ProveSchnorr(rand, AttestationContext(ctx, r.Message()), x, c.keys[j])
	if err != nil {
		return nil, err
	}
	r.Attestation = att.Bytes()
	return r.Message(), nil
}

// CheckRound checks trustee j's round message against the latest list
// (shapes, then the proof of shuffle on all cores) without adding it.
func (c *Chain) CheckRound(j int, msg []byte) (*Round, error) {
	if err := c.CanMix(j); err != nil {
		return nil, err
	}
	n, w := c.Input.Len(), c.Input.Width()
	if len(msg) != RoundSize(n, w) {
		return nil, fmt.Errorf("%w: %d bytes; a round of %d vectors of width %d has %d", ErrRound, len(msg), n, w, RoundSize(n, w))
	}
	out, err := shuffle.DecodeList(msg[:64*n*w], n, w)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRound, err)
	}
	body, att := msg[:len(msg)-zkp.SchnorrSize], msg[len(msg)-zkp.SchnorrSize:]
	proof := body[64*n*w:]
	round := len(c.Rounds) + 1
	ctx := RoundContext(c.e.Context, c.Question, round, j)
	p, err := zkp.DecodeSchnorr(att)
	if err == nil {
		err = p.Verify(AttestationContext(ctx, body), c.keys[j])
	}
	if err != nil {
		return nil, fmt.Errorf("%w: question %q round %d: not attested by trustee %d's key share: %v", ErrRound, c.ID, round, j, err)
	}
	if err := shuffle.VerifyList(ctx, c.e.Key, c.Last(), out, proof); err != nil {
		return nil, fmt.Errorf("%w: question %q round %d by trustee %d: %v", ErrRound, c.ID, round, j, err)
	}
	return &Round{Trustee: j, Output: out, Proof: proof, Attestation: att}, nil
}

// Add appends a round CheckRound returned. The chain must not have changed
// in between.
func (c *Chain) Add(r *Round) { c.Rounds = append(c.Rounds, *r) }

// AddRound checks trustee j's round message and appends it.
func (c *Chain) AddRound(j int, msg []byte) error {
	r, err := c.CheckRound(j, msg)
	if err != nil {
		return err
	}
	c.Add(r)
	return nil
}

// Decrypt returns trustee j's decryption share of the final list, with key
// share x.
func (c *Chain) Decrypt(rand io.Reader, j int, x *group.Scalar) ([]byte, error) {
	if !c.Complete() {
		return nil, fmt.Errorf("%w: question %q has %d of its %d rounds", ErrNotReady, c.ID, len(c.Rounds), c.threshold)
	}
	return tally.DecryptList(rand, c.e.Context[:], c.Last(), j, x)
}

// AddShare checks trustee j's decryption share of the final list and keeps
// it: the chain must be complete, j qualified, with no share yet.
func (c *Chain) AddShare(j int, share []byte) error {
	if _, dup := c.shares[j]; dup && c.Complete() {
		return fmt.Errorf("%w: trustee %d already decrypted question %q", ErrShare, j, c.ID)
	}
	s, err := c.CheckShare(j, share)
	if err != nil {
		return err
	}
	return c.AddChecked(s)
}

// Share is a checked decryption share of a chain's final list.
type Share struct {
	Trustee  int
	partials []*group.Element
	raw      []byte
}

// CheckShare checks trustee j's decryption share of the final list (§16.5)
// without keeping it: the chain must be complete, j qualified, and the
// share must verify with its j the trustee's (AddChecked refuses a second
// share of j). It reads only the chain's rounds and keys, which do not
// change once it is complete, so it may run while another goroutine adds
// a checked share.
func (c *Chain) CheckShare(j int, share []byte) (*Share, error) {
	if !c.Complete() {
		return nil, fmt.Errorf("%w: %w: question %q has %d of its %d rounds", ErrShare, ErrNotReady, c.ID, len(c.Rounds), c.threshold)
	}
	Y, ok := c.keys[j]
	if !ok {
		return nil, fmt.Errorf("%w: trustee %d is not a qualified trustee", ErrShare, j)
	}
	who, Ds, err := tally.CheckListShare(c.e.Context[:], c.Last(), share, Y)
	if err != nil {
		return nil, fmt.Errorf("%w: question %q: %v", ErrShare, c.ID, err)
	}
	if who != j {
		return nil, fmt.Errorf("%w: question %q: trustee %d posted a share that says it is trustee %d's", ErrShare, c.ID, j, who)
	}
	return &Share{Trustee: j, partials: Ds, raw: share}, nil
}

// AddChecked keeps a share CheckShare returned, unless the chain has a
// share of its trustee already.
func (c *Chain) AddChecked(s *Share) error {
	if _, dup := c.shares[s.Trustee]; dup {
		return fmt.Errorf("%w: trustee %d already decrypted question %q", ErrShare, s.Trustee, c.ID)
	}
	c.shares[s.Trustee], c.raw[s.Trustee] = s.partials, s.raw
	return nil
}

// Shares returns the trustees whose shares were added, ascending, and the
// shares as posted.
func (c *Chain) Shares() ([]int, map[int][]byte) {
	js := make([]int, 0, len(c.raw))
	for j := range c.raw {
		js = append(js, j)
	}
	slices.Sort(js)
	return js, c.raw
}

// Result combines the shares (at least t) and counts the answers.
func (c *Chain) Result() (*tally.MixedResult, error) {
	if !c.Complete() {
		return nil, fmt.Errorf("%w: question %q has %d of its %d rounds", ErrNotReady, c.ID, len(c.Rounds), c.threshold)
	}
	ms, err := tally.CombineList(c.Last(), c.shares, c.threshold)
	if err != nil {
		return nil, fmt.Errorf("question %q: %w", c.ID, err)
	}
	return tally.MixedResultOf(c.e.Manifest, c.Question, ms)
}
