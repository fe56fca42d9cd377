package registrar

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/server/httpx"
	"github.com/koe-vote/koe/internal/store"
)

// MaxRollBody bounds an imported roll.
const MaxRollBody = 16 << 20

var codeAlphabet = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// newCode returns a one-time code of 16 characters (80 bits) in groups of four.
func newCode() string {
	var b [10]byte
	rand.Read(b[:])
	c := codeAlphabet.EncodeToString(b[:])
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
}

// ParseRoll reads voter ids from a CSV roll (the first column; a
// "voter_id" header is skipped), normalised, each once: two lines whose ids
// fold to one (SPEC.md §15.3) are refused, since their voters could not
// tell their letters apart.
func ParseRoll(data []byte) ([]string, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	var ids []string
	seen := map[string]int{}
	for line := 1; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "voter roll: %v", err)
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "voter_id") {
			continue
		}
		id, err := credential.NormalizeVoter(rec[0])
		if err != nil {
			return nil, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "voter roll line %d: a voter id must have 1 to %d bytes of UTF-8", line, credential.MaxVoterID)
		}
		if first, dup := seen[id]; dup {
			return nil, httpx.Errorf(http.StatusBadRequest, api.CodeDuplicate, "voter roll line %d: %q is voter %q of line %d (ids are compared after folding full-width forms, ASCII case, spaces and dashes)", line, rec[0], id, first)
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "the voter roll is empty")
	}
	return ids, nil
}

// ImportRoll adds the voters to the roll (SPEC.md §15.3): it draws each
// a one-time code, stores the keyed hashes of the id and the code, and
// returns the codes (for the letters) and the roll commitments, which the
// board publishes. The caller checks that the election is in setup.
func (rg *Registrar) ImportRoll(ctx context.Context, ids []string) (codes []string, commitments [][32]byte, err error) {
	entries := make([]store.RollEntry, len(ids))
	codes = make([]string, len(ids))
	commitments = make([][32]byte, len(ids))
	for i, id := range ids {
		codes[i] = newCode()
		if commitments[i], err = credential.RollCommitment(rg.cfg.Election, id, codes[i]); err != nil {
			return nil, nil, err
		}
		entries[i] = store.RollEntry{Voter: rg.hash("voter", id), Code: rg.hash("code", codes[i]), Commitment: commitments[i]}
	}
	if err := rg.cfg.Roll.ImportRoll(ctx, rg.cfg.Election, entries); errors.Is(err, store.ErrExists) {
		return nil, nil, httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "a voter in this list is on the roll already; nothing was imported")
	} else if err != nil {
		return nil, nil, err
	}
	return codes, commitments, nil
}

// Reissue draws a new one-time code for each voter who lost their letter
// (SPEC.md §15.3 Re-issue) and was not issued a credential: the old code
// is revoked and a reissue entry, naming the revoked and the new roll
// commitment and no voter, goes on the board with it. The answer lists
// the new codes, shown only there. A single voter who registered is
// refused (409 already-registered), one not on the roll by code too (404);
// with several voters, or skipRegistered, they are listed instead, so that
// no refusal discards the codes already re-issued. Nothing identifies a
// voter in its log lines.
func (rg *Registrar) Reissue(ctx context.Context, ids []string, skipRegistered bool) (*api.ReissueResponse, error) {
	out := &api.ReissueResponse{Codes: []api.VoterCode{}, Registered: []string{}, Unknown: []string{}}
	for _, id := range ids {
		code := newCode()
		c, err := credential.RollCommitment(rg.cfg.Election, id, code)
		if err != nil {
			return nil, err
		}
		_, err = rg.cfg.Roll.ReissueCode(ctx, rg.cfg.Election, store.Reissue{
			Voter: rg.hash("voter", id), Code: rg.hash("code", code), Commitment: c,
			Entry: func(revoked [32]byte) ([]byte, error) {
				return rg.entry(board.TypeReissue, board.Reissue{Revoked: revoked, Roll: c}.Body())
			},
		})
		switch {
		case err == nil:
			out.Codes = append(out.Codes, api.VoterCode{Voter: id, Code: code})
		case errors.Is(err, store.ErrAlreadyIssued) && (skipRegistered || len(ids) > 1):
			out.Registered = append(out.Registered, id)
		case errors.Is(err, store.ErrAlreadyIssued):
			return nil, httpx.Errorf(http.StatusConflict, api.CodeAlreadyRegistered, "voter %q has registered: a credential was issued, so their code cannot be re-issued", id)
		case errors.Is(err, store.ErrNotFound) && (skipRegistered || len(ids) > 1):
			out.Unknown = append(out.Unknown, id)
		case errors.Is(err, store.ErrNotFound):
			return nil, httpx.Errorf(http.StatusNotFound, api.CodeNotFound, "voter %q is not on the roll by one-time code (a voter registered by digital ID, or on a roll imported before koe kept roll commitments, has no code to re-issue)", id)
		case errors.Is(err, store.ErrStateConflict):
			return nil, httpx.Errorf(http.StatusConflict, api.CodeWrongState, "codes can be re-issued only before the election closes")
		default:
			return nil, err
		}
	}
	if n := len(out.Codes); n > 0 {
		rg.cfg.Log.Info("one-time codes re-issued", "election", rg.cfg.Election, "count", n)
	}
	return out, nil
}
