package ballot

import (
	"crypto/rand"
	"os"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func testElection(t testing.TB, name string) (*Election, *group.Scalar) {
	t.Helper()
	data, err := os.ReadFile("../../examples/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := group.RandomScalar(rand.Reader)
	e, err := NewElection(data, group.BaseMul(x), NoRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	return e, x
}

func TestEncryptVerify(t *testing.T) {
	for _, name := range []string{"referendum", "survey", "budget"} {
		t.Run(name, func(t *testing.T) {
			e, _ := testElection(t, name)
			answers := map[string]Answers{
				"referendum": {"plan": "yes"},
				"survey":     {"age": "30s", "fields": []any{"health", "digital"}, "science-city": 4.0, "internet-voting": "rather-for"},
				"budget":     {"projects": []any{"wifi", "park-lights", "bike-lanes"}},
			}[name]
			pt, err := e.Manifest.Plaintext(answers)
			if err != nil {
				t.Fatal(err)
			}
			b, nonces, err := Encrypt(rand.Reader, e, [32]byte{1}, pt)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Bytes()) != e.Style.Size() {
				t.Fatalf("size %d, style says %d", len(b.Bytes()), e.Style.Size())
			}
			d, err := Decode(e, b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Verify(e); err != nil {
				t.Fatal(err)
			}
			batch := group.NewBatch()
			if err := d.AddTo(batch, e); err != nil {
				t.Fatal(err)
			}
			if !batch.Verify() {
				t.Fatal("batch rejects an honest ballot")
			}
			sp := Spoil(b, pt, nonces)
			if _, err := sp.Check(e); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func BenchmarkVerifyBudget(b *testing.B) {
	e, _ := testElection(b, "budget")
	pt, _ := e.Manifest.Plaintext(Answers{"projects": []any{"wifi"}})
	bal, _, _ := Encrypt(rand.Reader, e, [32]byte{}, pt)
	b.Run("encrypt", func(b *testing.B) {
		for b.Loop() {
			Encrypt(rand.Reader, e, [32]byte{}, pt)
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			Decode(e, bal.Bytes())
		}
	})
	b.Run("unbatched", func(b *testing.B) {
		for b.Loop() {
			d, _ := Decode(e, bal.Bytes())
			if d.Verify(e) != nil {
				b.Fatal()
			}
		}
	})
	b.Run("batched1", func(b *testing.B) {
		for b.Loop() {
			d, _ := Decode(e, bal.Bytes())
			bt := group.NewBatch()
			d.AddTo(bt, e)
			if !bt.Verify() {
				b.Fatal()
			}
		}
	})
}
