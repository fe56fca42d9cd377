package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/strictjson"
)

// FromBoard derives the files of §10.1 from a board's entries (SPEC.md
// §13.6): the manifest, the ceremony messages, election.json, the counted
// ballots (each credential's cast with the highest counter, in board
// order), the spoiled ballots, the tally, the decryption shares, the
// results and the mixes' rounds and shares (mixes/, §16.6: not mixed/,
// which is computed from them), each as the record holds it. Paths use '/'.
func FromBoard(entries []board.Entry) (map[string][]byte, error) {
	files := map[string][]byte{}
	var spoiled bytes.Buffer
	var parts board.Assembler
	rounds := map[string]int{} // mix messages so far, by question
	for i, e := range entries {
		fail := func(err error) error { return fmt.Errorf("board entry %d (%s): %w", i, e.Type, err) }
		msg, err := parts.Feed(int64(i), e)
		if err != nil {
			return nil, err
		}
		if msg != nil {
			name, err := mixFile(files[Manifest], msg, rounds)
			if err != nil {
				return nil, fail(err)
			}
			if _, dup := files[name]; dup {
				return nil, fail(fmt.Errorf("trustee %d's second decryption of question %q", msg.Trustee, msg.Question))
			}
			files[name] = msg.Data
		}
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
			// The last manifest supersedes a draft's earlier ones
			// (SPEC.md §13.6 rule L1, §15.2 Drafts); where one may
			// stand is a lifecycle rule the verifier checks.
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
	if parts.Pending() {
		return nil, fmt.Errorf("the board ends inside a mix message (SPEC.md §16.6)")
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

// mixFile names the record file of a whole mix or mix-decryption message
// (SPEC.md §16.6): mixes/Q/round-R-J.bin for the R-th mix message of
// question Q on the board, mixes/Q/decryption-J.bin for a share. Q must be
// a text or rank question of the board's manifest.
func mixFile(manifest []byte, msg *board.Message, rounds map[string]int) (string, error) {
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return "", fmt.Errorf("a mix message on a board without a valid manifest: %w", err)
	}
	ok := false
	for _, qi := range m.Mixed() {
		ok = ok || m.Questions[qi].ID == msg.Question
	}
	if !ok {
		return "", fmt.Errorf("%s message of trustee %d for %q, which is not a text or rank question of the manifest", msg.Type, msg.Trustee, msg.Question)
	}
	if msg.Type == board.TypeMixDecryption {
		return path.Join(MixesDir, msg.Question, fmt.Sprintf("decryption-%d.bin", msg.Trustee)), nil
	}
	rounds[msg.Question]++
	return path.Join(MixesDir, msg.Question, fmt.Sprintf("round-%d-%d.bin", rounds[msg.Question], msg.Trustee)), nil
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
