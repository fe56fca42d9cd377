package mixnet_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
)

// fixture is a small election of examples/city-survey.json (3 trustees,
// threshold 2, 6 voters) with its counted ballots and the trustees' keys.
type fixture struct {
	e        *ballot.Election
	res      *ceremony.Result
	ballots  []*ballot.Ballot
	trustees map[int]*ceremony.Trustee
	opinion  int // the text question's index
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func setup(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "koe-mixnet-test-"+randomName())
		defer os.RemoveAll(dir)
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "city-survey.json"))
		if err != nil {
			fixErr = err
			return
		}
		s, err := demo.Run(demo.Options{Dir: dir, Manifest: data, Voters: 6, Trustees: 3, Threshold: 2, Seed: 3})
		if err != nil {
			fixErr = err
			return
		}
		e, res, err := record.LoadElection(dir)
		if err != nil {
			fixErr = err
			return
		}
		f := &fixture{e: e, res: res, trustees: map[int]*ceremony.Trustee{}, opinion: -1}
		for _, tr := range s.Trustees {
			f.trustees[tr.Index] = tr
		}
		raw, err := os.ReadFile(filepath.Join(dir, record.Ballots))
		if err != nil {
			fixErr = err
			return
		}
		for i := 0; i < len(raw); i += e.Style.Size() {
			b, err := ballot.Decode(e, raw[i:i+e.Style.Size()])
			if err != nil {
				fixErr = err
				return
			}
			f.ballots = append(f.ballots, b)
		}
		for i, q := range e.Manifest.Questions {
			if q.Kind == ballot.KindText {
				f.opinion = i
			}
		}
		fix = f
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.Map(func(r rune) rune { return 'a' + r%26 }, string(b))
}

