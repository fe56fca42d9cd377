package verify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/verify"
)

var (
	boardMixOnce sync.Once
	boardMixDir  string
	boardMixErr  error
)

const boardMixVoters = 11 // enough for rounds and shares of "opinion" in two parts each

// boardMixRecord returns a record with a bulletin board whose election has
// text and rank questions (examples/city-survey.json), run on a koe server
// to its results: trustees 1 then 2 mix both questions and both decrypt
// over the API, and the record is exported. Built once per test binary.
func boardMixRecord(t *testing.T) string {
	t.Helper()
	boardMixOnce.Do(func() {
		boardMixDir, boardMixErr = buildBoardMixRecord(t)
	})
	if boardMixErr != nil {
		t.Fatal(boardMixErr)
	}
	return boardMixDir
}

func buildBoardMixRecord(t *testing.T) (string, error) {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "koe-verify-boardmix-")
	if err != nil {
		return "", err
	}
	st, err := sqlite.Open(filepath.Join(tmp, "koe.db"))
	if err != nil {
		return "", err
	}
	defer st.Close()
	const token = "boardmix-administrator-token"
	srv, err := server.New(server.Config{Store: st, Origin: "koe.example", BoardKey: ed25519.NewKeyFromSeed(vectorBoardSeed[:]), AdminToken: token,
		RegistrarBits: 2048, RegisterRate: 100, RegisterBurst: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	admin := client.New(ts.URL, token)
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "city-survey.json"))
	if err != nil {
		return "", err
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return "", err
	}
	m.ID, m.Trustees, m.Threshold = "shimin-iken-board", 3, 2
	privacy := 5
	m.Privacy = &privacy
	manifest, _ := json.MarshalIndent(m, "", "  ")
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return "", err
	}
	id := created.ID
	trustees, err := demo.ServerCeremony(ctx, ts.URL, id, manifest, created.TrusteeTokens)
	if err != nil {
		return "", err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "R", boardMixVoters)
	if err != nil {
		return "", err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return "", err
	}
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return "", err
	}
	comments := []string{"駅前に駐輪場を", "", "バスを増やして", "図書館を夜も", "特になし"}
	ranks := [][]any{{"shelters"}, {"bike-lanes", "shelters"}, {"library-hours", "bus-stops", "shelters"}}
	for i := range boardMixVoters {
		vid := fmt.Sprintf("R%05d", i)
		if _, ok := codes[vid]; !ok {
			return "", fmt.Errorf("no roll entry %s among %d", vid, len(codes))
		}
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		if err != nil {
			return "", err
		}
		pt, err := el.E.Manifest.Plaintext(ballot.Answers{"age": "30s", "science-city": float64(1 + i%5), "priorities": ranks[i%len(ranks)], "opinion": comments[i%len(comments)]})
		if err != nil {
			return "", err
		}
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			return "", err
		}
		if _, err := voter.Cast(ctx, id, env); err != nil {
			return "", err
		}
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil); err != nil {
		return "", err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil); err != nil {
		return "", err
	}
	// Trustees 1 and 2 decrypt the tally, mix both questions in turn and
	// decrypt the final lists, all over the server's API; then the results.
	if err := demo.ServerDecrypt(ctx, ts.URL, id, manifest, trustees, created.TrusteeTokens, []int{1, 2}); err != nil {
		return "", err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil); err != nil {
		return "", err
	}
	resp, err := http.Get(ts.URL + api.ElectionPath(id, "/record"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET record: %s", resp.Status)
	}
	dir := filepath.Join(tmp, "record")
	if _, err := record.Unpack(resp.Body, dir); err != nil {
		return "", err
	}
	return dir, nil
}

