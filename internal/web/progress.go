package web

// What the console's election page shows live (console.go): the turnout
// while the election is open and each trustee's progress through the key
// ceremony, the mix of the text and rank answers and the decryption, all
// read from the board. Only ballot-box data is counted: ballot entries by
// hour and the distinct credentials among them, never anything of the
// registrar's (SPEC.md §15.5).

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
)

// trusteeBoard is what the board says of the trustees' work after the
// tally: the mix rounds of each mixed question, in order, the list
// decryption shares of each, and the tally's decryption shares. A message
// posted in parts counts once its last part is on the board.
type trusteeBoard struct {
	Mixes     map[string][]int        // question id → the trustee of round r at index r−1
	MixShares map[string]map[int]bool // question id → trustees whose list share is posted
	Shares    map[int]bool            // trustees whose decryption entry is posted
}

func newTrusteeBoard() *trusteeBoard {
	return &trusteeBoard{Mixes: map[string][]int{}, MixShares: map[string]map[int]bool{}, Shares: map[int]bool{}}
}

func (b *trusteeBoard) clone() *trusteeBoard {
	c := &trusteeBoard{Mixes: make(map[string][]int, len(b.Mixes)), MixShares: make(map[string]map[int]bool, len(b.MixShares)), Shares: maps.Clone(b.Shares)}
	for q, ts := range b.Mixes {
		c.Mixes[q] = slices.Clone(ts)
	}
	for q, ts := range b.MixShares {
		c.MixShares[q] = maps.Clone(ts)
	}
	return c
}

// add notes a board entry of the trustees' work. The server checked every
// entry when it was posted; one that does not decode is ignored here (the
// verifier reports it).
func (b *trusteeBoard) add(e board.Entry) {
	switch e.Type {
	case board.TypeDecryption:
		var d board.DecryptionBody
		if json.Unmarshal(e.Body, &d) == nil {
			b.Shares[d.Trustee] = true
		}
	case board.TypeMix, board.TypeMixDecryption:
		p, _, err := board.DecodePart(e.Body)
		if err != nil || p.Part != p.Parts {
			return
		}
		if e.Type == board.TypeMix {
			b.Mixes[p.Question] = append(b.Mixes[p.Question], p.Trustee)
			return
		}
		if b.MixShares[p.Question] == nil {
			b.MixShares[p.Question] = map[int]bool{}
		}
		b.MixShares[p.Question][p.Trustee] = true
	}
}

