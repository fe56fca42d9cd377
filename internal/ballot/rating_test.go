package ballot

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// ratingElection is a survey of one rating question on the scale min..max.
func ratingElection(t testing.TB, min, max int) *Election {
	t.Helper()
	m := map[string]any{
		"spec": "koe/v2", "id": "rating", "kind": "survey", "title": map[string]any{"ja": "評価"},
		"trustees": 1, "threshold": 1,
		"questions": []any{map[string]any{"id": "r", "kind": "rating", "label": map[string]any{"ja": "評価"}, "min": min, "max": max}},
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := group.RandomScalar(rand.Reader)
	e, err := NewElection(data, group.BaseMul(x), NoRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A rating is one-hot (SPEC §8.1): one 0/1 selection per value of the
// scale, exactly one of them 1, with the total proof [1, 1].
func TestRatingOneHot(t *testing.T) {
	e, _ := testElection(t, "survey") // science-city: 1..5, the third question
	qs := e.Style.Questions[2]
	if qs != (QuestionStyle{Selections: 5, Max: 1, HasTotal: true, TotalLo: 1, TotalHi: 1}) {
		t.Fatalf("rating style %+v", qs)
	}
	for v := 1; v <= 5; v++ {
		a := Answers{"age": "30s", "fields": []any{"health"}, "science-city": float64(v), "internet-voting": "for"}
		pt, err := e.Manifest.Plaintext(a)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]uint64, 5)
		want[v-1] = 1
		if !slices.Equal(pt[2], want) {
			t.Fatalf("rating %d encodes as %v, want %v", v, pt[2], want)
		}
		if back := e.Manifest.Answers(pt)["science-city"]; back != float64(v) {
			t.Fatalf("rating %d decodes as %v", v, back)
		}
		b, nonces, err := Encrypt(rand.Reader, e, [32]byte{byte(v)}, pt)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyBothWays(t, e, b); err != nil {
			t.Fatalf("rating %d: %v", v, err)
		}
		if _, err := Spoil(b, pt, nonces).Check(e); err != nil {
			t.Fatalf("spoiled rating %d: %v", v, err)
		}
	}
}

// The widest scale SPEC §7.2 allows, 101 values, is one-hot too, and its
// size is what §8.2 says.
func TestRatingWidestScale(t *testing.T) {
	e := ratingElection(t, 1000, 1100)
	if got := e.Style.Questions[0].Selections; got != 101 {
		t.Fatalf("%d selections, want 101", got)
	}
	if want := HeaderSize + 101*(64+128*2) + 128; e.Style.Size() != want {
		t.Fatalf("ballot size %d, want %d", e.Style.Size(), want)
	}
	pt, err := e.Manifest.Plaintext(Answers{"r": json.Number("1100")})
	if err != nil {
		t.Fatal(err)
	}
	if pt[0][100] != 1 || slices.Index(pt[0], 1) != 100 {
		t.Fatalf("1100 encodes as %v", pt[0])
	}
	b, _, err := Encrypt(rand.Reader, e, [32]byte{}, pt)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyBothWays(t, e, b); err != nil {
		t.Fatal(err)
	}
}

// A plaintext with two values of a rating chosen, or none, is refused
// with an error that says so, by Encrypt and by a spoiled ballot's check.
func TestRatingPlaintextRefused(t *testing.T) {
	e := ratingElection(t, 1, 5)
	for _, tc := range []struct {
		name string
		row  []uint64
		want string
	}{
		{"two values", []uint64{0, 1, 0, 1, 0}, "exactly one value chosen, this has 2"},
		{"every value", []uint64{1, 1, 1, 1, 1}, "exactly one value chosen, this has 5"},
		{"no value", []uint64{0, 0, 0, 0, 0}, "exactly one value chosen, this has 0"},
		{"a value twice", []uint64{0, 0, 2, 0, 0}, "value 2 above 1"},
		{"the old offset encoding", []uint64{3}, "1 values, want 5"},
		{"one value too many", []uint64{0, 0, 1, 0, 0, 0}, "6 values, want 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Encrypt(rand.Reader, e, [32]byte{}, Plaintext{tc.row})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encrypt: %v, want an error saying %q", err, tc.want)
			}
			// The same values stated for an honest ballot that holds 3.
			pt := Plaintext{{0, 0, 1, 0, 0}}
			b, nonces, err := Encrypt(rand.Reader, e, [32]byte{}, pt)
			if err != nil {
				t.Fatal(err)
			}
			s := Spoil(b, pt, nonces)
			s.Values = Plaintext{tc.row}
			if _, err := s.Check(e); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("spoiled ballot check: %v, want an error saying %q", err, tc.want)
			}
			// An unchecked plaintext without exactly one 1 has no answer
			// to show, rather than a wrong one.
			if a := e.Manifest.Answers(Plaintext{tc.row}); tc.name == "no value" && a["r"] != nil {
				t.Fatalf("no value shown as %v", a["r"])
			}
		})
	}
}

// FuzzRatingPlaintext checks the one-hot decoding of a rating's
// selections: a row is accepted iff it has one 1 and otherwise 0s, and
// then Answers gives the value of that position and Plaintext gives the
// row back.
func FuzzRatingPlaintext(f *testing.F) {
	e := ratingElection(f, 2, 8)
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 2, 0, 0, 0, 0, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, row []byte) {
		pt := Plaintext{make([]uint64, len(row))}
		ones, others := 0, 0
		for i, c := range row {
			pt[0][i] = uint64(c)
			switch c {
			case 0:
			case 1:
				ones++
			default:
				others++
			}
		}
		valid := len(row) == 7 && ones == 1 && others == 0
		err := e.checkPlaintext(pt)
		if (err == nil) != valid {
			t.Fatalf("checkPlaintext(%v) = %v, valid %v", row, err, valid)
		}
		if !valid {
			return
		}
		v, ok := e.Manifest.Answers(pt)["r"].(float64)
		if !ok || int(v) != 2+slices.Index(pt[0], 1) {
			t.Fatalf("Answers(%v) = %v", row, v)
		}
		back, err := e.Manifest.Plaintext(Answers{"r": v})
		if err != nil || !slices.Equal(back[0], pt[0]) {
			t.Fatalf("Plaintext(%v) = %v, %v; want %v", v, back, err, pt[0])
		}
	})
}

// BenchmarkRating encrypts and verifies (in a batch) a ballot of one
// rating question on scales of 5, 11 and 101 values: the cost of one-hot.
func BenchmarkRating(b *testing.B) {
	for _, span := range []int{4, 10, 100} {
		e := ratingElection(b, 0, span)
		pt, err := e.Manifest.Plaintext(Answers{"r": float64(span / 2)})
		if err != nil {
			b.Fatal(err)
		}
		ballot, _, err := Encrypt(rand.Reader, e, [32]byte{}, pt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("encrypt/%d-values", span+1), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Encrypt(rand.Reader, e, [32]byte{}, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("verify/%d-values", span+1), func(b *testing.B) {
			for b.Loop() {
				batch := group.NewBatch()
				if err := ballot.AddTo(batch, e); err != nil || !batch.Verify() {
					b.Fatal("an honest ballot does not verify")
				}
			}
		})
	}
}
