package verify_test

import (
	"crypto/rand"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/group"
)

// BenchmarkBallotVerification measures verifying 10-selection ballots
// (the participatory-budget manifest: choose 1 to 4 of 10) one at a time
// equation by equation, one batch per ballot, and 64 ballots per batch.
func BenchmarkBallotVerification(b *testing.B) {
	data, _ := examples.Manifest("budget")
	x, _ := group.RandomScalar(rand.Reader)
	e, err := ballot.NewElection(data, group.BaseMul(x), ballot.NoRegistrar)
	if err != nil {
		b.Fatal(err)
	}
	pt, _ := e.Manifest.Plaintext(ballot.Answers{"projects": []any{"wifi", "park-lights"}})
	raws := make([][]byte, 64)
	for i := range raws {
		bl, _, err := ballot.Encrypt(rand.Reader, e, [32]byte{byte(i)}, pt)
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = bl.Bytes()
	}
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := ballot.Decode(e, raws[i%64]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unbatched", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			bl, _ := ballot.Decode(e, raws[i%64])
			if err := bl.Verify(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("batch-per-ballot", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			bl, _ := ballot.Decode(e, raws[i%64])
			batch := group.NewBatch()
			bl.AddTo(batch, e)
			if !batch.Verify() {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("batch-of-64", func(b *testing.B) {
		for b.Loop() {
			batch := group.NewBatch()
			for _, raw := range raws {
				bl, _ := ballot.Decode(e, raw)
				bl.AddTo(batch, e)
			}
			if !batch.Verify() {
				b.Fatal("rejected")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/ballot")
	})
}
