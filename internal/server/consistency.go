package server

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/server/httpx"
)

// treeSizeParam is a tree size in a query: decimal, no sign, no leading zeros.
var treeSizeParam = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})$`)

// getConsistency serves an RFC 9162 §2.1.4 consistency proof between two
// tree sizes of the election's board (SPEC.md §13.5): the booth checks a
// saved receipt's checkpoint against the final cosigned one with it. The
// proof is only as good as the two signed checkpoints it is checked
// against, so serving it adds no trust in the server.
func (s *Server) getConsistency(w http.ResponseWriter, r *http.Request) error {
	el, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	from, to, err := parseTreeSizes(r.URL.Query())
	if err != nil {
		return err
	}
	size, err := s.cfg.Store.TreeSize(r.Context(), el.id)
	if err != nil {
		return err
	}
	if to > size {
		return httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "to (%d) is larger than the board, which has %d entries", to, size)
	}
	out := api.ConsistencyProof{From: from, To: to, Proof: []string{}}
	if from != to {
		p, err := el.log.ConsistencyProof(r.Context(), from, to)
		if err != nil {
			return err
		}
		for _, h := range p {
			out.Proof = append(out.Proof, hex.EncodeToString(h[:]))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// parseTreeSizes reads the from and to of a consistency query: each given
// exactly once, decimal without sign or leading zeros, from ≤ to.
func parseTreeSizes(q url.Values) (from, to int64, err error) {
	fromText, toText := q.Get("from"), q.Get("to")
	if len(q["from"]) != 1 || len(q["to"]) != 1 || !treeSizeParam.MatchString(fromText) || !treeSizeParam.MatchString(toText) {
		return 0, 0, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "from and to are tree sizes, whole numbers written in decimal without a sign or leading zeros, each given once")
	}
	from, _ = strconv.ParseInt(fromText, 10, 64)
	to, _ = strconv.ParseInt(toText, 10, 64)
	if from > to {
		return 0, 0, httpx.Errorf(http.StatusBadRequest, api.CodeMalformed, "from (%d) is larger than to (%d): a board only grows", from, to)
	}
	return from, to, nil
}
