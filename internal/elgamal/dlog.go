package elgamal

import (
	"errors"
	"fmt"
	"math"

	"github.com/koe-vote/koe/internal/group"
)

// ErrNoLog is returned when m·G has no logarithm within the table's bound.
var ErrNoLog = errors.New("discrete logarithm out of range")

// DlogTable finds m from m·G for 0 ≤ m ≤ Max by baby-step giant-step
// (SPEC.md §5.3). Building the table costs about √Max group additions; each
// lookup costs at most about √Max more. A table is safe for concurrent use.
type DlogTable struct {
	max   uint64
	step  uint64              // baby steps: j·G for 0 ≤ j < step
	baby  map[[32]byte]uint64 // encoding of j·G → j
	giant *group.Element      // −step·G
}

// NewDlogTable builds a table for logarithms up to max.
func NewDlogTable(max uint64) *DlogTable {
	step := uint64(math.Sqrt(float64(max))) + 1
	t := &DlogTable{max: max, step: step, baby: make(map[[32]byte]uint64, step)}
	P := group.NewElement()
	G := group.Generator()
	var key [32]byte
	for j := uint64(0); j < step; j++ {
		P.Encode(key[:0])
		t.baby[key] = j
		P.Add(P, G)
	}
	// P is now step·G.
	t.giant = group.NewElement().Negate(P)
	return t
}

// Max returns the largest logarithm the table finds.
func (t *DlogTable) Max() uint64 { return t.max }

// Log returns m with M = m·G and 0 ≤ m ≤ Max, or ErrNoLog.
func (t *DlogTable) Log(M *group.Element) (uint64, error) {
	P := group.NewElement().Set(M)
	var key [32]byte
	for i := uint64(0); i*t.step <= t.max; i++ {
		P.Encode(key[:0])
		if j, ok := t.baby[key]; ok {
			m := i*t.step + j
			if m > t.max {
				break
			}
			return m, nil
		}
		P.Add(P, t.giant)
	}
	return 0, fmt.Errorf("%w: no m ≤ %d", ErrNoLog, t.max)
}
