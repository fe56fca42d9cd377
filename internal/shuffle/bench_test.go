package shuffle

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

func benchList(b *testing.B, n, w int) (*group.Element, []Vector) {
	b.Helper()
	K := group.BaseMul(group.ScalarFromUint64(12345))
	in := make([]Vector, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ms := make([]*group.Element, w)
			for k := range ms {
				ms[k] = group.SmallBaseMul(uint64(i*w + k))
			}
			v, err := Encrypt(rand.Reader, K, ms)
			if err != nil {
				panic(err)
			}
			in[i] = v
		}
	})
	return K, in
}

var benchSizes = []struct{ n, w int }{{1000, 1}, {1000, 4}, {1000, 27}, {10000, 1}, {10000, 4}}

// BenchmarkShuffle measures re-encryption, permutation and proof.
func BenchmarkShuffle(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("N=%d/w=%d", s.n, s.w), func(b *testing.B) {
			K, in := benchList(b, s.n, s.w)
			b.ResetTimer()
			for range b.N {
				if _, _, err := Shuffle(rand.Reader, testCtx, K, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.n*s.w*b.N)/b.Elapsed().Seconds(), "ciphertexts/s")
		})
	}
}

// BenchmarkVerify measures verification of one shuffle.
func BenchmarkVerify(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("N=%d/w=%d", s.n, s.w), func(b *testing.B) {
			K, in := benchList(b, s.n, s.w)
			out, p, err := Shuffle(rand.Reader, testCtx, K, in)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := Verify(testCtx, K, in, out, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.n*s.w*b.N)/b.Elapsed().Seconds(), "ciphertexts/s")
		})
	}
}
