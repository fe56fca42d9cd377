package mixnet_test

import (
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/zkp"
)

// TestRoundAttested is the dishonest operator who holds the trustees' API
// tokens and posts the rounds of the mix itself, knowing every
// permutation: a round carries the trustee's Schnorr proof of knowledge
// of its key share, bound to the round, so a round shuffled correctly but
// not made by the trustee is refused, and so is a trustee's attestation
// moved onto another round.
func TestRoundAttested(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "record")
	manifest, err := examples.Manifest("city-survey")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := demo.Run(demo.Options{Dir: dir, Manifest: manifest, Voters: 6, Trustees: 3, Threshold: 2, Seed: 3, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	e, res, err := record.LoadElection(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		t.Fatal(err)
	}
	var ballots []*ballot.Ballot
	for {
		b, err := raw.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := ballot.Decode(e, b)
		if err != nil {
			t.Fatal(err)
		}
		ballots = append(ballots, d)
	}
	raw.Close()
	qi := e.Manifest.Mixed()[0]
	newChain := func() *mixnet.Chain {
		c, err := mixnet.NewChain(e, qi, ballots, res.VerificationKeys, 2)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	share := func(j int) *group.Scalar { return sum.Trustees[j-1].Share() }

	// The operator's round: a valid shuffle, attested with a key that is
	// not trustee 1's.
	c := newChain()
	ctx := mixnet.RoundContext(e.Context, qi, 1, 1)
	out, proof, err := shuffle.ShuffleList(rand.Reader, ctx, e.Key, c.Last())
	if err != nil {
		t.Fatal(err)
	}
	body := append(append([]byte(nil), out.Bytes()...), proof.Bytes()...)
	other, _ := group.RandomScalar(rand.Reader)
	forged, err := zkp.ProveSchnorr(rand.Reader, mixnet.AttestationContext(ctx, body), other, group.BaseMul(other))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddRound(1, append(body, forged.Bytes()...)); !errors.Is(err, mixnet.ErrRound) || !strings.Contains(err.Error(), "not attested") {
		t.Fatalf("a round not made by trustee 1 is accepted in its name: %v", err)
	}

	// Trustee 1's own round is accepted; its attestation moved onto the
	// operator's shuffle is not.
	honest, err := c.Mix(rand.Reader, 1, share(1))
	if err != nil {
		t.Fatal(err)
	}
	moved := append(body, honest[len(honest)-zkp.SchnorrSize:]...)
	if err := c.AddRound(1, moved); !errors.Is(err, mixnet.ErrRound) {
		t.Fatalf("trustee 1's attestation of another round is accepted: %v", err)
	}
	if err := c.AddRound(1, honest); err != nil {
		t.Fatalf("trustee 1's round: %v", err)
	}
	// A trustee cannot mix with another's key share.
	if _, err := c.Mix(rand.Reader, 2, share(3)); err == nil {
		t.Fatal("trustee 2 mixed with trustee 3's key share")
	}
}
