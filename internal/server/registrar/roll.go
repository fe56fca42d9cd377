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
		entries[i] = store.RollEntry{Voter: rg.hash("voter", id), Code: rg.hash("code", codes[i])}
		if commitments[i], err = credential.RollCommitment(rg.cfg.Election, id, codes[i]); err != nil {
			return nil, nil, err
		}
	}
	if err := rg.cfg.Roll.ImportRoll(ctx, rg.cfg.Election, entries); errors.Is(err, store.ErrExists) {
		return nil, nil, httpx.Errorf(http.StatusConflict, api.CodeDuplicate, "a voter in this list is on the roll already; nothing was imported")
	} else if err != nil {
		return nil, nil, err
	}
	return codes, commitments, nil
}
