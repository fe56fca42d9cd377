package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"

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
	// IssuedBody is a credential-issued entry's body.
	IssuedBody struct {
		Voter string `json:"voter"` // hex of the registrar's keyed hash of the voter id
	}
	// RollBody is a roll entry's body.
	RollBody struct {
		Added  int64 `json:"added"`
		Voters int64 `json:"voters"`
	}
)

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
