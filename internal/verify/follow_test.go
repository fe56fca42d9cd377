package verify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
)

// serverLines returns the exact bytes of the server record's entries.
func serverLines(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(serverRecord, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func serverManifest(t testing.TB) []byte {
	t.Helper()
	m, err := os.ReadFile(filepath.Join(serverRecord, record.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFollowerServerRecord: the server record's board, fed one entry at a
// time, passes every incremental check and ends published.
func TestFollowerServerRecord(t *testing.T) {
	f := verify.NewFollower("shin-chosha-server", serverManifest(t))
	for i, raw := range serverLines(t) {
		if err := f.Add(raw); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if !f.Published() || f.Size() != 37 || f.Ballots() == 0 {
		t.Fatalf("phase %s, size %d, %d ballots", f.Phase(), f.Size(), f.Ballots())
	}
}

// TestFollowerLifecycle: a board out of lifecycle order fails the
// follower with the error the whole-record verification gives (the same
// rules, lifecycle.add), and the follower refuses every later entry.
func TestFollowerLifecycle(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(es []board.Entry) []board.Entry
	}{
		{"a ballot before open", "only while the election is open", func(es []board.Entry) []board.Entry {
			return append(es[:16:16], append([]board.Entry{es[19]}, es[16:]...)...)
		}},
		{"two registrar keys", "a second registrar key", func(es []board.Entry) []board.Entry {
			return append(es[:2:2], append([]board.Entry{es[1]}, es[2:]...)...)
		}},
		{"manifest not first", "entry 0 is not the manifest", func(es []board.Entry) []board.Entry {
			return append([]board.Entry{es[1], es[0]}, es[2:]...)
		}},
		{"a second tally", "the tally follows the close, once", func(es []board.Entry) []board.Entry {
			return append(es[:34:34], append([]board.Entry{es[33]}, es[34:]...)...)
		}},
		{"open without an election key", "before its election key is on the board", func(es []board.Entry) []board.Entry {
			return append(es[:15:15], es[16:]...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			es := c.edit(readEntries(t, serverRecord))
			f := verify.NewFollower("shin-chosha-server", nil)
			var failed *verify.EntryError
			for _, e := range es {
				raw, err := e.Encode()
				if err != nil {
					t.Fatal(err)
				}
				err = f.Add(raw)
				if err == nil {
					continue
				}
				if failed == nil {
					if !errors.As(err, &failed) || !failed.Fatal || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("%v, want a fatal error saying %q", err, c.want)
					}
				} else if !strings.Contains(err.Error(), "not checked") {
					t.Fatalf("after a fatal error: %v", err)
				}
			}
			if failed == nil {
				t.Fatalf("the board verified; want %q", c.want)
			}
			dir := copyServerRecord(t)
			resign(t, dir, es, true)
			wantBoardFailure(t, dir, c.want)
		})
	}
}

// TestFollowerInvalidEnvelope: a cast whose signature does not verify is
// an invalid entry, named with its index; the follower goes on, and the
// entries after it are checked.
func TestFollowerInvalidEnvelope(t *testing.T) {
	lines := serverLines(t)
	f := verify.NewFollower("shin-chosha-server", nil)
	var bad []int64
	var msgs []string
	for i, raw := range lines {
		if i == 19 {
			e, _ := board.DecodeEntry(raw)
			var env map[string]any
			if err := json.Unmarshal(e.Body, &env); err != nil {
				t.Fatal(err)
			}
			sig := []byte(env["signature"].(string))
			sig[3] ^= 'A' ^ 'B'
			if sig[3] == '+' || sig[3] == '/' {
				sig[3] = 'C'
			}
			env["signature"] = string(sig)
			e.Body, _ = json.Marshal(env)
			raw, _ = e.Encode()
		}
		err := f.Add(raw)
		var ee *verify.EntryError
		switch {
		case err == nil:
		case errors.As(err, &ee) && !ee.Fatal:
			bad, msgs = append(bad, ee.Index), append(msgs, ee.Error())
		default:
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	// Entry 20 is the same voter's second cast (counter 2): with its
	// first invalid, it skips a counter (SPEC.md §15.4 rule 1).
	if len(bad) != 2 || bad[0] != 19 || bad[1] != 20 || !strings.Contains(msgs[1], "counter 2 skips") || !f.Published() {
		t.Fatalf("invalid entries %v (%q), phase %s; want [19 20], published", bad, msgs, f.Phase())
	}
}

// TestFollowerPinnedManifest: a board whose manifest is not the
// election's is refused at the entry that binds it, the first ceremony
// message (a draft's manifest may be superseded before, SPEC.md §13.6 L1).
func TestFollowerPinnedManifest(t *testing.T) {
	other := bytes.Replace(serverManifest(t), []byte(`"ja"`), []byte(`"ja" `), 1)
	f := verify.NewFollower("shin-chosha-server", other)
	var err error
	at := -1
	for i, line := range serverLines(t) {
		if err = f.Add(line); err != nil {
			at = i
			break
		}
	}
	var ee *verify.EntryError
	if err == nil || !strings.Contains(err.Error(), "is not the election's") || !errors.As(err, &ee) || ee.Type != "announce" {
		t.Fatalf("entry %d: %v; want the first announce refused", at, err)
	}
	if f := verify.NewFollower("another-election", nil); f.Add(serverLines(t)[0]) == nil {
		t.Fatal("an entry of another election was accepted")
	}
}

// FuzzFollower feeds arbitrary bytes after a real board's setup entries:
// the follower never panics, and what it accepts decodes as an entry.
func FuzzFollower(f *testing.F) {
	lines := serverLines(f)
	for _, l := range lines[16:24] {
		f.Add(l)
	}
	f.Add([]byte(`{"type":"close","election":"shin-chosha-server","time":"2026-12-07T07:58:00Z","body":{}}`))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fl := verify.NewFollower("shin-chosha-server", nil)
		for _, l := range lines[:17] {
			if err := fl.Add(l); err != nil {
				t.Fatal(err)
			}
		}
		if err := fl.Add(raw); err == nil {
			if _, err := board.DecodeEntry(raw); err != nil {
				t.Fatalf("accepted an entry that does not decode: %v", err)
			}
		}
	})
}

// TestFollowerMixEntries: the follower keeps the mix rules of SPEC.md
// §16.6 (the lifecycle's, as the whole-board check): mix entries only
// after the tally and before the results, of a text or rank question; the
// server record's election has none, so every mix entry is refused. The
// whole-record check refuses the same boards.
func TestFollowerMixEntries(t *testing.T) {
	mixEntry := func(es []board.Entry, typ, q string) board.Entry {
		body, _ := json.Marshal(board.SplitParts(1, q, []byte("0123456789"))[0])
		return board.Entry{Type: typ, Election: es[0].Election, Time: es[33].Time, Body: body}
	}
	for _, c := range []struct {
		name, want, recordWant string
		edit                   func(es []board.Entry) []board.Entry
	}{
		{"a round before the tally", "after the tally and before the results", "not a text or rank question", func(es []board.Entry) []board.Entry {
			return append(es[:33:33], append([]board.Entry{mixEntry(es, board.TypeMix, "plan")}, es[33:]...)...)
		}},
		{"a share after the results", "after the tally and before the results", "not a text or rank question", func(es []board.Entry) []board.Entry {
			return append(es, mixEntry(es, board.TypeMixDecryption, "plan"))
		}},
		{"a round of a tallied question", "\"plan\" is not a text or rank question", "not a text or rank question", func(es []board.Entry) []board.Entry {
			return append(es[:34:34], append([]board.Entry{mixEntry(es, board.TypeMix, "plan")}, es[34:]...)...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			es := c.edit(readEntries(t, serverRecord))
			f := verify.NewFollower("shin-chosha-server", nil)
			var failed error
			for _, e := range es {
				raw, err := e.Encode()
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Add(raw); err != nil {
					failed = err
					break
				}
			}
			var ee *verify.EntryError
			if !errors.As(failed, &ee) || !ee.Fatal || !strings.Contains(failed.Error(), c.want) {
				t.Fatalf("%v, want a fatal error saying %q", failed, c.want)
			}
			dir := copyServerRecord(t)
			resign(t, dir, es, false)
			wantBoardFailure(t, dir, c.recordWant)
		})
	}
}
