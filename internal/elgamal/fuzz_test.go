package elgamal

import (
	"bytes"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func FuzzDecode(f *testing.F) {
	f.Add(Encrypt(group.Generator(), 1, group.ScalarFromUint64(2)).Bytes())
	f.Add(make([]byte, CiphertextSize))
	f.Add(bytes.Repeat([]byte{0xff}, CiphertextSize))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			if c.A != nil || c.B != nil {
				t.Fatal("partial ciphertext returned with an error")
			}
			return
		}
		if !bytes.Equal(c.Bytes(), b) {
			t.Fatalf("decodes %x but re-encodes to %x", b, c.Bytes())
		}
	})
}

func FuzzDlogTable(f *testing.F) {
	f.Add(uint16(0), uint16(0))
	f.Add(uint16(100), uint16(100))
	f.Add(uint16(100), uint16(101))
	f.Add(uint16(1), uint16(3))
	f.Fuzz(func(t *testing.T, max, m uint16) {
		table := NewDlogTable(uint64(max))
		got, err := table.Log(group.SmallBaseMul(uint64(m)))
		if m <= max {
			if err != nil || got != uint64(m) {
				t.Fatalf("max %d: Log(%d·G) = %d, %v", max, m, got, err)
			}
		} else if err == nil {
			t.Fatalf("max %d: Log(%d·G) = %d", max, m, got)
		}
	})
}