func (f *fixture) chain(t *testing.T) *mixnet.Chain {
	t.Helper()
	c, err := mixnet.NewChain(f.e, f.opinion, f.ballots, f.res.VerificationKeys, f.e.Manifest.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mixed returns a chain with its rounds by trustees in order.
func (f *fixture) mixed(t *testing.T, by ...int) *mixnet.Chain {
	t.Helper()
	c := f.chain(t)
	for _, j := range by {
		msg, err := c.Mix(rand.Reader, j, f.trustees[j].Share())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddRound(j, msg); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (f *fixture) share(t *testing.T, c *mixnet.Chain, j int) []byte {
	t.Helper()
	s, err := c.Decrypt(rand.Reader, j, f.trustees[j].Share())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantErr(t *testing.T, err error, sentinel error, text string) {
	t.Helper()
	if err == nil || !errors.Is(err, sentinel) || !strings.Contains(err.Error(), text) {
		t.Fatalf("got %v, want %v saying %q", err, sentinel, text)
	}
}

func TestNewChainRefuses(t *testing.T) {
	f := setup(t)
	if _, err := mixnet.NewChain(f.e, 0, f.ballots, f.res.VerificationKeys, 2); err == nil || !strings.Contains(err.Error(), "not a text or rank question") {
		t.Fatalf("a tallied question: %v", err)
	}
	if _, err := mixnet.NewChain(f.e, len(f.e.Manifest.Questions), f.ballots, f.res.VerificationKeys, 2); err == nil {
		t.Fatal("a question beyond the manifest")
	}
	if _, err := mixnet.NewChain(f.e, f.opinion, nil, f.res.VerificationKeys, 2); err == nil || !strings.Contains(err.Error(), "no counted ballots") {
		t.Fatalf("no ballots: %v", err)
	}
}

func TestChainRounds(t *testing.T) {
	f := setup(t)
	c := f.chain(t)
	if c.Last() != c.Input || c.Complete() {
		t.Fatal("a new chain is not at its input")
	}
	wantErr(t, c.CanMix(4), mixnet.ErrRound, "trustee 4 is not a qualified trustee")
	if _, err := c.Mix(rand.Reader, 4, f.trustees[1].Share()); !errors.Is(err, mixnet.ErrRound) {
		t.Fatalf("Mix by an unqualified trustee: %v", err)
	}
	msg, err := c.Mix(rand.Reader, 2, f.trustees[2].Share())
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) != c.NextRoundSize() {
		t.Fatalf("a round of %d bytes, want %d", len(msg), c.NextRoundSize())
	}
	// The round is bound to its trustee and round number.
	wantErr(t, c.AddRound(1, msg), mixnet.ErrRound, "not attested by trustee 1")
	wantErr(t, c.AddRound(2, msg[:len(msg)-1]), mixnet.ErrRound, "bytes")
	if err := c.AddRound(2, msg); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.CanMix(2), mixnet.ErrRound, "trustee 2 already mixed")
	wantErr(t, c.AddRound(3, msg), mixnet.ErrRound, "not attested by trustee 3")
	// A share before the t-th round is refused, and none can be made.
	wantErr(t, c.AddShare(1, make([]byte, c.ShareSize())), mixnet.ErrNotReady, "1 of its 2 rounds")
	if _, err := c.Decrypt(rand.Reader, 1, f.trustees[1].Share()); !errors.Is(err, mixnet.ErrNotReady) {
		t.Fatalf("Decrypt before the t-th round: %v", err)
	}
	if _, err := c.Result(); !errors.Is(err, mixnet.ErrNotReady) {
		t.Fatalf("Result before the t-th round: %v", err)
	}
	msg3, err := c.Mix(rand.Reader, 3, f.trustees[3].Share())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddRound(3, msg3); err != nil {
		t.Fatal(err)
	}
	if !c.Complete() || len(c.Rounds) != 2 || c.Rounds[0].Trustee != 2 || c.Rounds[1].Trustee != 3 {
		t.Fatalf("rounds %+v", c.Rounds)
	}
	wantErr(t, c.CanMix(1), mixnet.ErrRound, "already has its 2 rounds")
	if string(c.Rounds[1].Message()) != string(msg3) {
		t.Fatal("Message is not the round as posted")
	}
}

func TestChainShares(t *testing.T) {
	f := setup(t)
	c := f.mixed(t, 1, 3)
	s1, s2, s3 := f.share(t, c, 1), f.share(t, c, 2), f.share(t, c, 3)
	if len(s1) != c.ShareSize() {
		t.Fatalf("a share of %d bytes, want %d", len(s1), c.ShareSize())
	}
	wantErr(t, c.AddShare(4, s1), mixnet.ErrShare, "trustee 4 is not a qualified trustee")
	// Trustee 1 posting trustee 2's share: the share does not verify
	// under trustee 1's key.
	wantErr(t, c.AddShare(1, s2), mixnet.ErrShare, "question \"opinion\"")
	if err := c.AddShare(1, s1); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.AddShare(1, s1), mixnet.ErrShare, "trustee 1 already decrypted")
	if _, err := c.Result(); err == nil {
		t.Fatal("a result from one share of a threshold of 2")
	}
	// A share of another list (round 1's output).
	c1 := f.mixed(t, 2)
	early, err := c1.Decrypt(rand.Reader, 2, f.trustees[2].Share())
	if !errors.Is(err, mixnet.ErrNotReady) || early != nil {
		t.Fatalf("a share of an incomplete chain: %v", err)
	}
	shareOf := func(c *mixnet.Chain, j int) []byte { return f.share(t, c, j) }
	foreign := shareOf(f.mixed(t, 1, 2), 2)
	wantErr(t, c.AddShare(2, foreign), mixnet.ErrShare, "another list")
	if err := c.AddShare(2, s2); err != nil {
		t.Fatal(err)
	}
	if err := c.AddShare(3, s3); err != nil {
		t.Fatal(err)
	}
	js, raw := c.Shares()
	if !reflect.DeepEqual(js, []int{1, 2, 3}) || string(raw[3]) != string(s3) {
		t.Fatalf("Shares %v", js)
	}

	// Any t of the shares give the same answers.
	all, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Comments)+all.Empty+all.Invalid != len(f.ballots) {
		t.Fatalf("result %+v of %d ballots", all, len(f.ballots))
	}
	for _, pair := range [][2]int{{1, 2}, {1, 3}, {2, 3}} {
		sub := f.mixedCopy(t, c)
		shares := map[int][]byte{1: s1, 2: s2, 3: s3}
		for _, j := range pair {
			if err := sub.AddShare(j, shares[j]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := sub.Result()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("shares %v give %+v, all three %+v", pair, got, all)
		}
	}
}

// mixedCopy returns a chain with c's rounds and no shares.
func (f *fixture) mixedCopy(t *testing.T, c *mixnet.Chain) *mixnet.Chain {
	t.Helper()
	d := f.chain(t)
	for _, r := range c.Rounds {
		if err := d.AddRound(r.Trustee, r.Message()); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestRoundContext(t *testing.T) {
	ctx := [32]byte{1}
	a := mixnet.RoundContext(ctx, 3, 1, 2)
	if want := group.NewDigest("koe/v2/mix/round").Bytes("election", ctx[:]).Uint64("question", 4).Uint64("round", 1).Uint64("trustee", 2).Sum(); string(a) != string(want) {
		t.Fatal("RoundContext is not SPEC.md §16.6's digest")
	}
	for _, b := range [][]byte{mixnet.RoundContext([32]byte{2}, 3, 1, 2), mixnet.RoundContext(ctx, 2, 1, 2), mixnet.RoundContext(ctx, 3, 2, 2), mixnet.RoundContext(ctx, 3, 1, 1)} {
		if string(a) == string(b) {
			t.Fatal("two rounds share a context")
		}
	}
}
