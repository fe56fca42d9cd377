package board

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/strictjson"
)

// Bodies of the entries (SPEC.md §13.2) whose schema is not another
// package's: the ballot and spoiled entries hold a ballotbox.Envelope and a
// ballot.Spoiled, election-key election.json, tally and results the
// tally package's types.
type (
	// ManifestBody is a manifest entry's body: the manifest's exact bytes.
	ManifestBody struct {
		Manifest string `json:"manifest"` // base64
	}
	// RegistrarKeyBody is a registrar-key entry's body.
	RegistrarKeyBody struct {
		Key string `json:"key"` // the registrar's public key text
	}
	// CeremonyBody is the body of an announce, deal, verdict or respond entry.
	CeremonyBody struct {
		Trustee int             `json:"trustee"`
		Message json.RawMessage `json:"message"` // the message as the ceremony file holds it
	}
	// DecryptionBody is a decryption entry's body.
	DecryptionBody struct {
		Trustee int             `json:"trustee"`
		Share   json.RawMessage `json:"share"`
	}
	// IssuedBody is a credential-issued entry's body: exactly one of
	// Roll and DigitalID, 64 lowercase hex digits (SPEC.md §13.2).
	IssuedBody struct {
		Roll      string `json:"roll,omitempty"`      // hex(c): the voter's roll commitment (§15.3)
		DigitalID string `json:"digitalId,omitempty"` // hex(d): a digital-ID registration (§15.6)
	}
	// RollBody is a roll entry's body: 1 to MaxRollChunk roll
	// commitments, 64 lowercase hex digits each, in strictly ascending
	// order (SPEC.md §13.2).
	RollBody struct {
		Commitments []string `json:"commitments"`
	}
)

// MaxRollChunk is the most commitments one roll entry holds; a larger
// roll is published as several entries (512 commitments are 34 KB, well
// inside an entry's 60 KiB).
const MaxRollChunk = 512

// hex32 decodes 64 lowercase hex digits.
func hex32(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 64 || strings.ToLower(s) != s {
		return out, fmt.Errorf("%q is not 64 lowercase hex digits", s)
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return out, fmt.Errorf("%q is not 64 lowercase hex digits", s)
	}
	return out, nil
}

// DecodeRoll decodes a roll entry's body strictly and returns its
// commitments.
func DecodeRoll(body []byte) ([][32]byte, error) {
	var b RollBody
	if err := strictjson.Decode(body, &b); err != nil {
		return nil, fmt.Errorf("roll entry: %w", err)
	}
	if len(b.Commitments) == 0 || len(b.Commitments) > MaxRollChunk {
		return nil, fmt.Errorf("roll entry: %d commitments; want 1 to %d", len(b.Commitments), MaxRollChunk)
	}
	out := make([][32]byte, len(b.Commitments))
	for i, s := range b.Commitments {
		c, err := hex32(s)
		if err != nil {
			return nil, fmt.Errorf("roll entry: commitment %d: %w", i, err)
		}
		if i > 0 && bytes.Compare(out[i-1][:], c[:]) >= 0 {
			return nil, fmt.Errorf("roll entry: commitment %d is not greater than the one before (they are sorted and distinct)", i)
		}
		out[i] = c
	}
	return out, nil
}

// RollEntries splits a roll's commitments into the bodies of its roll
// entries: sorted ascending, MaxRollChunk to an entry.
func RollEntries(commitments [][32]byte) []RollBody {
	sorted := slices.Clone(commitments)
	slices.SortFunc(sorted, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	var out []RollBody
	for len(sorted) > 0 {
		n := min(len(sorted), MaxRollChunk)
		b := RollBody{Commitments: make([]string, n)}
		for i, c := range sorted[:n] {
			b.Commitments[i] = hex.EncodeToString(c[:])
		}
		out = append(out, b)
		sorted = sorted[n:]
	}
	return out
}

// Issuance is a decoded credential-issued entry.
type Issuance struct {
	DigitalID bool     // a digital-ID registration; else one by roll
	Value     [32]byte // c (roll) or d (digital ID)
}

// DecodeIssued decodes a credential-issued entry's body strictly.
func DecodeIssued(body []byte) (Issuance, error) {
	var b IssuedBody
	if err := strictjson.Decode(body, &b); err != nil {
		return Issuance{}, fmt.Errorf("credential-issued entry: %w", err)
	}
	if (b.Roll == "") == (b.DigitalID == "") {
		return Issuance{}, errors.New(`credential-issued entry: want exactly one of "roll" and "digitalId"`)
	}
	in := Issuance{DigitalID: b.DigitalID != ""}
	var err error
	if in.DigitalID {
		in.Value, err = hex32(b.DigitalID)
	} else {
		in.Value, err = hex32(b.Roll)
	}
	if err != nil {
		return Issuance{}, fmt.Errorf("credential-issued entry: %w", err)
	}
	return in, nil
}

// Body returns the entry body that records the issuance.
func (in Issuance) Body() IssuedBody {
	if in.DigitalID {
		return IssuedBody{DigitalID: hex.EncodeToString(in.Value[:])}
	}
	return IssuedBody{Roll: hex.EncodeToString(in.Value[:])}
}

// ReissueBody is a reissue entry's body (SPEC.md §13.2, §15.3): the roll
// commitment of the letter whose code was revoked and that of the new
// letter, 64 lowercase hex digits each.
type ReissueBody struct {
	Revoked string `json:"revoked"`
	Roll    string `json:"roll"`
}

// Reissue is a decoded reissue entry.
type Reissue struct {
	Revoked [32]byte // the old letter's roll commitment, which no longer registers
	Roll    [32]byte // the new letter's roll commitment
}

// DecodeReissue decodes a reissue entry's body strictly.
func DecodeReissue(body []byte) (Reissue, error) {
	var b ReissueBody
	if err := strictjson.Decode(body, &b); err != nil {
		return Reissue{}, fmt.Errorf("reissue entry: %w", err)
	}
	var re Reissue
	var err error
	if re.Revoked, err = hex32(b.Revoked); err != nil {
		return Reissue{}, fmt.Errorf("reissue entry: revoked: %w", err)
	}
	if re.Roll, err = hex32(b.Roll); err != nil {
		return Reissue{}, fmt.Errorf("reissue entry: roll: %w", err)
	}
	if re.Revoked == re.Roll {
		return Reissue{}, errors.New("reissue entry: the new commitment is the revoked one")
	}
	return re, nil
}

// Body returns the entry body that records the re-issue.
func (re Reissue) Body() ReissueBody {
	return ReissueBody{Revoked: hex.EncodeToString(re.Revoked[:]), Roll: hex.EncodeToString(re.Roll[:])}
}
