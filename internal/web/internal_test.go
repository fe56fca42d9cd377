package web

import (
	"github.com/koe-vote/koe/internal/api"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

func TestBundlePath(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		w    int
		want string
	}{
		{0, 256, "tile/entries/000"},
		{0, 5, "tile/entries/000.p/5"},
		{1234067, 256, "tile/entries/x001/x234/067"},
		{1000, 1, "tile/entries/x001/000.p/1"},
	} {
		if got := bundlePath(tc.n, tc.w); got != tc.want {
			t.Errorf("bundlePath(%d, %d) = %q, want %q", tc.n, tc.w, got, tc.want)
		}
	}
	if 1<<board.TileHeight != 256 {
		t.Fatal("tiles are not 256 entries wide")
	}
}

func TestAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "ja"},
		{"ja", "ja"},
		{"en", "en"},
		{"en-US,en;q=0.9,ja;q=0.8", "en"},
		{"ja-JP,en;q=0.9", "ja"},
		{"en;q=0.4,ja;q=0.5", "ja"},
		{"en;q=0,ja;q=0", "ja"},
		{"fr,en;q=0.8", "en"},
		{"EN-gb", "en"},
		{"en;q=bad", "ja"},
	} {
		if got := fromAcceptLanguage(tc.header); got != tc.want {
			t.Errorf("fromAcceptLanguage(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	for key := range catalogue["ja"] {
		if _, ok := catalogue["en"][key]; !ok {
			t.Errorf("%q has no English", key)
		}
	}
	for key := range catalogue["en"] {
		if _, ok := catalogue["ja"][key]; !ok {
			t.Errorf("%q has no Japanese", key)
		}
	}
	// Keys built at run time.
	var keys []string
	for _, s := range []string{"setup", "open", "closed", "tallied", "published"} {
		keys = append(keys, "state."+s, "statehelp."+s)
	}
	for _, typ := range []string{board.TypeManifest, board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond,
		board.TypeElectionKey, board.TypeRegistrarKey, board.TypeRoll, board.TypeCredentialIssued, board.TypeOpen,
		board.TypeBallot, board.TypeSpoiled, board.TypeClose, board.TypeTally, board.TypeDecryption, board.TypeResults,
		board.TypeMix, board.TypeMixDecryption, board.TypeReissue} {
		keys = append(keys, "entry."+typ)
	}
	keys = append(keys, "kind.vote", "kind.survey")
	for _, k := range keys {
		if _, ok := catalogue["ja"][k]; !ok {
			t.Errorf("no message %q", k)
		}
	}
	// Every key the templates name.
	entries, _ := templateFS.ReadDir("templates")
	for _, e := range entries {
		data, _ := templateFS.ReadFile("templates/" + e.Name())
		for _, part := range strings.Split(string(data), `.T "`)[1:] {
			key, _, _ := strings.Cut(part, `"`)
			if _, ok := catalogue["ja"][key]; !ok {
				t.Errorf("%s names %q, which is not in the catalogue", e.Name(), key)
			}
		}
	}
}

// TestSurveyWords: a survey's wording replaces messages of the catalogue
// with the same placeholders, in both languages, and pages and the booth's
// script about a survey use it.
func TestSurveyWords(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		for skey, m := range catalogue[lang] {
			key, ok := strings.CutPrefix(skey, "survey.")
			if !ok {
				continue
			}
			orig, ok := catalogue[lang][key]
			if !ok {
				t.Errorf("%s: survey wording for %q, which is not in the catalogue", lang, key)
				continue
			}
			if strings.Count(orig, "%") != strings.Count(m, "%") {
				t.Errorf("%s %q: the survey wording has other placeholders than %q", lang, key, orig)
			}
			if lang == "ja" && strings.Contains(m, "投票") {
				t.Errorf("%q: the survey wording says 投票: %q", key, m)
			}
			other := map[string]string{"ja": "en", "en": "ja"}[lang]
			if _, ok := catalogue[other][skey]; !ok {
				t.Errorf("%q has survey wording in %s only", key, lang)
			}
		}
	}
	survey := &electionView{Info: &api.ElectionInfo{Kind: "survey"}}
	vote := &electionView{Info: &api.ElectionInfo{Kind: "vote"}}
	if !survey.survey() || vote.survey() {
		t.Fatal("electionView.survey does not tell a survey from a vote")
	}
	if got := msgFor("ja", "booth.receipt.revote.h", true); got != "回答し直す" {
		t.Errorf("a survey's booth says %q", got)
	}
	if got := msgFor("ja", "booth.receipt.revote.h", false); got != "投票し直す" {
		t.Errorf("an election's booth says %q", got)
	}
	if got := msgFor("en", "booth.js.err.config", true, "x"); got != "This survey's settings do not check out. Do not answer: x" {
		t.Errorf("a survey's formatted message is %q", got)
	}
}

func TestWrap(t *testing.T) {
	long := "市が重点的に取り組むべき分野（3つまで）を選んでください。複数選ぶことができます。"
	lines := wrap(long, 300)
	if len(lines) < 2 || strings.Join(lines, "") != long {
		t.Errorf("wrap(%q) = %q", long, lines)
	}
	if got := wrap("Health and medicine", 300); len(got) != 1 {
		t.Errorf("a short label wraps: %q", got)
	}
	en := wrap("Choosing next year's neighbourhood projects for the whole of the city, one by one", 300)
	if len(en) < 2 {
		t.Errorf("a long English label does not wrap: %q", en)
	}
	for _, l := range en {
		if strings.HasPrefix(l, " ") || strings.HasSuffix(l, " ") {
			t.Errorf("line %q has spaces at its ends", l)
		}
	}
}

func TestTurnout(t *testing.T) {
	h := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }
	c := turnout(map[time.Time]int64{h(23, 0): 3, h(23, 3): 7}, time.UTC)
	if c.PerDay || len(c.Buckets) != 4 || c.Total != 10 || c.Max != 7 || c.Peak.Count != 7 || !c.Peak.Start.Equal(h(23, 3)) {
		t.Fatalf("hourly turnout: %+v", c)
	}
	if c.Buckets[1].Count != 0 || c.Buckets[3].H != turnoutHeight*7/10 {
		t.Errorf("buckets: %+v", c.Buckets)
	}
	d := turnout(map[time.Time]int64{h(1, 5): 1, h(20, 23): 2, h(20, 1): 4}, time.UTC)
	if !d.PerDay || len(d.Buckets) != 20 || d.Buckets[19].Count != 6 {
		t.Errorf("daily turnout: %d buckets, %+v", len(d.Buckets), d.Buckets[len(d.Buckets)-1])
	}
	if turnout(nil, time.UTC) != nil {
		t.Error("turnout of no ballots")
	}
	for n, want := range map[int64]int64{0: 2, 1: 2, 3: 5, 7: 10, 14: 20, 101: 200, 5000: 5000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"gzip, deflate, br": true, "br;q=1.0, gzip;q=0.8": true, "GZIP": true,
		"": false, "deflate": false, "gzip;q=0": false, "br, gzip; q=0.000": false, "x-gzip": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
