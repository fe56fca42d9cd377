package httpx

import (
	"bytes"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

func TestShuffleOrder(t *testing.T) {
	// A permutation that keeps each key's items in arrival order.
	keys := [][32]byte{{1}, {2}, {1}, {3}, {1}, {2}, {4}, {5}}
	for range 200 {
		order := ShuffleOrder(keys)
		seen := map[int]bool{}
		last := map[[32]byte]int{}
		for _, i := range order {
			if seen[i] || i < 0 || i >= len(keys) {
				t.Fatalf("order %v is not a permutation of %d items", order, len(keys))
			}
			seen[i] = true
			if prev, ok := last[keys[i]]; ok && prev > i {
				t.Fatalf("order %v puts item %d of key %x before its item %d", order, prev, keys[i][0], i)
			}
			last[keys[i]] = i
		}
		if len(seen) != len(keys) {
			t.Fatalf("order %v misses items", order)
		}
	}
	// Uniform: with distinct keys the first item lands everywhere alike
	// (2000 draws over 8 places: 250 each; a generous band).
	distinct := make([][32]byte, 8)
	for i := range distinct {
		distinct[i] = [32]byte{byte(i)}
	}
	var at [8]int
	for range 2000 {
		for p, i := range ShuffleOrder(distinct) {
			if i == 0 {
				at[p]++
			}
		}
	}
	for p, n := range at {
		if n < 150 || n > 350 {
			t.Errorf("item 0 came at place %d %d times of 2000, want about 250: %v", p, n, at)
		}
	}
	if got := ShuffleOrder(nil); len(got) != 0 {
		t.Errorf("ShuffleOrder(nil) = %v", got)
	}
}

func TestTicks(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 7, 300, time.UTC)
	if got, want := NextTick(at, 5*time.Second), time.Date(2026, 12, 1, 9, 0, 10, 0, time.UTC); !got.Equal(want) {
		t.Errorf("nextTick = %v, want %v", got, want)
	}
	if got, want := NextTick(time.Date(2026, 12, 1, 9, 0, 10, 0, time.UTC), 5*time.Second), time.Date(2026, 12, 1, 9, 0, 15, 0, time.UTC); !got.Equal(want) {
		t.Errorf("nextTick on a tick = %v, want the next one %v", got, want)
	}
	if got, want := BatchTime(at, 20*time.Second), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("batchTime = %v, want %v", got, want)
	}
	// Ticks count from the Unix epoch, also for an interval that does not
	// divide a day (time.Truncate would count from year 1).
	if got, want := NextTick(time.Unix(100, 0), 7*time.Second), time.Unix(105, 0); !got.Equal(want) {
		t.Errorf("NextTick(epoch+100s, 7s) = %v, want epoch+105s", got)
	}
	if got, want := BatchTime(time.Unix(-3, 0), 7*time.Second), time.Unix(-7, 0); !got.Equal(want) {
		t.Errorf("batchTime before the epoch = %v, want %v", got, want)
	}
	if got := BatchTime(at, 0); !got.Equal(at) {
		t.Errorf("batchTime without an interval = %v, want %v", got, at)
	}
}

func TestRestamp(t *testing.T) {
	e := board.Entry{Type: board.TypeBallot, Election: "e-1", Time: time.Date(2026, 12, 1, 9, 0, 7, 0, time.UTC), Body: []byte(`{"x":"\"time\":\"2026"}`)}
	raw, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 12, 1, 9, 0, 5, 0, time.UTC)
	got, err := Restamp(raw, tick)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(raw, []byte("09:00:07Z"), []byte("09:00:05Z"), 1)
	if !bytes.Equal(got, want) {
		t.Errorf("restamp = %s, want %s", got, want)
	}
	if _, err := Restamp([]byte(`{"type":"ballot"}`), tick); err == nil {
		t.Error("restamp accepted a malformed entry")
	}
}
