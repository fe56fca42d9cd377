package elgamal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func randScalar(t testing.TB) *group.Scalar {
	t.Helper()
	s, err := group.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decrypt decrypts with the whole secret key x and a table.
func decrypt(t *testing.T, x *group.Scalar, c Ciphertext, table *DlogTable) (uint64, error) {
	t.Helper()
	M := group.NewElement().Subtract(c.B, PartialDecrypt(x, c))
	return table.Log(M)
}

func TestEncryptDecrypt(t *testing.T) {
	x := randScalar(t)
	K := group.BaseMul(x)
	table := NewDlogTable(1000)
	for _, m := range []uint64{0, 1, 2, 7, 999, 1000} {
		t.Run(fmt.Sprint(m), func(t *testing.T) {
			c, r, err := EncryptRandom(rand.Reader, K, m)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Equal(Encrypt(K, m, r)) {
				t.Fatal("EncryptRandom and Encrypt with its nonce differ")
			}
			got, err := decrypt(t, x, c, table)
			if err != nil || got != m {
				t.Fatalf("decrypts to %d, %v; want %d", got, err, m)
			}
			if !c.Opens(K, m, r) {
				t.Fatal("does not open with its own nonce and value")
			}
			if c.Opens(K, m+1, r) {
				t.Fatal("opens to another value")
			}
			if c.Opens(K, m, group.NewScalar().Add(r, group.ScalarFromUint64(1))) {
				t.Fatal("opens with another nonce")
			}
			if c.Opens(group.BaseMul(randScalar(t)), m, r) {
				t.Fatal("opens under another key")
			}
			d, err := Decode(c.Bytes())
			if err != nil || !d.Equal(c) {
				t.Fatalf("Decode(Bytes()) = %v, %v", d, err)
			}
		})
	}
	t.Run("above the table", func(t *testing.T) {
		c, _, _ := EncryptRandom(rand.Reader, K, 1001)
		if _, err := decrypt(t, x, c, table); !errors.Is(err, ErrNoLog) {
			t.Fatalf("got %v, want ErrNoLog", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		c, _, _ := EncryptRandom(rand.Reader, K, 5)
		if m, err := decrypt(t, randScalar(t), c, table); err == nil {
			t.Fatalf("decrypts with the wrong key to %d", m)
		}
	})
	t.Run("short randomness", func(t *testing.T) {
		if _, _, err := EncryptRandom(bytes.NewReader(make([]byte, 10)), K, 1); err == nil {
			t.Fatal("EncryptRandom succeeded without enough randomness")
		}
	})
}

func TestHomomorphic(t *testing.T) {
	x := randScalar(t)
	K := group.BaseMul(x)
	table := NewDlogTable(100)
	values := []uint64{3, 0, 1, 10, 25}
	sum := Zero()
	var want uint64
	rSum := group.NewScalar()
	var cs []Ciphertext
	for _, m := range values {
		c, r, err := EncryptRandom(rand.Reader, K, m)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		sum.Accumulate(c)
		want += m
		rSum.Add(rSum, r)
	}
	t.Run("Accumulate", func(t *testing.T) {
		if got, err := decrypt(t, x, sum, table); err != nil || got != want {
			t.Fatalf("sum decrypts to %d, %v; want %d", got, err, want)
		}
		if !sum.Opens(K, want, rSum) {
			t.Fatal("sum does not open with the sum of the nonces")
		}
	})
	t.Run("Add", func(t *testing.T) {
		var c Ciphertext
		c.Add(cs[0], cs[1])
		for _, x := range cs[2:] {
			c.Add(c, x) // aliasing
		}
		if !c.Equal(sum) {
			t.Fatal("Add and Accumulate disagree")
		}
	})
	t.Run("Add does not modify its inputs", func(t *testing.T) {
		a, b := cs[0].Clone(), cs[1].Clone()
		var c Ciphertext
		c.Add(a, b)
		if !a.Equal(cs[0]) || !b.Equal(cs[1]) {
			t.Fatal("inputs changed")
		}
	})
	t.Run("Zero", func(t *testing.T) {
		z := Zero()
		if got, err := decrypt(t, x, z, table); err != nil || got != 0 {
			t.Fatalf("Zero decrypts to %d, %v", got, err)
		}
		if !z.Opens(K, 0, group.NewScalar()) {
			t.Fatal("Zero does not open to 0 with nonce 0")
		}
		var c Ciphertext
		c.Add(z, cs[3])
		if !c.Equal(cs[3]) {
			t.Fatal("Zero is not the identity of Add")
		}
	})
	t.Run("Clone is independent", func(t *testing.T) {
		c := cs[0].Clone()
		c.Accumulate(cs[1])
		if c.Equal(cs[0]) {
			t.Fatal("Accumulate into a clone did nothing")
		}
		var again Ciphertext
		again.Add(cs[0], cs[1])
		if !again.Equal(c) {
			t.Fatal("the original changed")
		}
	})
}

func TestDecode(t *testing.T) {
	c := Encrypt(group.Generator(), 3, group.ScalarFromUint64(5))
	enc := c.Bytes()
	if len(enc) != CiphertextSize {
		t.Fatalf("length %d, want %d", len(enc), CiphertextSize)
	}
	if !bytes.Equal(c.AppendBytes([]byte{9}), append([]byte{9}, enc...)) {
		t.Fatal("AppendBytes does not append")
	}
	neg := append([]byte{1}, make([]byte, 31)...) // "negative" field element
	ff := bytes.Repeat([]byte{0xff}, 32)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"one element", enc[:32]},
		{"short", enc[:63]},
		{"long", append(bytes.Clone(enc), 0)},
		{"A negative", append(bytes.Clone(neg), enc[32:]...)},
		{"B negative", append(bytes.Clone(enc[:32]), neg...)},
		{"A all ones", append(bytes.Clone(ff), enc[32:]...)},
		{"B all ones", append(bytes.Clone(enc[:32]), ff...)},
		{"B high bit", func() []byte { b := bytes.Clone(enc); b[63] |= 0x80; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d, err := Decode(tc.b); err == nil {
				t.Fatalf("decoded %x to %v", tc.b, d)
			}
		})
	}
	t.Run("identity is allowed", func(t *testing.T) {
		d, err := Decode(make([]byte, 64))
		if err != nil || !d.Equal(Zero()) {
			t.Fatalf("got %v, %v", d, err)
		}
	})
}

func TestDlogTable(t *testing.T) {
	for _, max := range []uint64{0, 1, 2, 3, 4, 99, 100, 101, 10000} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			table := NewDlogTable(max)
			if table.Max() != max {
				t.Fatalf("Max() = %d", table.Max())
			}
			// Every value: walk m·G incrementally.
			P := group.NewElement()
			G := group.Generator()
			for m := uint64(0); m <= max; m++ {
				got, err := table.Log(P)
				if err != nil || got != m {
					t.Fatalf("Log(%d·G) = %d, %v", m, got, err)
				}
				P.Add(P, G)
			}
			for _, m := range []uint64{max + 1, max + 2, 2*max + 7, max*max + 5} {
				if m <= max {
					continue
				}
				if got, err := table.Log(group.SmallBaseMul(m)); !errors.Is(err, ErrNoLog) {
					t.Fatalf("Log(%d·G) = %d, %v; want ErrNoLog", m, got, err)
				}
			}
			if got, err := table.Log(group.NewElement().Negate(G)); !errors.Is(err, ErrNoLog) {
				t.Fatalf("Log(−G) = %d, %v; want ErrNoLog", got, err)
			}
			if got, err := table.Log(group.BaseMul(randScalar(t))); !errors.Is(err, ErrNoLog) {
				t.Fatalf("Log(random) = %d, %v; want ErrNoLog", got, err)
			}
		})
	}
	t.Run("does not modify its input", func(t *testing.T) {
		table := NewDlogTable(50)
		M := group.SmallBaseMul(40)
		want := M.Bytes()
		table.Log(M)
		if !bytes.Equal(M.Bytes(), want) {
			t.Fatal("Log changed its argument")
		}
	})
}

func TestPartialDecryptShares(t *testing.T) {
	// With x = x1 + x2, the two partial decryptions add up.
	x1, x2 := randScalar(t), randScalar(t)
	x := group.NewScalar().Add(x1, x2)
	K := group.BaseMul(x)
	c, _, _ := EncryptRandom(rand.Reader, K, 42)
	D := group.NewElement().Add(PartialDecrypt(x1, c), PartialDecrypt(x2, c))
	M := group.NewElement().Subtract(c.B, D)
	if m, err := NewDlogTable(64).Log(M); err != nil || m != 42 {
		t.Fatalf("got %d, %v", m, err)
	}
}
