package web

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/tally"
)

// The results of text and rank questions (SPEC.md §16.6 mixed/Q.json) as
// the results page shows them: a text question's comments in the mixed
// order, searchable and paged; a rank question's Borda scores, pairwise
// matrix and Schulze winners.

// commentsPerPage is the most comments a text question shows on one page.
const commentsPerPage = 50

// maxQuery bounds the search text, in bytes.
const maxQuery = 200

// textView is a text question's comments on the results page.
type textView struct {
	Total    int // non-empty comments
	Empty    int
	Invalid  int
	Query    string // the search, as typed
	Matches  int    // comments that match it (Total without a search)
	Comments []commentView
	Page     int
	Pages    int
	Prev     string // links to the neighbouring pages ("" at the ends)
	Next     string
	Action   string // the search form's action
	Param    string // the page parameter of this question
}

// commentView is one comment: its position in the mixed order (1-based)
// and its text.
type commentView struct {
	N    int
	Text string
}

// rankView is a rank question's count.
type rankView struct {
	Options  []string // option labels in manifest order
	Borda    []barRow // Borda scores as bars, of the highest possible score
	Height   int
	MaxScore int // valid × (n − 1)
	Pairwise []pairRow
	Winners  []string // labels
	// WinnerList is the winners' labels joined for a sentence.
	WinnerList string
	Valid      int
	Invalid    int
}

// pairRow is the pairwise matrix's row of one option.
type pairRow struct {
	Label string
	Cells []pairCell
}

// pairCell is pairwise[a][b]: the rankings that put a above b.
type pairCell struct {
	Count  int
	Self   bool // a = b: no count
	Hidden bool // below the small-count threshold
	Beats  bool // more rankings put a above b than b above a
}

// searchKey folds s for the comment search: NFKC (full-width letters and
// digits to half-width, half-width katakana to full-width), then Unicode
// case folding.
func searchKey(s string) string {
	return cases.Fold().String(norm.NFKC.String(s))
}

// searchComments returns the comments that contain q (after searchKey), in
// their order, with their 1-based positions; all of them for an empty q.
func searchComments(comments []string, q string) []commentView {
	key := searchKey(strings.TrimSpace(q))
	var out []commentView
	for i, c := range comments {
		if key == "" || strings.Contains(searchKey(c), key) {
			out = append(out, commentView{N: i + 1, Text: c})
		}
	}
	return out
}

// pageParam is the query parameter of question qid's page of comments.
func pageParam(qid string) string { return "page-" + qid }

// newTextView lays out a text question's comments for the request's query
// (the search q, shared by every text question, and the question's page).
func newTextView(mr *tally.MixedResult, query url.Values, path, anchor string) *textView {
	q := query.Get("q")
	if len(q) > maxQuery {
		q = q[:maxQuery]
		for !utf8.ValidString(q) {
			q = q[:len(q)-1]
		}
	}
	v := &textView{Total: len(mr.Comments), Empty: mr.Empty, Invalid: mr.Invalid, Query: q,
		Param: pageParam(mr.Question), Action: path + "#" + anchor}
	found := searchComments(mr.Comments, q)
	v.Matches = len(found)
	v.Pages = max(1, (len(found)+commentsPerPage-1)/commentsPerPage)
	v.Page = 1
	if p, err := strconv.Atoi(query.Get(v.Param)); err == nil && p >= 1 && p <= v.Pages {
		v.Page = p
	}
	from := (v.Page - 1) * commentsPerPage
	v.Comments = found[from:min(from+commentsPerPage, len(found))]
	link := func(page int) string {
		u := url.Values{}
		if q != "" {
			u.Set("q", q)
		}
		if page > 1 {
			u.Set(v.Param, strconv.Itoa(page))
		}
		if len(u) == 0 {
			return path + "#" + anchor
		}
		return path + "?" + u.Encode() + "#" + anchor
	}
	if v.Page > 1 {
		v.Prev = link(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.Next = link(v.Page + 1)
	}
	return v
}

// newRankView lays out a rank question's count, suppressing pairwise counts
// below k.
func newRankView(q *ballot.Question, mr *tally.MixedResult, lang string, k int) *rankView {
	n := len(q.Options)
	v := &rankView{Valid: mr.Valid, Invalid: mr.Invalid, MaxScore: mr.Valid * (n - 1)}
	var rows []barRow
	for i, o := range q.Options {
		v.Options = append(v.Options, o.Label.In(lang))
		var score int
		if i < len(mr.Borda) {
			score = mr.Borda[i]
		}
		rows = append(rows, barRow{Label: o.Label.In(lang), Count: uint64(score)})
	}
	// Scores are sums of positions, not counts of people: never hidden.
	v.Borda, v.Height = layoutRows(rows, uint64(v.MaxScore), 0)
	for a := range n {
		row := make([]pairCell, n)
		for b := range n {
			if a == b {
				row[b].Self = true
				continue
			}
			var ab, ba int
			if a < len(mr.Pairwise) && b < len(mr.Pairwise[a]) {
				ab = mr.Pairwise[a][b]
			}
			if b < len(mr.Pairwise) && a < len(mr.Pairwise[b]) {
				ba = mr.Pairwise[b][a]
			}
			row[b] = pairCell{Count: ab, Hidden: hidden(uint64(ab), k), Beats: ab > ba}
		}
		v.Pairwise = append(v.Pairwise, pairRow{Label: v.Options[a], Cells: row})
	}
	if mr.Valid > 0 {
		for _, id := range mr.Winners {
			for _, o := range q.Options {
				if o.ID == id {
					v.Winners = append(v.Winners, o.Label.In(lang))
				}
			}
		}
		v.WinnerList = strings.Join(v.Winners, msg(lang, "export.sep"))
	}
	return v
}