func TestBoardRecordWithMixes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server election")
	}
	dir0 := boardMixRecord(t)
	rep := verify.Record(dir0, verify.Options{})
	if !rep.OK() {
		t.Fatalf("%+v", rep.Failures())
	}
	parts := map[string]int{}
	for _, en := range readEntries(t, dir0) {
		if en.Type == board.TypeMix || en.Type == board.TypeMixDecryption {
			var p board.PartBody
			json.Unmarshal(en.Body, &p)
			parts[en.Type+"/"+p.Question] = max(parts[en.Type+"/"+p.Question], p.Parts)
		}
	}
	if parts["mix/opinion"] < 2 || parts["mix-decryption/opinion"] < 2 {
		t.Fatalf("the opinion messages should span several parts: %v", parts)
	}
	// The follower, fed the same board entry by entry, accepts it.
	data := readFile(t, filepath.Join(dir0, filepath.FromSlash(record.BoardEntries)))
	manifest := readFile(t, filepath.Join(dir0, record.Manifest))
	m, _ := ballot.ParseManifest(manifest)
	f := verify.NewFollower(m.ID, manifest)
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if err := f.Add(line); err != nil {
			t.Fatalf("follower, entry %d: %v", i, err)
		}
	}
	if !f.Published() {
		t.Fatal("the follower did not reach the results")
	}

	mixEntries := func(es []board.Entry) (first, last int) {
		first = -1
		for i, en := range es {
			if en.Type == board.TypeMix || en.Type == board.TypeMixDecryption {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		return first, last
	}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"an extra round file", func(t *testing.T, dir string) {
			writeFile(t, record.MixRoundFile(dir, "opinion", 3, 3), readFile(t, record.MixRoundFile(dir, "opinion", 2, 2)))
		}, "mixes/opinion/round-3-3.bin is in the record but not on the board"},
		{"a share file not on the board", func(t *testing.T, dir string) {
			writeFile(t, record.MixShareFile(dir, "priorities", 3), readFile(t, record.MixShareFile(dir, "priorities", 1)))
		}, "mixes/priorities/decryption-3.bin is in the record but not on the board"},
		{"a round file changed", func(t *testing.T, dir string) {
			name := record.MixRoundFile(dir, "priorities", 1, 1)
			b := readFile(t, name)
			b[7] ^= 1
			writeFile(t, name, b)
		}, "mixes/priorities/round-1-1.bin differs from the board's"},
		{"a round file missing", func(t *testing.T, dir string) {
			os.Remove(record.MixRoundFile(dir, "opinion", 1, 1))
		}, "mixes/opinion/round-1-1.bin is on the board but not in the record"},
		{"a part sequence interrupted", func(t *testing.T, dir string) {
			es := readEntries(t, dir)
			first, _ := mixEntries(es)
			// opinion comes second: find its first round's first part.
			for i := first; i < len(es); i++ {
				var p board.PartBody
				json.Unmarshal(es[i].Body, &p)
				if p.Question == "opinion" && p.Part == 1 && p.Parts > 1 {
					es = append(es[:i+1:i+1], append([]board.Entry{es[i-1]}, es[i+1:]...)...)
					break
				}
			}
			resign(t, dir, es, false)
		}, "does not continue the mix message"},
		{"a round entry before the tally", func(t *testing.T, dir string) {
			es := readEntries(t, dir)
			first, _ := mixEntries(es)
			tallyAt := 0
			for i, en := range es {
				if en.Type == board.TypeTally {
					tallyAt = i
				}
			}
			moved := es[first] // priorities' round 1: one part
			es = append(es[:first:first], es[first+1:]...)
			es = append(es[:tallyAt:tallyAt], append([]board.Entry{moved}, es[tallyAt:]...)...)
			resign(t, dir, es, false)
		}, "after the tally and before the results"},
		{"the results before the last share", func(t *testing.T, dir string) {
			es := readEntries(t, dir)
			start := 0 // the first part of the last message
			for i, en := range es {
				var p board.PartBody
				if (en.Type == board.TypeMix || en.Type == board.TypeMixDecryption) && json.Unmarshal(en.Body, &p) == nil && p.Part == 1 {
					start = i
				}
			}
			res := es[len(es)-1]
			es = append(es[:start:start], append([]board.Entry{res}, es[start:len(es)-1]...)...)
			resign(t, dir, es, false)
		}, "the results come before question \"opinion\"'s mix is done"},
		{"a round whose proof fails, on the board", func(t *testing.T, dir string) {
			es := readEntries(t, dir)
			first, _ := mixEntries(es)
			var p board.PartBody
			json.Unmarshal(es[first].Body, &p)
			msg, _ := board.JoinParts([][]byte{es[first].Body})
			msg[100] ^= 1
			body, _ := json.Marshal(board.SplitParts(p.Trustee, p.Question, msg)[0])
			es[first].Body = body
			resign(t, dir, es, true)
		}, "question \"priorities\" round 1 by trustee 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, dir0)
			tc.edit(t, dir)
			lines := failureLines(t, dir)
			for _, l := range lines {
				if strings.Contains(l, tc.want) {
					return
				}
			}
			t.Fatalf("no failure says %q:\n%s", tc.want, strings.Join(lines, "\n"))
		})
	}
}
