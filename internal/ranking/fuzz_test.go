package ranking

import "testing"

// FuzzCount counts arbitrary position vectors of 4 options: no panics, and
// every ranking is counted as valid or invalid exactly once.
func FuzzCount(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 0, 1, 0, 0})
	f.Add([]byte{9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		var rs [][]int
		for i := 0; i+4 <= len(b); i += 4 {
			rs = append(rs, []int{int(int8(b[i])), int(int8(b[i+1])), int(int8(b[i+2])), int(int8(b[i+3]))})
		}
		r, err := Count(4, 1, 4, rs)
		if err != nil {
			t.Fatal(err)
		}
		if r.Valid+r.Invalid != len(rs) {
			t.Fatalf("%d valid + %d invalid of %d", r.Valid, r.Invalid, len(rs))
		}
	})
}
