package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/tally"
)

func TestDefuse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+81 3", "'+81 3"},
		{"-1点", "'-1点"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"", ""},
		{"駅前の自転車置き場", "駅前の自転車置き場"},
		{"a=b", "a=b"},
		{"＝全角は数式になりません", "＝全角は数式になりません"},
		{" =1", " =1"},
	} {
		if got := defuse(tc.in); got != tc.want {
			t.Errorf("defuse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	rows := [][]cell{
		{str("件名"), str("市民意見アンケート")},
		{str("回答数"), num(12)},
		nil,
		{str("番号"), str("コメント")},
		{num(1), str(`=HYPERLINK("http://evil.example/")`)},
		{num(2), str("改行を\n含む, 「引用」と\"二重引用符\"")},
		{num(3), num(41.7)},
	}
	out, err := writeCSV(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("\xef\xbb\xbf件名,")) {
		t.Fatalf("no UTF-8 byte-order mark: %q", out[:12])
	}
	want := "\uFEFF件名,市民意見アンケート\r\n回答数,12\r\n\r\n番号,コメント\r\n" +
		"1,\"'=HYPERLINK(\"\"http://evil.example/\"\")\"\r\n" +
		"2,\"改行を\r\n含む, 「引用」と\"\"二重引用符\"\"\"\r\n3,41.7\r\n"
	if string(out) != want {
		t.Errorf("CSV:\n%q\nwant\n%q", out, want)
	}
	// Read back as RFC 4180 (a reader skips the empty line; a line end in
	// a field is written as CR LF).
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\uFEFF"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[3][1]; got != `'=HYPERLINK("http://evil.example/")` {
		t.Errorf("read back %q", got)
	}
}

// FuzzWriteCSV: any text cell reads back (RFC 4180) as itself, defused,
// and never starts with a character that makes a spreadsheet formula.
func FuzzWriteCSV(f *testing.F) {
	for _, s := range []string{"=1+1", "a,b", "\"q\"", "改行\r\n", "\t", "-", "@", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, '\r') {
			// encoding/csv reads a quoted CR LF as LF: not a round trip.
			return
		}
		out, err := writeCSV([][]cell{{str(s), num(1)}})
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\uFEFF"))))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if len(recs) != 1 || len(recs[0]) != 2 || recs[0][0] != defuse(s) || recs[0][1] != "1" {
			t.Fatalf("%q read back as %q", s, recs)
		}
		if c := recs[0][0]; c != "" && strings.IndexByte("=+-@\t\r", c[0]) >= 0 {
			t.Fatalf("%q starts a formula", c)
		}
	})
}

