package ballot

import (
	"fmt"

	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/textenc"
	"github.com/koe-vote/koe/internal/zkp"
)

// QuestionStyle is the shape of one question's encrypted answer
// (SPEC.md §8.1): how many selections, the range of each, and the allowed
// range of their total.
type QuestionStyle struct {
	// Selections is the number of ciphertexts of the question: its
	// selections, or for a mixed question its components.
	Selections int
	Max        uint64 // each selection encrypts a value in 0..Max (rank: a position, 0..k)
	// Mixed marks a text or rank question: its components carry a Schnorr
	// proof of knowledge of their nonce each, no range proof, and are
	// mixed rather than tallied (SPEC.md §8.1).
	Mixed    bool
	HasTotal bool // whether the ballot proves the total in TotalLo..TotalHi
	TotalLo  uint64
	TotalHi  uint64
}

// Style is the shape of every ballot of one manifest.
type Style struct {
	Questions []QuestionStyle
	size      int
	total     int
}

// StyleOf derives the ballot style of a validated manifest.
func StyleOf(m *Manifest) *Style {
	s := &Style{size: HeaderSize}
	for i := range m.Questions {
		q := &m.Questions[i]
		var qs QuestionStyle
		switch q.Kind {
		case KindSingle:
			qs = QuestionStyle{Selections: len(q.Options), Max: 1, HasTotal: true, TotalLo: 1, TotalHi: 1}
			if q.Optional {
				qs.TotalLo = 0
			}
		case KindMultiple:
			qs = QuestionStyle{Selections: len(q.Options), Max: 1, HasTotal: true, TotalLo: uint64(q.Min), TotalHi: uint64(q.Max)}
		case KindRating:
			// One-hot: one 0/1 selection per value of the scale, exactly
			// one chosen, so the tally counts each value (SPEC.md §8.1).
			qs = QuestionStyle{Selections: q.Max - q.Min + 1, Max: 1, HasTotal: true, TotalLo: 1, TotalHi: 1}
		case KindText:
			qs = QuestionStyle{Selections: textenc.WidthOf(q.MaxLength), Mixed: true}
		case KindRank:
			qs = QuestionStyle{Selections: len(q.Options), Max: uint64(q.RankMax()), Mixed: true}
		default:
			panic("ballot: StyleOf on an unvalidated manifest")
		}
		s.Questions = append(s.Questions, qs)
		if qs.Mixed {
			s.size += qs.Selections * (elgamal.CiphertextSize + zkp.SchnorrSize)
			continue
		}
		s.size += qs.Selections * (elgamal.CiphertextSize + zkp.RangeSize(0, qs.Max))
		if qs.HasTotal {
			s.size += zkp.RangeSize(qs.TotalLo, qs.TotalHi)
		}
		s.total += qs.Selections
	}
	return s
}

// Size returns the length in bytes of every encoded ballot of this style.
func (s *Style) Size() int { return s.size }

// Selections returns the number of tallied selections (ciphertexts) in a
// ballot: the components of text and rank questions are not counted.
func (s *Style) Selections() int { return s.total }

// Election is everything a ballot is bound to: the manifest, its hash, the
// joint election key, the registrar's key id and the election context
// derived from them.
type Election struct {
	Manifest      *Manifest
	ManifestBytes []byte
	ManifestHash  [32]byte
	Key           *group.Element // the joint election public key K
	Registrar     [32]byte       // the id of the registrar's key (SPEC.md §14.1), or NoRegistrar
	Context       [32]byte
	Style         *Style
	keyBytes      []byte // the encoding of Key
}

// NoRegistrar is the registrar key id of an election without a registrar
// (an offline election such as koe demo's, whose ballots carry no
// credential): 32 zero bytes (SPEC.md §7.4).
var NoRegistrar [32]byte

// NewElection parses the manifest and binds it to the joint key and the
// registrar's key id (SPEC.md §7.4):
//
//	ctx = H256("koe/v2/election"; Bytes("manifest", h_M), Element("key", K), Bytes("registrar", id_R))
//
// Every proof and signature of the election is bound to ctx, so a
// registrar key swapped after the fact invalidates all of them.
func NewElection(manifestBytes []byte, key *group.Element, registrar [32]byte) (*Election, error) {
	m, err := ParseManifest(manifestBytes)
	if err != nil {
		return nil, err
	}
	if key == nil || group.IsIdentity(key) {
		return nil, fmt.Errorf("election key: %w", group.ErrIdentity)
	}
	h := Hash(manifestBytes)
	ctx := group.NewDigest("koe/v2/election").Bytes("manifest", h[:]).Element("key", key).Bytes("registrar", registrar[:]).Digest32()
	return &Election{
		Manifest: m, ManifestBytes: manifestBytes, ManifestHash: h,
		Key: key, Registrar: registrar, Context: ctx, Style: StyleOf(m), keyBytes: key.Bytes(),
	}, nil
}
