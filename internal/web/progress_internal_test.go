package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
)

// mixEntries are the board entries of a mix or mix-decryption message of
// size bytes, posted in parts.
func mixEntries(t *testing.T, typ string, trustee int, question string, size int) []board.Entry {
	t.Helper()
	var out []board.Entry
	for _, p := range board.SplitParts(trustee, question, bytes.Repeat([]byte{7}, size)) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
		out = append(out, board.Entry{Type: typ, Body: bytes.TrimSuffix(b.Bytes(), []byte("\n"))})
	}
	return out
}

func ballotEntry(cred string, at time.Time) board.Entry {
	body := fmt.Sprintf(`{"ballot":"","credential":%q,"salt":"","counter":1,"signature":""}`, base64.StdEncoding.EncodeToString([]byte(cred)))
	return board.Entry{Type: board.TypeBallot, Time: at, Body: []byte(body)}
}

// TestTrusteesProgress derives each trustee's progress from board
// entries, as the console's election page shows it, at each stage.
func TestTrusteesProgress(t *testing.T) {
	m := &ballot.Manifest{Trustees: 3, Threshold: 2, Questions: []ballot.Question{
		{ID: "plan", Kind: ballot.KindSingle}, {ID: "opinion", Kind: ballot.KindText}, {ID: "order", Kind: ballot.KindRank}}}
	cer := &ceremonyView{Threshold: 2, Qual: []int{1, 2, 3}, Finished: 3}
	for j := 1; j <= 3; j++ {
		cer.Trustees = append(cer.Trustees, trusteeProgressOf(j, true, true, true, true))
	}
	sum := newSummary()
	feed := func(es ...board.Entry) {
		for _, e := range es {
			sum.add(e)
		}
	}
	keys := func(p *progressView) string {
		var rows []string
		for _, r := range p.Rows {
			cells := []string{r.Ceremony.Key}
			for _, c := range r.Mix {
				cells = append(cells, c.Key+" "+fmt.Sprint(c.Args))
			}
			cells = append(cells, r.Share.Key)
			rows = append(rows, strings.Join(cells, " "))
		}
		return strings.ReplaceAll(strings.Join(rows, "\n"), "console.progress.", "")
	}
	check := func(stage string, p *progressView, want string) {
		t.Helper()
		if got := keys(p); got != strings.TrimSpace(want) {
			t.Errorf("%s:\n%s\nwant\n%s", stage, got, strings.TrimSpace(want))
		}
	}

	// Open: the ceremony done, nothing else yet.
	p := trusteesProgress(m, api.StateOpen, cer, sum.Trustees)
	if !p.After || len(p.Mixed) != 2 || p.Mixed[0].ID != "opinion" || p.Mixed[1].ID != "order" {
		t.Fatalf("columns: %+v", p)
	}
	check("open", p, `
ceremonydone notyet [] notyet [] notyet
ceremonydone notyet [] notyet [] notyet
ceremonydone notyet [] notyet [] notyet`)

	// Ballots: counted per hour, and voters once however often they vote.
	h := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	feed(ballotEntry("a", h.Add(time.Minute)), ballotEntry("b", h.Add(2*time.Minute)), ballotEntry("a", h.Add(65*time.Minute)))
	if sum.Ballots != 3 || len(sum.Voted) != 2 || sum.PerHour[h] != 2 || sum.PerHour[h.Add(time.Hour)] != 1 {
		t.Errorf("ballots %d, voters %d, per hour %v", sum.Ballots, len(sum.Voted), sum.PerHour)
	}

	// Tallied: trustee 2 mixes the text question in round 1 (in two
	// parts: it counts at its last), trustee 3 is halfway through round 1
	// of the rank question.
	two := mixEntries(t, board.TypeMix, 2, "opinion", board.PartSize+10)
	feed(two...)
	feed(mixEntries(t, board.TypeMix, 3, "order", board.PartSize+10)[0])
	p = trusteesProgress(m, api.StateTallied, cer, sum.Trustees)
	check("first rounds", p, `
ceremonydone mixwait [2 2] mixwait [1 2] aftermix
ceremonydone mixed [1 2] mixwait [1 2] aftermix
ceremonydone mixwait [2 2] mixwait [1 2] aftermix`)

	// The summary is read in steps (the cache): a clone keeps the rounds.
	sum = sum.clone()
	// Round 2 of the text question by trustee 1; its list shares by 1 and
	// 3; the rank question mixed by 1 and 2 (the parts of trustee 3's
	// round never finished: the server refused it); the tally's shares by
	// 1 and 2.
	feed(mixEntries(t, board.TypeMix, 1, "opinion", 100)...)
	feed(mixEntries(t, board.TypeMixDecryption, 1, "opinion", 100)...)
	feed(mixEntries(t, board.TypeMixDecryption, 3, "opinion", 100)...)
	feed(mixEntries(t, board.TypeMix, 1, "order", 100)...)
	p = trusteesProgress(m, api.StateTallied, cer, sum.Trustees)
	check("text mixed", p, `
ceremonydone mixedshared [2 2] mixed [1 2] aftermix
ceremonydone mixedwait [1 2] mixwait [2 2] aftermix
ceremonydone listshare [] mixwait [2 2] aftermix`)
	feed(mixEntries(t, board.TypeMix, 2, "order", 100)...)
	feed(board.Entry{Type: board.TypeDecryption, Body: []byte(`{"trustee":1,"share":{}}`)})
	feed(board.Entry{Type: board.TypeDecryption, Body: []byte(`{"trustee":2,"share":{}}`)})
	feed(board.Entry{Type: board.TypeDecryption, Body: []byte(`not json`)}) // ignored
	p = trusteesProgress(m, api.StateTallied, cer, sum.Trustees)
	check("all mixed", p, `
ceremonydone mixedshared [2 2] mixedwait [1 2] shareposted
ceremonydone mixedwait [1 2] mixedwait [2 2] shareposted
ceremonydone listshare [] listwait [] waiting`)
	if p.Shares != 2 || p.MixesDone != 2 {
		t.Errorf("shares %d, questions mixed %d", p.Shares, p.MixesDone)
	}

	// A trustee outside QUAL takes no part after the ceremony.
	out := &ceremonyView{Threshold: 2, Qual: []int{1, 2}, Finished: 3, Trustees: cer.Trustees}
	p = trusteesProgress(m, api.StateOpen, out, newTrusteeBoard())
	if r := p.Rows[2]; r.Ceremony.Key != "console.progress.notqual" || r.Mix[0].Key != "console.progress.notpart" || r.Share.Key != "console.progress.notpart" {
		t.Errorf("a trustee outside QUAL: %+v", r)
	}

	// In setup: the rounds, and no mix or decryption columns yet.
	partial := &ceremonyView{Threshold: 2, Trustees: []trusteeProgress{
		trusteeProgressOf(1, true, true, false, false), trusteeProgressOf(2, true, false, false, false), trusteeProgressOf(3, false, false, false, false)}}
	p = trusteesProgress(m, api.StateSetup, partial, newTrusteeBoard())
	if p.After {
		t.Error("in setup the table is the ceremony's")
	}
	for i, want := range []string{"[2 4]", "[1 4]", "[0 4]"} {
		if r := p.Rows[i]; r.Ceremony.Key != "console.progress.rounds" || fmt.Sprint(r.Ceremony.Args) != want {
			t.Errorf("trustee %d in setup: %+v", i+1, r.Ceremony)
		}
	}
	// Words for every status, in both languages.
	for _, lang := range []string{"ja", "en"} {
		v := &view{Lang: lang}
		for _, c := range []progressCell{p.Rows[0].Ceremony, {Key: "console.progress.mixedshared", Args: []any{1, 2}}} {
			if s := v.Cell(c); s == "" || strings.Contains(s, "console.") || strings.Contains(s, "%!") {
				t.Errorf("%s: %q", lang, s)
			}
		}
	}
}

func trusteeProgressOf(j int, rounds ...bool) trusteeProgress {
	all := true
	for _, r := range rounds {
		all = all && r
	}
	return trusteeProgress{Index: j, Done: rounds, All: all}
}

// TestInProgress: what makes the console's page refresh by itself.
func TestInProgress(t *testing.T) {
	for _, c := range []struct {
		state, key, opens string
		want              bool
	}{
		{api.StateSetup, "", "", true},                           // the ceremony under way
		{api.StateSetup, "k", "", false},                         // ready: waits for the administrator
		{api.StateSetup, "k", "2027-01-01T00:00:00+09:00", true}, // scheduled to open
		{api.StateOpen, "k", "", true},
		{api.StateClosed, "k", "", false},
		{api.StateTallied, "k", "", true},
		{api.StatePublished, "k", "", false},
	} {
		ev := &electionView{Info: &api.ElectionInfo{State: c.state}, Manifest: &ballot.Manifest{Opens: c.opens}}
		if got := inProgress(ev, &ceremonyView{JointKey: c.key}); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}
