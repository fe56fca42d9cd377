package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/tally"
)

// TestServeDemo runs koe serve --demo: the survey it sets up is open with
// its voters' codes on disk; a voter votes; once the administrator
// tallies, the demo's trustees decrypt by themselves and the results can
// be published; they count the ballot.
func TestServeDemo(t *testing.T) {
	id, raw := serveDemoVote(t, ballot.Answers{"age": "30s", "fields": []any{"health"}, "science-city": float64(4), "internet-voting": "for"})
	res, err := tally.ParseResults(raw)
	must(t, err)
	if id != "kagaku-demo-1" || res.Ballots != 1 || res.Questions[3].Options[0].ID != "for" || res.Questions[3].Options[0].Count != 1 {
		t.Fatalf("results %s", raw)
	}
}

// TestServeDemoMixed: koe serve --demo --demo-manifest city-survey; once
// the administrator tallies, the demo's trustees mix the text and rank
// questions and decrypt them with the tally, and the results published
// hold the comment and the ranking.
func TestServeDemoMixed(t *testing.T) {
	_, raw := serveDemoVote(t, ballot.Answers{"science-city": float64(4), "priorities": []any{"bus-stops", "shelters"}, "opinion": "駅に屋根がほしい"}, "--demo-manifest", "city-survey")
	res, err := tally.ParseResults(raw)
	must(t, err)
	if res.Ballots != 1 || res.Questions[2].Winners == nil || res.Questions[2].Winners[0] != "bus-stops" || res.Questions[3].Answers == nil || *res.Questions[3].Answers != 1 {
		t.Fatalf("results %s", raw)
	}
}

// serveDemoVote runs koe serve --demo 3 with flags, casts a ballot with
// answers, closes and tallies the election from the administrator's side,
// waits until it can be published (its trustees have decrypted), publishes
// it, and returns its id and results.
func serveDemoVote(t *testing.T, answers ballot.Answers, flags ...string) (string, []byte) {
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	const token = "demo-test-administrator-token"
	cmd := koeServe(t, data, addr, token, append([]string{"--demo", "3"}, flags...)...)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	// The demo says where its booth is.
	booth := regexp.MustCompile(`booth: +(http://\S+)/elections/(\S+)/vote`)
	var id string
	lines := bufio.NewScanner(out)
	var said []string
	for id == "" && lines.Scan() {
		said = append(said, lines.Text())
		if m := booth.FindStringSubmatch(lines.Text()); m != nil {
			id = m[2]
		}
	}
	if !strings.HasPrefix(id, "kagaku-demo-") {
		t.Fatalf("koe serve --demo said:\n%s", strings.Join(said, "\n"))
	}
	go func() {
		for lines.Scan() {
		}
	}()
	codes, err := os.ReadFile(filepath.Join(data, "demo-codes.csv"))
	must(t, err)
	rows := strings.Split(strings.TrimSpace(string(codes)), "\n")
	if len(rows) != 4 || rows[0] != "voter_id,code" {
		t.Fatalf("demo-codes.csv:\n%s", codes)
	}
	voterID, code, _ := strings.Cut(rows[1], ",")

	ctx := context.Background()
	voter, admin := client.New(base, ""), client.New(base, token)
	el, err := voter.Election(ctx, id)
	must(t, err)
	cred, err := voter.Register(ctx, el, voterID, code)
	must(t, err)
	pt, err := el.E.Manifest.Plaintext(answers)
	must(t, err)
	env, _, _, err := client.Seal(el, cred, pt, 1)
	must(t, err)
	_, err = voter.Cast(ctx, id, env)
	must(t, err)
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	// The trustees decrypt within seconds; until then publishing is refused.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's trustees did not decrypt: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	raw, err := voter.Raw(ctx, "GET", api.ElectionPath(id, "/results"), "", nil)
	must(t, err)
	return id, raw
}
