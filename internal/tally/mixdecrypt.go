package tally

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/zkp"
)

// The decryption of a mixed list (SPEC.md §16.5): every trustee of a
// qualified set posts, for every component of every vector of the final
// mix, D = x·A with a DLEQ proof, in one binary share.

// ListHash returns h_L = H256("koe/v2/mix/list"; Bytes("context", ctx),
// Uint64("count", N), Uint64("width", w), Bytes("list", encoding)), the
// digest a decryption share of the list is bound to.
func ListHash(ctx []byte, l *shuffle.List) [32]byte {
	return group.NewDigest("koe/v2/mix/list").Bytes("context", ctx).
		Uint64("count", uint64(l.Len())).Uint64("width", uint64(l.Width())).
		Bytes("list", l.Bytes()).Digest32()
}

// listDecryptionContext is the DLEQ context of component index (0-based,
// i·w + k) of the list: H256("koe/v2/mix/decryption"; Bytes("list", h_L),
// Uint64("trustee", j), Uint64("index", index+1)).
func listDecryptionContext(h [32]byte, trustee, index int) []byte {
	d := group.NewDigest("koe/v2/mix/decryption").Bytes("list", h[:]).
		Uint64("trustee", uint64(trustee)).Uint64("index", uint64(index+1)).Digest32()
	return d[:]
}

// ListShareSize is the length of a list decryption share of n·w components:
// u32be(trustee) ‖ h_L ‖ (D ‖ DLEQ proof) per component.
func ListShareSize(components int) int { return 4 + 32 + components*(group.ElementSize+zkp.DLEQSize) }

func components(l *shuffle.List) []elgamal.Ciphertext {
	var out []elgamal.Ciphertext
	for _, v := range l.Vectors() {
		out = append(out, v...)
	}
	return out
}

