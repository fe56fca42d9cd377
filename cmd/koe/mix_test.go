package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/trusteeflow"
)

// mixFixture writes a demo record of the city survey, mixed and
// decrypted by trustees 1 and 3 (of 3, threshold 2), in a temporary
// directory: 12 voters, so that the free-text question's rounds and shares
// take two board entries each.
func mixFixture(t testing.TB) string {
	t.Helper()
	m, err := examples.Manifest("city-survey")
	must(t, err)
	dir := filepath.Join(t.TempDir(), "rec")
	s, err := demo.Run(demo.Options{Dir: dir, Manifest: m, Voters: 12, Absent: []int{2}, Seed: 7})
	must(t, err)
	if !s.Report.OK() {
		t.Fatalf("the fixture does not verify: %v", s.Report.Failures())
	}
	return dir
}

// copyRecord copies the record in src into a new directory.
func copyRecord(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "rec")
	must(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

// mixedOf loads the chains of the record in dir and returns their results.
func mixedOf(dir string) (string, error) {
	e, res, err := record.LoadElection(dir)
	if err != nil {
		return "", err
	}
	br, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		return "", err
	}
	n := br.Count
	br.Close()
	chains, err := loadChains(dir, e, res, n, io.Discard)
	if err != nil {
		return "", err
	}
	mixed, err := mixedResults(chains, e.Manifest.Threshold)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(mixed)
	return string(out), err
}

// wantMixed returns the fixture's mixed/ results as mixedOf prints them.
func wantMixed(t *testing.T, dir string) string {
	t.Helper()
	var all []json.RawMessage
	for _, q := range []string{"priorities", "opinion"} {
		data, err := os.ReadFile(record.MixedFile(dir, q))
		must(t, err)
		var c bytes.Buffer
		must(t, json.Compact(&c, data))
		all = append(all, c.Bytes())
	}
	out, err := json.Marshal(all)
	must(t, err)
	return string(out)
}

// boardOf writes the record's mix as board entries (every round, then
// every share, question by question), with extra entries spliced in by
// edit, to board/entries.jsonl, and removes mixes/: loadChains must then
// take the mix from the board.
func boardOf(t testing.TB, dir string, edit func([][]byte) [][]byte) {
	t.Helper()
	e, _, err := record.LoadElection(dir)
	must(t, err)
	var lines [][]byte
	add := func(typ string, j int, q string, msg []byte) {
		for _, p := range board.SplitParts(j, q, msg) {
			body, err := json.Marshal(p)
			must(t, err)
			raw, err := board.Entry{Type: typ, Election: e.Manifest.ID, Time: time.Unix(1800000000, 0), Body: body}.Encode()
			must(t, err)
			lines = append(lines, raw)
		}
	}
	for _, qi := range e.Manifest.Mixed() {
		q := e.Manifest.Questions[qi].ID
		files, err := record.ListMix(dir, q)
		must(t, err)
		for r, name := range files.Rounds {
			msg, err := os.ReadFile(name)
			must(t, err)
			add(board.TypeMix, files.Trustees[r], q, msg)
		}
		for _, j := range record.SortedKeys(files.Shares) {
			msg, err := os.ReadFile(files.Shares[j])
			must(t, err)
			add(board.TypeMixDecryption, j, q, msg)
		}
	}
	if edit != nil {
		lines = edit(lines)
	}
	must(t, os.RemoveAll(filepath.Join(dir, record.MixesDir)))
	must(t, os.MkdirAll(filepath.Join(dir, "board"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)), append(bytes.Join(lines, []byte("\n")), '\n'), 0o644))
}

