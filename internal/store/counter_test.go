package store

import (
	"errors"
	"testing"
)

// TestCheckCounter is SPEC §15.4 rule 1, which the ballot box and the
// verifier share: 1 first, then the last accepted counter plus one.
func TestCheckCounter(t *testing.T) {
	for _, c := range []struct {
		last    uint64
		seen    bool
		counter uint64
		want    error
	}{
		{0, false, 1, nil},
		{0, false, 0, ErrWrongCounter},
		{0, false, 2, ErrWrongCounter},
		{1, true, 2, nil},
		{1, true, 1, ErrReplay},
		{5, true, 3, ErrReplay},
		{5, true, 7, ErrWrongCounter},
		{5, true, 6, nil},
	} {
		if err := CheckCounter(c.last, c.seen, c.counter); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckCounter(%d, %v, %d) = %v, want %v", c.last, c.seen, c.counter, err, c.want)
		}
	}
}
