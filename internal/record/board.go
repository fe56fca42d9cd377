package record

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Bodies of the board entries that carry record files (SPEC.md §13.2).
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

// RoundOf maps ceremony entry types to record rounds, and TypeOfRound back.
var (
	RoundOf = map[string]string{
		board.TypeAnnounce: Announce, board.TypeDeal: Deal,
		board.TypeVerdict: Verdict, board.TypeRespond: Respond,
	}
	TypeOfRound = map[string]string{
		Announce: board.TypeAnnounce, Deal: board.TypeDeal,
		Verdict: board.TypeVerdict, Respond: board.TypeRespond,
	}
)

// FromBoard derives the files of §10.1 from a board's entries (SPEC.md
// §13.6): the manifest, the ceremony messages, election.json, the counted
// ballots (each credential's cast with the highest counter, in board
// order), the spoiled ballots, the tally, the decryption shares and the
// results, each as the record holds it. Paths use '/'.
func FromBoard(entries []board.Entry) (map[string][]byte, error) {
	files := map[string][]byte{}
	var spoiled bytes.Buffer
	for i, e := range entries {
		fail := func(err error) error { return fmt.Errorf("board entry %d (%s): %w", i, e.Type, err) }
		switch e.Type {
		case board.TypeManifest:
			var b ManifestBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fail(err)
			}
			m, err := strictjson.Base64(b.Manifest)
			if err != nil {
				return nil, fail(err)
			}
			if _, dup := files[Manifest]; dup {
				return nil, fail(fmt.Errorf("a second manifest"))
			}
			files[Manifest] = m
		case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond:
			var b CeremonyBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fail(err)
			}
			name := path.Join(CeremonyDir, fmt.Sprintf("%s-%d.json", RoundOf[e.Type], b.Trustee))
			if _, dup := files[name]; dup {
				return nil, fail(fmt.Errorf("trustee %d's second %s message", b.Trustee, RoundOf[e.Type]))
			}
			files[name] = Indent(b.Message)
		case board.TypeRegistrarKey:
			var b RegistrarKeyBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fail(err)
			}
			// The first: a second one is a lifecycle failure the
			// verifier names (SPEC.md §13.6 step 4).
			if _, dup := files[Registrar]; !dup {
				files[Registrar] = []byte(b.Key + "\n")
			}
		case board.TypeElectionKey:
			files[Election] = Indent(e.Body)
		case board.TypeSpoiled:
			spoiled.Write(e.Body)
			spoiled.WriteByte('\n')
		case board.TypeTally:
			files[Tally] = Indent(e.Body)
		case board.TypeDecryption:
			var b DecryptionBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fail(err)
			}
			name := path.Join(DecryptDir, fmt.Sprintf("trustee-%d.json", b.Trustee))
			if _, dup := files[name]; dup {
				return nil, fail(fmt.Errorf("trustee %d's second decryption", b.Trustee))
			}
			files[name] = Indent(b.Share)
		case board.TypeResults:
			files[Results] = Indent(e.Body)
		}
	}
	counted, err := ballotbox.Counted(entries)
	if err != nil {
		return nil, err
	}
	var ballots []byte
	for _, env := range counted {
		ballots = append(ballots, env.Ballot...)
	}
	if len(ballots) > 0 {
		files[Ballots] = ballots
	}
	if spoiled.Len() > 0 {
		files[Spoiled] = spoiled.Bytes()
	}
	return files, nil
}

// Indent turns compact JSON from the board into the record's indented form.
func Indent(raw []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, raw, "", "  ") != nil {
		return raw
	}
	out.WriteByte('\n')
	return out.Bytes()
}