// TestLoadChains: the mix rebuilt from a record's mixes/ files, or from
// its board's entries, gives the record's mixed/ results; every way a
// round, a share or the board's parts can be wrong is refused, naming the
// question, round or trustee and file or entry.
func TestLoadChains(t *testing.T) {
	src := mixFixture(t)
	want := wantMixed(t, src)
	t.Run("files", func(t *testing.T) {
		got, err := mixedOf(copyRecord(t, src))
		if err != nil || got != want {
			t.Fatalf("got %s, %v\nwant %s", got, err, want)
		}
	})
	t.Run("board", func(t *testing.T) {
		dir := copyRecord(t, src)
		boardOf(t, dir, nil)
		got, err := mixedOf(dir)
		if err != nil || got != want {
			t.Fatalf("got %s, %v\nwant %s", got, err, want)
		}
	})
	mix := func(dir string) string { return filepath.Join(dir, record.MixesDir, "opinion") }
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, dir string)
		error string
	}{
		{"round of another trustee", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(mix(dir), "round-2-3.bin"), filepath.Join(mix(dir), "round-2-2.bin")))
		}, `round-2-2.bin: invalid mix round: question "opinion" round 2: not attested by trustee 2`},
		{"round missing", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(mix(dir), "round-1-1.bin")))
		}, "mixes/opinion: round 1 is missing"},
		{"round tampered", func(t *testing.T, dir string) {
			name := filepath.Join(mix(dir), "round-1-1.bin")
			data, err := os.ReadFile(name)
			must(t, err)
			data[len(data)-1] ^= 1
			must(t, os.WriteFile(name, data, 0o644))
		}, `round-1-1.bin: invalid mix round`},
		{"round too long", func(t *testing.T, dir string) {
			name := filepath.Join(mix(dir), "round-1-1.bin")
			data, err := os.ReadFile(name)
			must(t, err)
			must(t, os.WriteFile(name, append(data, 0), 0o644))
		}, `question "opinion" round 1 by trustee 1: round-1-1.bin: larger than`},
		{"share of another trustee", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(mix(dir), "decryption-3.bin"), filepath.Join(mix(dir), "decryption-2.bin")))
		}, `decryption-2.bin: invalid decryption of the mixed list: question "opinion"`},
		{"share missing", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(mix(dir), "decryption-3.bin")))
		}, `question "opinion": 1 trustees decrypted the mixed list, the threshold is 2`},
		{"round on the board interrupted", func(t *testing.T, dir string) {
			boardOf(t, dir, func(lines [][]byte) [][]byte {
				i := firstPart(t, lines, 2)
				return append(lines[:i+1], append([][]byte{lines[0]}, lines[i+1:]...)...)
			})
		}, "does not continue the mix message of trustee 1"},
		{"board ends inside a message", func(t *testing.T, dir string) {
			boardOf(t, dir, func(lines [][]byte) [][]byte { return lines[:len(lines)-1] })
		}, "the entries end inside a mix message"},
		{"share on the board before the rounds", func(t *testing.T, dir string) {
			boardOf(t, dir, func(lines [][]byte) [][]byte {
				var shares, others [][]byte
				for _, l := range lines {
					if bytes.Contains(l, []byte(`"type":"mix-decryption"`)) && len(shares) < 2 {
						shares = append(shares, l)
					} else {
						others = append(others, l)
					}
				}
				return append(shares, others...)
			})
		}, "the mix is not complete"},
		{"unknown question on the board", func(t *testing.T, dir string) {
			boardOf(t, dir, func(lines [][]byte) [][]byte {
				lines[0] = bytes.Replace(lines[0], []byte(`"question":"priorities"`), []byte(`"question":"age"`), 1)
				return lines
			})
		}, `no text or rank question "age"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRecord(t, src)
			tc.edit(t, dir)
			_, err := mixedOf(dir)
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("error %v, want one containing %q", err, tc.error)
			}
		})
	}
}

// firstPart returns the index of the first entry that is part 1 of a
// message of parts parts.
func firstPart(t *testing.T, lines [][]byte, parts int) int {
	t.Helper()
	for i, l := range lines {
		if bytes.Contains(l, []byte(fmt.Sprintf(`"part":1,"parts":%d`, parts))) {
			return i
		}
	}
	t.Fatalf("no message of %d parts", parts)
	return 0
}

// FuzzChainsFromBoard feeds arbitrary board entries to the mix's reader:
// it must refuse or accept without panicking, and never accept more than
// t rounds of a question. Its election needs no ceremony (a random key,
// two ballots), so that every execution is quick.
func FuzzChainsFromBoard(f *testing.F) {
	manifest, err := examples.Manifest("city-survey")
	must(f, err)
	x, err := group.RandomScalar(rand.Reader)
	must(f, err)
	e, err := ballot.NewElection(manifest, group.NewElement().ScalarBaseMult(x), ballot.NoRegistrar)
	must(f, err)
	var ballots []*ballot.Ballot
	for _, a := range []ballot.Answers{
		{"science-city": 3.0, "priorities": []any{"shelters"}, "opinion": "特になし"},
		{"science-city": 5.0, "priorities": []any{"bike-lanes", "shelters"}},
	} {
		pt, err := e.Manifest.Plaintext(a)
		must(f, err)
		b, _, err := ballot.Encrypt(rand.Reader, e, [32]byte{}, pt)
		must(f, err)
		ballots = append(ballots, b)
	}
	keys := map[int]*group.Element{1: e.Key, 2: e.Key, 3: e.Key}
	newChains := func(t testing.TB) map[string]*mixnet.Chain {
		byID := map[string]*mixnet.Chain{}
		for _, qi := range e.Manifest.Mixed() {
			c, err := mixnet.NewChain(e, qi, ballots, keys, e.Manifest.Threshold)
			must(t, err)
			byID[c.ID] = c
		}
		return byID
	}
	entry := func(typ string, j int, q string, msg []byte) []byte {
		var lines [][]byte
		for _, p := range board.SplitParts(j, q, msg) {
			body, err := json.Marshal(p)
			must(f, err)
			raw, err := board.Entry{Type: typ, Election: e.Manifest.ID, Time: time.Unix(1800000000, 0), Body: body}.Encode()
			must(f, err)
			lines = append(lines, raw)
		}
		return bytes.Join(lines, []byte("\n"))
	}
	// Seeds: a valid round of each question, and a short one.
	chains := newChains(f)
	var valid [][]byte
	for _, q := range []string{"priorities", "opinion"} {
		msg, err := chains[q].Mix(rand.Reader, 1, x)
		must(f, err)
		valid = append(valid, entry(board.TypeMix, 1, q, msg))
		f.Add(entry(board.TypeMix, 2, q, msg[:100]))
	}
	f.Add(bytes.Join(valid, []byte("\n")))
	f.Add([]byte(`{"type":"mix","election":"x","time":"2027-01-15T08:00:00Z","body":{"trustee":1,"question":"opinion","part":1,"parts":1,"data":"AA=="}}`))
	dir := f.TempDir()
	name := filepath.Join(dir, filepath.FromSlash(record.BoardEntries))
	must(f, os.MkdirAll(filepath.Dir(name), 0o755))
	noStep := func(*mixnet.Chain, string) func() { return func() {} }
	f.Fuzz(func(t *testing.T, entries []byte) {
		if err := os.WriteFile(name, entries, 0o644); err != nil {
			t.Fatal(err)
		}
		byID := newChains(t)
		if err := trusteeflow.ChainsFromBoard(dir, byID, noStep); err != nil {
			return
		}
		for _, c := range byID {
			if len(c.Rounds) > e.Manifest.Threshold {
				t.Fatalf("question %s: %d rounds accepted", c.ID, len(c.Rounds))
			}
		}
	})
}
