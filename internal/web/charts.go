package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/tally"
)

// Chart geometry, in CSS pixels. Widths are percentages of the chart's
// width, so the charts fit any screen; text never scales.
const (
	fontSize   = 15
	lineHeight = 20
	barHeight  = 18
	rowGap     = 14
	labelWidth = 300 // labels wrap to fit a 360 px screen
)

// barChart is a question's result as horizontal bars, one per option.
type barChart struct {
	ID     string // the figure's id prefix
	Label  ballot.Text
	Kind   string
	Rows   []barRow
	Height int
	Max    int // multiple choice: most options a ballot may choose
	// Rating questions: the mean on the scale.
	Rating *ratingChart
	// Text and rank questions (results_mixed.go): their mixed results,
	// filled in by the results page.
	Text *textView
	Rank *rankView
	// Suppress is the small-count threshold k (0: none): counts below it
	// are shown as "fewer than k" (suppressBelow).
	Suppress int
	// Export is the question's CSV download.
	Export string
}

type barRow struct {
	Label   string
	Lines   []textLine
	Count   uint64
	Percent float64 // of the ballots counted
	BarY    int
	TextY   int  // the value's baseline
	Inside  bool // the value is written inside the bar (a long bar)
	Blank   bool // the "no answer" row of an optional question
	// Hidden: the count is below the small-count threshold; the page
	// shows "fewer than k", no percentage and no bar.
	Hidden bool
}

type textLine struct {
	Text string
	Y    int
}

type ratingChart struct {
	Min, Max           int
	Mean               float64
	MeanPercent        float64 // the mean's position on the scale, in percent
	MinLabel, MaxLabel *ballot.Text
	Ticks              []tick
}

type tick struct {
	Value   int
	Percent float64
	Anchor  string
}

// suppressBelow is the small-count threshold of the results' presentation
// (SPEC.md §9.5): the manifest's privacyThreshold when the manifest sets
// one of at least 2, else 0 (no suppression). The default threshold of a
// manifest without one governs decryption only.
func suppressBelow(m *ballot.Manifest) int {
	if m.Privacy == nil || *m.Privacy < 2 {
		return 0
	}
	return *m.Privacy
}

// hidden reports whether a count of n is suppressed under threshold k.
func hidden(n uint64, k int) bool { return k > 0 && n < uint64(k) }

// questionCharts lays out the results of every question. Text and rank
// questions get a chart with only their id, label and kind: their mixed
// results are fetched apart (mixedViews).
func questionCharts(m *ballot.Manifest, r *tally.Results, lang string) []barChart {
	var out []barChart
	k := suppressBelow(m)
	for i, q := range m.Questions {
		if i >= len(r.Questions) || r.Questions[i].ID != q.ID {
			break
		}
		c := barChart{ID: fmt.Sprintf("q%d", i+1), Label: q.Label, Kind: q.Kind, Max: q.Max, Suppress: k}
		if ballot.Mixed(q.Kind) {
			out = append(out, c) // mixed and decrypted one by one, not tallied: no counts here
			continue
		}
		qr := r.Questions[i]
		if q.Kind == ballot.KindRating {
			mean := qr.Mean(r.Ballots)
			rc := &ratingChart{Min: q.Min, Max: q.Max, Mean: mean, MinLabel: q.MinLabel, MaxLabel: q.MaxLabel}
			span := float64(q.Max - q.Min)
			if r.Ballots > 0 && span > 0 {
				rc.MeanPercent = 100 * (mean - float64(q.Min)) / span
			}
			step := 1
			for (q.Max-q.Min)/step > 10 {
				step *= 2
			}
			for v := q.Min; v <= q.Max; v += step {
				t := tick{Value: v, Anchor: "middle"}
				if span > 0 {
					t.Percent = 100 * float64(v-q.Min) / span
				}
				switch {
				case v == q.Min:
					t.Anchor = "start"
				case v+step > q.Max && v == q.Max:
					t.Anchor = "end"
				}
				rc.Ticks = append(rc.Ticks, t)
			}
			c.Rating = rc
			c.Rows, c.Height = layoutRows(ratingRows(&q, &qr, lang), uint64(r.Ballots), k)
			out = append(out, c)
			continue
		}
		var chosen uint64
		var rows []barRow
		for j, o := range q.Options {
			var n uint64
			if j < len(qr.Options) {
				n = qr.Options[j].Count
			}
			chosen += n
			rows = append(rows, barRow{Label: o.Label.In(lang), Count: n})
		}
		if q.Kind == ballot.KindSingle && q.Optional && uint64(r.Ballots) > chosen {
			rows = append(rows, barRow{Label: msg(lang, "results.blank"), Count: uint64(r.Ballots) - chosen, Blank: true})
		}
		c.Rows, c.Height = layoutRows(rows, uint64(r.Ballots), k)
		out = append(out, c)
	}
	return out
}

// ratingRows are a rating question's distribution (SPEC.md §9.4), one row
// per value from min to max, the ends labelled with minLabel and maxLabel
// when the manifest has them. Results without a count for every value
// (none are published so) give no rows rather than wrong ones.
func ratingRows(q *ballot.Question, qr *tally.QuestionResult, lang string) []barRow {
	if len(qr.Values) != q.Max-q.Min+1 {
		return nil
	}
	var rows []barRow
	for i, v := range qr.Values {
		if v.Value != q.Min+i {
			return nil
		}
		rows = append(rows, barRow{Label: ratingLabel(q, v.Value, lang), Count: v.Count})
	}
	return rows
}