// forChunks runs f on [0, n) in one chunk per core and returns the first error.
func forChunks(n int, f func(lo, hi int) error) error {
	p := max(1, min(runtime.GOMAXPROCS(0), n))
	errs := make([]error, p)
	var wg sync.WaitGroup
	for c := range p {
		wg.Add(1)
		go func() { defer wg.Done(); errs[c] = f(c*n/p, (c+1)*n/p) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// DecryptList returns trustee's decryption share of the list for the
// election context ctx, with its key share x.
func DecryptList(rand io.Reader, ctx []byte, l *shuffle.List, trustee int, x *group.Scalar) ([]byte, error) {
	if trustee < 1 || trustee > ceremony.MaxTrustees {
		return nil, fmt.Errorf("trustee index %d out of range", trustee)
	}
	h := ListHash(ctx, l)
	Y := group.BaseMul(x)
	cts := components(l)
	const per = group.ElementSize + zkp.DLEQSize
	out := make([]byte, ListShareSize(len(cts)))
	binary.BigEndian.PutUint32(out, uint32(trustee))
	copy(out[4:], h[:])
	// The proofs' nonces are read from rand in component order, 64 bytes each,
	// before the work is split across cores.
	nonces := make([]byte, 64*len(cts))
	if _, err := io.ReadFull(rand, nonces); err != nil {
		return nil, fmt.Errorf("reading randomness: %w", err)
	}
	err := forChunks(len(cts), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			D := elgamal.PartialDecrypt(x, cts[i])
			p, err := zkp.ProveDLEQ(bytes.NewReader(nonces[64*i:64*(i+1)]), listDecryptionContext(h, trustee, i), x, Y, cts[i].A, D)
			if err != nil {
				return err
			}
			off := 36 + i*per
			D.Encode(out[off:off])
			copy(out[off+group.ElementSize:off+per], p.Bytes())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckListShare verifies a list decryption share against the trustee's
// verification key Y (batched, on all cores) and returns its trustee index
// and partial decryptions, one per component in list order.
func CheckListShare(ctx []byte, l *shuffle.List, share []byte, Y *group.Element) (int, []*group.Element, error) {
	cts := components(l)
	if len(share) != ListShareSize(len(cts)) {
		return 0, nil, fmt.Errorf("%w: %d bytes, want %d for %d ciphertexts", ErrShare, len(share), ListShareSize(len(cts)), len(cts))
	}
	trustee := int(binary.BigEndian.Uint32(share))
	if trustee < 1 || trustee > ceremony.MaxTrustees {
		return 0, nil, fmt.Errorf("%w: trustee index %d out of range", ErrShare, trustee)
	}
	h := ListHash(ctx, l)
	if !bytes.Equal(share[4:36], h[:]) {
		return 0, nil, fmt.Errorf("%w: trustee %d decrypted another list", ErrShare, trustee)
	}
	const per = group.ElementSize + zkp.DLEQSize
	Ds := make([]*group.Element, len(cts))
	err := forChunks(len(cts), func(lo, hi int) error {
		batch := group.NewBatch()
		proofs := make([]*zkp.DLEQ, hi-lo)
		for i := lo; i < hi; i++ {
			off := 36 + i*per
			D, err := group.DecodeElement(share[off : off+group.ElementSize])
			if err != nil {
				return fmt.Errorf("%w: trustee %d component %d: %v", ErrShare, trustee, i+1, err)
			}
			p, err := zkp.DecodeDLEQ(share[off+group.ElementSize : off+per])
			if err != nil {
				return fmt.Errorf("%w: trustee %d component %d: %v", ErrShare, trustee, i+1, err)
			}
			Ds[i], proofs[i-lo] = D, p
			p.AddTo(batch, listDecryptionContext(h, trustee, i), Y, cts[i].A, D)
		}
		if batch.Verify() {
			return nil
		}
		for i := lo; i < hi; i++ {
			if err := proofs[i-lo].Verify(listDecryptionContext(h, trustee, i), Y, cts[i].A, Ds[i]); err != nil {
				return fmt.Errorf("%w: trustee %d component %d: %v", ErrShare, trustee, i+1, err)
			}
		}
		return fmt.Errorf("%w: trustee %d: batch verification failed", ErrShare, trustee)
	})
	if err != nil {
		return 0, nil, err
	}
	return trustee, Ds, nil
}

// lagrange returns the sorted trustee indices of partials and their
// Lagrange coefficients at 0, after checking there are at least threshold.
func lagrange[T any](partials map[int]T, threshold int) ([]int, []*group.Scalar, error) {
	if len(partials) < threshold {
		return nil, nil, fmt.Errorf("%d trustees decrypted, the threshold is %d", len(partials), threshold)
	}
	indices := make([]int, 0, len(partials))
	for j := range partials {
		indices = append(indices, j)
	}
	slices.Sort(indices)
	lambdas := make([]*group.Scalar, len(indices))
	for n, j := range indices {
		lambdas[n] = ceremony.Lagrange(indices, j)
	}
	return indices, lambdas, nil
}

// unblind returns M = B − Σ λⱼ·Dⱼ, the plaintext element of c.
func unblind(c elgamal.Ciphertext, lambdas []*group.Scalar, Ds []*group.Element) *group.Element {
	return group.NewElement().Subtract(c.B, group.VarTimeMSM(lambdas, Ds))
}

// CombineList combines the checked partial decryptions of at least
// threshold trustees and returns the plaintext elements of every vector of
// the list, in list order.
func CombineList(l *shuffle.List, partials map[int][]*group.Element, threshold int) ([][]*group.Element, error) {
	indices, lambdas, err := lagrange(partials, threshold)
	if err != nil {
		return nil, err
	}
	cts := components(l)
	for _, j := range indices {
		if len(partials[j]) != len(cts) {
			return nil, fmt.Errorf("trustee %d: %d partial decryptions, the list has %d ciphertexts", j, len(partials[j]), len(cts))
		}
	}
	ms := make([]*group.Element, len(cts))
	_ = forChunks(len(cts), func(lo, hi int) error {
		Ds := make([]*group.Element, len(indices))
		for i := lo; i < hi; i++ {
			for n, j := range indices {
				Ds[n] = partials[j][i]
			}
			ms[i] = unblind(cts[i], lambdas, Ds)
		}
		return nil
	})
	w := l.Width()
	out := make([][]*group.Element, l.Len())
	for i := range out {
		out[i] = ms[i*w : (i+1)*w : (i+1)*w]
	}
	return out, nil
}
