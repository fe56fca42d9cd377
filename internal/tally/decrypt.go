package tally

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/strictjson"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// ErrShare is wrapped by every error about a decryption share.
var ErrShare = errors.New("invalid decryption share")

// Partial is one trustee's partial decryption of one tally ciphertext.
type Partial struct {
	D     string `json:"d"`     // hex of D = x·A
	Proof string `json:"proof"` // hex of the DLEQ proof U ‖ V ‖ s
}

// Share is one trustee's partial decryption of the whole tally (SPEC.md §9.2).
type Share struct {
	Trustee  int       `json:"trustee"`
	Tally    string    `json:"tally"` // hex of the tally hash the share is for
	Partials []Partial `json:"partials"`
}

// decryptionContext is the DLEQ proof context of a partial decryption.
func decryptionContext(tallyHash [32]byte, trustee, selection int) []byte {
	d := group.NewDigest("koe/v2/decryption").Bytes("tally", tallyHash[:]).
		Uint64("trustee", uint64(trustee)).Uint64("selection", uint64(selection)).Digest32()
	return d[:]
}

// ErrWithheld is wrapped by the error for a tally of fewer ballots than the
// manifest's privacy threshold: no trustee decrypts it (SPEC.md §9.2).
var ErrWithheld = errors.New("fewer counted ballots than the privacy threshold: the results are withheld")

// CheckPrivacy reports whether a tally of ballots counted ballots may be
// decrypted under the manifest's privacy threshold (SPEC.md §9.2).
func CheckPrivacy(m *ballot.Manifest, ballots int) error {
	if min := m.PrivacyThreshold(); ballots < min {
		return fmt.Errorf("%w: the tally counts %d ballots, the manifest's privacyThreshold is %d", ErrWithheld, ballots, min)
	}
	return nil
}

// Decrypt computes trustee's partial decryption of the tally with its key
// share x, whose public verification key is Y = x·G. It refuses a tally of
// fewer ballots than the privacy threshold (CheckPrivacy).
func Decrypt(rand io.Reader, e *ballot.Election, acc *Accumulator, trustee int, x *group.Scalar) (*Share, error) {
	if err := CheckPrivacy(e.Manifest, acc.Ballots); err != nil {
		return nil, err
	}
	Y := group.BaseMul(x)
	h := acc.Hash(e.Context)
	s := &Share{Trustee: trustee, Tally: hex.EncodeToString(h[:])}
	for k, c := range acc.Sums {
		D := elgamal.PartialDecrypt(x, c)
		proof, err := zkp.ProveDLEQ(rand, decryptionContext(h, trustee, k), x, Y, c.A, D)
		if err != nil {
			return nil, err
		}
		s.Partials = append(s.Partials, Partial{D: hex.EncodeToString(D.Bytes()), Proof: hex.EncodeToString(proof.Bytes())})
	}
	return s, nil
}

// ParseShare decodes a share's JSON strictly.
func ParseShare(data []byte) (*Share, error) {
	var s Share
	if err := strictjson.Decode(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrShare, err)
	}
	return &s, nil
}

func decodeHex(what string, s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n || hex.EncodeToString(b) != s {
		return nil, fmt.Errorf("%s is not %d bytes of lowercase hex", what, n)
	}
	return b, nil
}

// Check verifies every DLEQ proof of a share against the trustee's
// verification key Y and returns the decoded partial decryptions.
func Check(e *ballot.Election, acc *Accumulator, s *Share, Y *group.Element) ([]*group.Element, error) {
	h := acc.Hash(e.Context)
	if s.Tally != hex.EncodeToString(h[:]) {
		return nil, fmt.Errorf("%w: trustee %d decrypted another tally (%.16s…)", ErrShare, s.Trustee, s.Tally)
	}
	if len(s.Partials) != len(acc.Sums) {
		return nil, fmt.Errorf("%w: trustee %d: %d partial decryptions, the tally has %d ciphertexts", ErrShare, s.Trustee, len(s.Partials), len(acc.Sums))
	}
	Ds := make([]*group.Element, len(s.Partials))
	batch := group.NewBatch()
	proofs := make([]*zkp.DLEQ, len(s.Partials))
	for k, p := range s.Partials {
		raw, err := decodeHex("d", p.D, group.ElementSize)
		if err != nil {
			return nil, fmt.Errorf("%w: trustee %d selection %d: %v", ErrShare, s.Trustee, k+1, err)
		}
		if Ds[k], err = group.DecodeElement(raw); err != nil {
			return nil, fmt.Errorf("%w: trustee %d selection %d: %v", ErrShare, s.Trustee, k+1, err)
		}
		raw, err = decodeHex("proof", p.Proof, zkp.DLEQSize)
		if err != nil {
			return nil, fmt.Errorf("%w: trustee %d selection %d: %v", ErrShare, s.Trustee, k+1, err)
		}
		if proofs[k], err = zkp.DecodeDLEQ(raw); err != nil {
			return nil, fmt.Errorf("%w: trustee %d selection %d: %v", ErrShare, s.Trustee, k+1, err)
		}
		proofs[k].AddTo(batch, decryptionContext(h, s.Trustee, k), Y, acc.Sums[k].A, Ds[k])
	}
	if !batch.Verify() {
		for k := range proofs {
			if err := proofs[k].Verify(decryptionContext(h, s.Trustee, k), Y, acc.Sums[k].A, Ds[k]); err != nil {
				return nil, fmt.Errorf("%w: trustee %d selection %d: %v", ErrShare, s.Trustee, k+1, err)
			}
		}
		return nil, fmt.Errorf("%w: trustee %d: batch verification failed", ErrShare, s.Trustee)
	}
	return Ds, nil
}

// Combine combines the checked partial decryptions of at least threshold
// trustees (a map from trustee index to its decoded partials) and returns
// the plaintext total of every selection, found with the table.
func Combine(acc *Accumulator, partials map[int][]*group.Element, threshold int, table *elgamal.DlogTable) ([]uint64, error) {
	indices, lambdas, err := lagrange(partials, threshold)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(acc.Sums))
	for k, c := range acc.Sums {
		points := make([]*group.Element, len(indices))
		for n, j := range indices {
			points[n] = partials[j][k]
		}
		M := unblind(c, lambdas, points) // m·G
		m, err := table.Log(M)
		if err != nil {
			return nil, fmt.Errorf("selection %d: %w", k+1, err)
		}
		out[k] = m
	}
	return out, nil
}