// voterKey is the short key under which a ballot entry's credential is
// counted among the distinct voters: the first 8 bytes of its SHA-256
// (a collision among a city's voters is unlikely, about n²/2⁶⁵; it would
// undercount by one).
func voterKey(body []byte) (uint64, bool) {
	var env struct {
		Credential []byte `json:"credential"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Credential) == 0 {
		return 0, false
	}
	h := sha256.Sum256(env.Credential)
	return binary.BigEndian.Uint64(h[:8]), true
}

// progressCell is one status in the trustees' table: a catalogue key and its
// arguments, and whether it is a step done (for the style only: the words
// say it).
type progressCell struct {
	Key  string
	Args []any
	Done bool
}

// trusteeRow is one trustee's progress.
type trusteeRow struct {
	Index    int
	Name     string
	Rounds   []bool         // the ceremony's rounds, as ceremony.Rounds
	Ceremony progressCell   // the ceremony in one cell, once the election opened
	Mix      []progressCell // one per mixed question
	Share    progressCell   // the tally's decryption share
}

// mixedColumn is a mixed question's column.
type mixedColumn struct {
	ID    string
	Label ballot.Text
}

// progressView is the trustees' table.
type progressView struct {
	Rows  []trusteeRow
	Mixed []mixedColumn
	// After is set once the ceremony is over (the election opened): the
	// table shows the ceremony as one column, and the mix and decryption.
	After bool
	// Counts for the page's summary line.
	Shares, MixesDone int
}

// trusteesProgress derives each trustee's progress from the ceremony's
// rounds (c), the trustees' later work on the board (b) and the election's
// state: the ceremony's four rounds; for each text or rank question the mix
// round it posted (round r of t), or that the question's t rounds were
// done by others, and whether its list decryption share is posted; and
// whether its decryption share of the tally is posted. A trustee outside
// QUAL takes no part after the ceremony.
func trusteesProgress(m *ballot.Manifest, state string, c *ceremonyView, b *trusteeBoard) *progressView {
	v := &progressView{After: state != api.StateSetup}
	for _, q := range m.Questions {
		if ballot.Mixed(q.Kind) {
			v.Mixed = append(v.Mixed, mixedColumn{ID: q.ID, Label: q.Label})
		}
	}
	counted := state == api.StateTallied || state == api.StatePublished
	qual := map[int]bool{}
	for _, j := range c.Qual {
		qual[j] = true
	}
	for _, col := range v.Mixed {
		if len(b.Mixes[col.ID]) >= m.Threshold {
			v.MixesDone++
		}
	}
	for _, t := range c.Trustees {
		row := trusteeRow{Index: t.Index, Name: t.Name, Rounds: t.Done}
		done := 0
		for _, d := range t.Done {
			if d {
				done++
			}
		}
		switch {
		case len(c.Qual) > 0 && !qual[t.Index]:
			row.Ceremony = progressCell{Key: "console.progress.notqual"}
		case done == len(t.Done):
			row.Ceremony = progressCell{Key: "console.progress.ceremonydone", Done: true}
		default:
			row.Ceremony = progressCell{Key: "console.progress.rounds", Args: []any{done, len(t.Done)}}
		}
		out := len(c.Qual) > 0 && !qual[t.Index]
		for _, col := range v.Mixed {
			row.Mix = append(row.Mix, mixCell(b, col.ID, t.Index, m.Threshold, counted, out))
		}
		switch {
		case b.Shares[t.Index]:
			row.Share = progressCell{Key: "console.progress.shareposted", Done: true}
			v.Shares++
		case out:
			row.Share = progressCell{Key: "console.progress.notpart"}
		case !counted:
			row.Share = progressCell{Key: "console.progress.notyet"}
		case len(v.Mixed) > v.MixesDone:
			row.Share = progressCell{Key: "console.progress.aftermix"}
		default:
			row.Share = progressCell{Key: "console.progress.waiting"}
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// mixCell is trustee j's part in mixing question q (t rounds).
func mixCell(b *trusteeBoard, q string, j, t int, counted, out bool) progressCell {
	rounds := b.Mixes[q]
	r := slices.Index(rounds, j) + 1
	share := b.MixShares[q][j]
	switch {
	case r > 0 && share:
		return progressCell{Key: "console.progress.mixedshared", Args: []any{r, t}, Done: true}
	case r > 0 && len(rounds) >= t:
		return progressCell{Key: "console.progress.mixedwait", Args: []any{r, t}, Done: true}
	case r > 0:
		return progressCell{Key: "console.progress.mixed", Args: []any{r, t}, Done: true}
	case share:
		return progressCell{Key: "console.progress.listshare", Done: true}
	case out:
		return progressCell{Key: "console.progress.notpart"}
	case !counted:
		return progressCell{Key: "console.progress.notyet"}
	case len(rounds) >= t:
		return progressCell{Key: "console.progress.listwait"}
	default:
		return progressCell{Key: "console.progress.mixwait", Args: []any{len(rounds) + 1, t}}
	}
}

// Cell writes a status of the trustees' table.
func (v *view) Cell(c progressCell) string { return v.T(c.Key, c.Args...) }

type turnoutView struct {
	V *view
	C *turnoutChart
}

// Turnout is the argument of the "turnout" template.
func (v *view) Turnout(c *turnoutChart) turnoutView { return turnoutView{v, c} }