// ratingLabel is a value of a rating's scale as the results show it: the
// number, and at the ends the scale's label, e.g. "1（まったく感じない）".
func ratingLabel(q *ballot.Question, v int, lang string) string {
	end := scaleEndLabel(q, v)
	if end == nil {
		return strconv.Itoa(v)
	}
	return msg(lang, "results.scaleend", v, end.In(lang))
}

// scaleEndLabel is the manifest's label of value v of a rating's scale:
// minLabel for the lowest, maxLabel for the highest, nil for the values
// between and for an end without a label.
func scaleEndLabel(q *ballot.Question, v int) *ballot.Text {
	switch v {
	case q.Min:
		return q.MinLabel
	case q.Max:
		return q.MaxLabel
	}
	return nil
}

// layoutRows places horizontal bars: each row's label lines, its bar of
// Count/whole and its value. A row whose count is below k is hidden: no
// bar and no percentage.
func layoutRows(rows []barRow, whole uint64, k int) ([]barRow, int) {
	y := 0
	for i := range rows {
		row := &rows[i]
		row.Hidden = hidden(row.Count, k)
		if whole > 0 && !row.Hidden {
			row.Percent = 100 * float64(row.Count) / float64(whole)
		}
		row.Lines = nil
		for _, l := range wrap(row.Label, labelWidth) {
			y += lineHeight
			row.Lines = append(row.Lines, textLine{Text: l, Y: y - 5})
		}
		row.BarY = y + 2
		row.TextY = row.BarY + barHeight - 4
		row.Inside = row.Percent > 60
		y += barHeight + rowGap + 2
	}
	return rows, y
}

// wrap splits a label into lines of at most width pixels, estimating
// widths (a wide character is one em, others about half); it breaks at
// spaces, or between wide characters.
func wrap(s string, width int) []string {
	em := float64(fontSize)
	w := func(r rune) float64 {
		if isWide(r) {
			return em
		}
		return 0.56 * em
	}
	var lines []string
	var line strings.Builder
	var lineW float64
	flush := func() {
		if t := strings.TrimSpace(line.String()); t != "" {
			lines = append(lines, t)
		}
		line.Reset()
		lineW = 0
	}
	// Tokens: a word of narrow characters with its trailing space, or one
	// wide character.
	var tokens []string
	var word strings.Builder
	for _, r := range s {
		switch {
		case isWide(r):
			if word.Len() > 0 {
				tokens = append(tokens, word.String())
				word.Reset()
			}
			tokens = append(tokens, string(r))
		case r == ' ':
			word.WriteRune(r)
			tokens = append(tokens, word.String())
			word.Reset()
		default:
			word.WriteRune(r)
		}
	}
	if word.Len() > 0 {
		tokens = append(tokens, word.String())
	}
	for _, t := range tokens {
		var tw float64
		for _, r := range t {
			tw += w(r)
		}
		if lineW+tw > float64(width) && lineW > 0 {
			flush()
		}
		line.WriteString(t)
		lineW += tw
	}
	flush()
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

func isWide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// turnoutChart is the ballots cast per hour (or per day, for a long
// election) as vertical bars.
type turnoutChart struct {
	Buckets []bucket
	PerDay  bool
	Max     int64
	Total   int64
	Peak    bucket
	First   time.Time
	Last    time.Time
	Height  int // of the plot area
	Ticks   []yTick
}

type bucket struct {
	Start time.Time
	Count int64
	X, W  float64 // percent
	Y, H  int
}

type yTick struct {
	Value int64
	Y     int
}

const turnoutHeight = 160

// turnout buckets the ballot entries' times by hour (by day if they span
// more than two days), in loc, including the empty buckets between the
// first and the last.
func turnout(perHour map[time.Time]int64, loc *time.Location) *turnoutChart {
	if len(perHour) == 0 {
		return nil
	}
	var first, last time.Time
	for h := range perHour {
		if first.IsZero() || h.Before(first) {
			first = h
		}
		if h.After(last) {
			last = h
		}
	}
	c := &turnoutChart{Height: turnoutHeight}
	step := time.Hour
	start := first.In(loc)
	if last.Sub(first) > 48*time.Hour {
		c.PerDay = true
		step = 24 * time.Hour
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	}
	for t := start; !t.After(last); t = t.Add(step) {
		c.Buckets = append(c.Buckets, bucket{Start: t})
	}
	for h, n := range perHour {
		i := int(h.Sub(start) / step)
		if i >= 0 && i < len(c.Buckets) {
			c.Buckets[i].Count += n
		}
		c.Total += n
	}
	for _, b := range c.Buckets {
		if b.Count > c.Max {
			c.Max = b.Count
		}
	}
	top := niceCeil(c.Max)
	n := float64(len(c.Buckets))
	for i := range c.Buckets {
		b := &c.Buckets[i]
		b.X = 100 * float64(i) / n
		b.W = 100 / n * 0.8
		if n == 1 {
			b.X, b.W = 35, 30
		}
		b.H = int(float64(turnoutHeight) * float64(b.Count) / float64(top))
		if b.Count > 0 && b.H < 2 {
			b.H = 2
		}
		b.Y = turnoutHeight - b.H
		if i == 0 || b.Count > c.Peak.Count {
			c.Peak = *b
		}
	}
	c.First, c.Last = c.Buckets[0].Start, c.Buckets[len(c.Buckets)-1].Start
	ticks := []int64{0, top}
	if top%2 == 0 {
		ticks = []int64{0, top / 2, top}
	}
	for _, v := range ticks {
		c.Ticks = append(c.Ticks, yTick{Value: v, Y: turnoutHeight - int(float64(turnoutHeight)*float64(v)/float64(top))})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