func TestSearchComments(t *testing.T) {
	comments := []string{"ＡＢＣバスの本数", "駅前の自転車置き場", "abc", "ｶﾀｶﾅの案内", "Straße の工事", ""}
	for _, tc := range []struct {
		q    string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5, 6}},
		{"  ", []int{1, 2, 3, 4, 5, 6}},
		{"abc", []int{1, 3}},
		{"ＡＢＣ", []int{1, 3}},
		{"AbC", []int{1, 3}},
		{"カタカナ", []int{4}},
		{"STRASSE", []int{5}},
		{"自転車", []int{2}},
		{"ない", nil},
	} {
		var got []int
		for _, c := range searchComments(comments, tc.q) {
			got = append(got, c.N)
			if comments[c.N-1] != c.Text {
				t.Errorf("comment %d is %q, want %q", c.N, c.Text, comments[c.N-1])
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("search %q: %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestTextViewPages(t *testing.T) {
	mr := &tally.MixedResult{Question: "opinion", Kind: ballot.KindText, Empty: 3}
	for i := range 120 {
		mr.Comments = append(mr.Comments, fmt.Sprintf("意見%d", i+1))
	}
	v := newTextView(mr, url.Values{"page-opinion": {"2"}}, "/elections/x/results", "q4-h")
	if v.Page != 2 || v.Pages != 3 || len(v.Comments) != 50 || v.Comments[0].N != 51 || v.Total != 120 || v.Matches != 120 {
		t.Errorf("page 2: %+v", v)
	}
	if v.Prev != "/elections/x/results#q4-h" || v.Next != "/elections/x/results?page-opinion=3#q4-h" {
		t.Errorf("links %q %q", v.Prev, v.Next)
	}
	v = newTextView(mr, url.Values{"q": {"意見11"}, "page-opinion": {"9"}}, "/r", "a")
	// 意見11 and 意見110..119: 11 matches on one page (page 9 is out of range).
	if v.Page != 1 || v.Pages != 1 || v.Matches != 11 || v.Next != "" || v.Prev != "" {
		t.Errorf("search: %+v", v)
	}
	long := strings.Repeat("あ", 100) // 300 bytes
	if v = newTextView(mr, url.Values{"q": {long}}, "/r", "a"); len(v.Query) > maxQuery || !utf8.ValidString(v.Query) {
		t.Errorf("a long query is kept as %d bytes", len(v.Query))
	}
}

func TestSuppression(t *testing.T) {
	k := 5
	m := &ballot.Manifest{Privacy: &k, Questions: []ballot.Question{{
		ID: "age", Kind: ballot.KindSingle, Optional: true, Label: ballot.Text{Ja: "年代"},
		Options: []ballot.Option{{ID: "a", Label: ballot.Text{Ja: "10代"}}, {ID: "b", Label: ballot.Text{Ja: "20代"}}, {ID: "c", Label: ballot.Text{Ja: "30代"}}},
	}}}
	res := &tally.Results{Ballots: 20, Questions: []tally.QuestionResult{{ID: "age", Kind: ballot.KindSingle,
		Options: []tally.OptionResult{{ID: "a", Count: 0}, {ID: "b", Count: 4}, {ID: "c", Count: 14}}}}}
	c := questionCharts(m, res, "ja")[0]
	var hid []bool
	for _, r := range c.Rows {
		hid = append(hid, r.Hidden)
		if r.Hidden && r.Percent != 0 {
			t.Errorf("%s: a hidden row has a percentage", r.Label)
		}
	}
	// 0 and 4 are below 5, 14 is not, and the blank row (2) is below.
	if !slices.Equal(hid, []bool{true, true, false, true}) || c.Suppress != 5 || c.Rows[2].Percent != 70 {
		t.Errorf("hidden %v, suppress %d, %+v", hid, c.Suppress, c.Rows)
	}
	// Without privacyThreshold in the manifest nothing is suppressed.
	m.Privacy = nil
	for _, r := range questionCharts(m, res, "ja")[0].Rows {
		if r.Hidden {
			t.Errorf("%s hidden without a threshold", r.Label)
		}
	}
	one := 1
	if m.Privacy = &one; suppressBelow(m) != 0 {
		t.Error("a threshold of 1 suppresses")
	}

	// Pairwise counts below k are hidden; Borda scores never are.
	k = 3
	q := &ballot.Question{ID: "p", Kind: ballot.KindRank, Options: []ballot.Option{{ID: "x", Label: ballot.Text{Ja: "X"}}, {ID: "y", Label: ballot.Text{Ja: "Y"}}}}
	mr := &tally.MixedResult{Question: "p", Kind: ballot.KindRank, Valid: 7, Borda: []int{5, 2}, Pairwise: [][]int{{0, 5}, {2, 0}}, Winners: []string{"x"}}
	rv := newRankView(q, mr, "ja", k)
	if rv.Pairwise[0].Cells[1].Hidden || !rv.Pairwise[1].Cells[0].Hidden || !rv.Pairwise[0].Cells[1].Beats || rv.Pairwise[1].Cells[0].Beats {
		t.Errorf("pairwise %+v", rv.Pairwise)
	}
	if rv.Borda[1].Hidden || rv.Borda[1].Count != 2 || rv.MaxScore != 7 || rv.WinnerList != "X" {
		t.Errorf("borda %+v, max %d, winners %q", rv.Borda, rv.MaxScore, rv.WinnerList)
	}
	// A tie, and no winner without valid rankings.
	mr.Winners = []string{"x", "y"}
	if rv = newRankView(q, mr, "en", 0); rv.WinnerList != "X, Y" {
		t.Errorf("tie %q", rv.WinnerList)
	}
	mr.Valid = 0
	if rv = newRankView(q, mr, "en", 0); len(rv.Winners) != 0 {
		t.Errorf("winners without valid rankings: %q", rv.Winners)
	}
}

// A rating question's results are its distribution, one row per value
// with the scale's labels at the ends, suppressed like option counts, and
// its mean; the exports have the same rows with the value as a number.
func TestRatingDistribution(t *testing.T) {
	k := 3
	m := &ballot.Manifest{ID: "r", Kind: "survey", Title: ballot.Text{Ja: "評価"}, Privacy: &k, Questions: []ballot.Question{{
		ID: "score", Kind: ballot.KindRating, Label: ballot.Text{Ja: "満足度", En: "Satisfaction"}, Min: 1, Max: 5,
		MinLabel: &ballot.Text{Ja: "不満", En: "Unhappy"}, MaxLabel: &ballot.Text{Ja: "満足", En: "Happy"},
	}}}
	total := uint64(1*2 + 2*0 + 3*5 + 4*4 + 5*9)
	res := &tally.Results{Ballots: 20, Questions: []tally.QuestionResult{{ID: "score", Kind: ballot.KindRating,
		Values: []tally.ValueResult{{Value: 1, Count: 2}, {Value: 2, Count: 0}, {Value: 3, Count: 5}, {Value: 4, Count: 4}, {Value: 5, Count: 9}}, Total: &total}}}
	c := questionCharts(m, res, "en")[0]
	var labels []string
	var hid []bool
	for _, r := range c.Rows {
		labels = append(labels, r.Label)
		hid = append(hid, r.Hidden)
	}
	if want := []string{"1 (Unhappy)", "2", "3", "4", "5 (Happy)"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if !slices.Equal(hid, []bool{true, true, false, false, false}) || c.Rows[4].Percent != 45 || c.Rows[0].Percent != 0 {
		t.Errorf("hidden %v, rows %+v", hid, c.Rows)
	}
	if c.Rating == nil || c.Rating.Mean != 3.9 {
		t.Errorf("mean %+v", c.Rating)
	}
	if ja := questionCharts(m, res, "ja")[0].Rows; ja[0].Label != "1（不満）" || ja[4].Label != "5（満足）" {
		t.Errorf("Japanese labels %q, %q", ja[0].Label, ja[4].Label)
	}

	ev := &electionView{Manifest: m, Info: &api.ElectionInfo{ID: "r", Kind: "survey", Title: m.Title}}
	sh := newExport(ev, res, nil, "en").sheets[0]
	body, err := writeCSV(sh.Rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"Value,Answers,Share (percent),Scale label\r\n",
		"1,fewer than 3,,Unhappy\r\n", "2,fewer than 3,,\r\n", "3,5,25,\r\n", "5,9,45,Happy\r\n",
		"\r\nMean,3.9\r\n", "Scale minimum,1\r\n", "Scale maximum,5\r\n",
	} {
		if !strings.Contains(string(body), w) {
			t.Errorf("the CSV does not contain %q:\n%s", w, body)
		}
	}

	// Results without a count for every value (none are published so)
	// give no rows, rather than rows for the wrong values.
	for _, values := range [][]tally.ValueResult{nil, {{Value: 1, Count: 2}, {Value: 2, Count: 0}}, {{Value: 2, Count: 2}, {Value: 3, Count: 0}, {Value: 4, Count: 5}, {Value: 5, Count: 4}, {Value: 6, Count: 9}}} {
		res.Questions[0].Values = values
		if rows := questionCharts(m, res, "en")[0].Rows; rows != nil {
			t.Errorf("values %v give rows %+v", values, rows)
		}
	}
}
