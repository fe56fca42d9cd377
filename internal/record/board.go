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
			var b board.ManifestBody
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
			var b board.CeremonyBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fail(err)
			}
			name := path.Join(CeremonyDir, fmt.Sprintf("%s-%d.json", e.Type, b.Trustee))
			if _, dup := files[name]; dup {
				return nil, fail(fmt.Errorf("trustee %d's second %s message", b.Trustee, e.Type))
			}
			files[name] = Indent(b.Message)
		case board.TypeRegistrarKey:
			var b board.RegistrarKeyBody
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
			var b board.DecryptionBody
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
