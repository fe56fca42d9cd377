// Package tally adds encrypted ballots homomorphically, produces and checks
// the trustees' partial decryptions, and combines them into results
// (SPEC.md §9).
package tally

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
)

// Accumulator sums the selections of ballots of one style.
type Accumulator struct {
	Ballots int
	Sums    []elgamal.Ciphertext // one per selection, in ballot order
}

// NewAccumulator returns an empty accumulator for a style.
func NewAccumulator(st *ballot.Style) *Accumulator {
	a := &Accumulator{Sums: make([]elgamal.Ciphertext, st.Selections())}
	for i := range a.Sums {
		a.Sums[i] = elgamal.Zero()
	}
	return a
}

// Add adds a ballot's selections.
func (a *Accumulator) Add(b *ballot.Ballot) {
	k := 0
	for _, q := range b.Questions {
		if q.Mixed() {
			continue // text and rank questions are mixed, not tallied
		}
		for _, s := range q.Selections {
			a.Sums[k].Accumulate(s.Ciphertext)
			k++
		}
	}
	a.Ballots++
}

// AddCiphertexts adds one ballot given as its flat list of ciphertexts.
func (a *Accumulator) AddCiphertexts(cts []elgamal.Ciphertext) {
	for k := range cts {
		a.Sums[k].Accumulate(cts[k])
	}
	a.Ballots++
}

// Merge adds another accumulator's sums into a.
func (a *Accumulator) Merge(o *Accumulator) {
	for k := range a.Sums {
		a.Sums[k].Accumulate(o.Sums[k])
	}
	a.Ballots += o.Ballots
}

// Sum adds encoded ballots using every core. The ballots must already have
// been verified: Sum decodes only their ciphertexts.
func Sum(e *ballot.Election, raws [][]byte) (*Accumulator, error) {
	workers := runtime.GOMAXPROCS(0)
	parts := make([]*Accumulator, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := NewAccumulator(e.Style)
			for i := w; i < len(raws); i += workers {
				cts, err := ballot.DecodeCiphertexts(e, raws[i])
				if err != nil {
					errs[w] = fmt.Errorf("ballot %d: %w", i+1, err)
					return
				}
				acc.AddCiphertexts(cts)
			}
			parts[w] = acc
		}()
	}
	wg.Wait()
	total := NewAccumulator(e.Style)
	for w := range workers {
		if errs[w] != nil {
			return nil, errs[w]
		}
		total.Merge(parts[w])
	}
	return total, nil
}

// Encrypted is the published encrypted tally (SPEC.md §9.1).
type Encrypted struct {
	Ballots     int      `json:"ballots"`
	Ciphertexts []string `json:"ciphertexts"` // hex A ‖ B, one per selection
}

// Publish returns the accumulator in its published form.
func (a *Accumulator) Publish() *Encrypted {
	e := &Encrypted{Ballots: a.Ballots}
	for _, c := range a.Sums {
		e.Ciphertexts = append(e.Ciphertexts, fmt.Sprintf("%x", c.Bytes()))
	}
	return e
}

// Hash returns the tally hash that decryption proofs are bound to:
// SHA-256 transcript "koe/v2/tally" with election = context, ballots =
// u64be(count), then ciphertext = A ‖ B for each selection.
func (a *Accumulator) Hash(context [32]byte) [32]byte {
	t := group.NewDigest("koe/v2/tally").Bytes("election", context[:]).Uint64("ballots", uint64(a.Ballots))
	for _, c := range a.Sums {
		t.Bytes("ciphertext", c.Bytes())
	}
	return t.Digest32()
}

// ParseEncrypted decodes a published encrypted tally for a style.
func ParseEncrypted(pub *Encrypted, st *ballot.Style) (*Accumulator, error) {
	if pub.Ballots < 0 {
		return nil, fmt.Errorf("tally: negative ballot count")
	}
	if len(pub.Ciphertexts) != st.Selections() {
		return nil, fmt.Errorf("tally: %d ciphertexts, a ballot has %d selections", len(pub.Ciphertexts), st.Selections())
	}
	a := &Accumulator{Ballots: pub.Ballots, Sums: make([]elgamal.Ciphertext, len(pub.Ciphertexts))}
	for k, h := range pub.Ciphertexts {
		raw, err := decodeHex("ciphertext", h, elgamal.CiphertextSize)
		if err != nil {
			return nil, fmt.Errorf("tally: selection %d: %v", k+1, err)
		}
		if a.Sums[k], err = elgamal.Decode(raw); err != nil {
			return nil, fmt.Errorf("tally: selection %d: %v", k+1, err)
		}
	}
	return a, nil
}
