package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

// mixBoard is a board of entries made one by one for the lifecycle rules
// of the mix (SPEC.md §16.6): the city survey's manifest, 3 qualified
// trustees, threshold 2, 12 counted ballots. The messages' bytes are not
// rounds or shares (the rules here need none: §11 step 11 checks them on
// the record's files), but they have the exact sizes.
type mixBoard struct {
	e     *ballot.Election
	res   *ceremony.Result
	n     int
	width map[string]int
}

func newMixBoard(t *testing.T) *mixBoard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "city-survey.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ballot.NewElection(data, group.BaseMul(group.ScalarFromUint64(5)), [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[int]*group.Element{}
	for j := 1; j <= 3; j++ {
		keys[j] = group.BaseMul(group.ScalarFromUint64(uint64(j)))
	}
	b := &mixBoard{e: e, res: &ceremony.Result{VerificationKeys: keys}, n: 12, width: map[string]int{}}
	for _, qi := range e.Manifest.Mixed() {
		b.width[e.Manifest.Questions[qi].ID] = e.Style.Questions[qi].Selections
	}
	return b
}

func entry(typ string, body any) board.Entry {
	raw, _ := json.Marshal(body)
	return board.Entry{Type: typ, Election: "e", Time: time.Unix(1e9, 0), Body: raw}
}

// parts returns the entries of a message of the given size.
func (b *mixBoard) parts(typ string, j int, q string, size int) []board.Entry {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i)
	}
	var out []board.Entry
	for _, p := range board.SplitParts(j, q, msg) {
		out = append(out, entry(typ, p))
	}
	return out
}

func (b *mixBoard) round(j int, q string) []board.Entry {
	return b.parts(board.TypeMix, j, q, mixnet.RoundSize(b.n, b.width[q]))
}

func (b *mixBoard) share(j int, q string) []board.Entry {
	return b.parts(board.TypeMixDecryption, j, q, tally.ListShareSize(b.n*b.width[q]))
}

// head is the board up to its tally (the lifecycle's part of it).
func (b *mixBoard) head() []board.Entry {
	return []board.Entry{entry(board.TypeManifest, map[string]string{"manifest": ""}),
		entry(board.TypeRegistrarKey, board.RegistrarKeyBody{Key: "k"}),
		entry(board.TypeElectionKey, map[string]string{}), entry(board.TypeOpen, map[string]string{}),
		entry(board.TypeClose, map[string]string{}), entry(board.TypeTally, map[string]string{})}
}

func cat(lists ...[]board.Entry) []board.Entry {
	var out []board.Entry
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func (b *mixBoard) check(entries []board.Entry) *Report {
	r := &Report{}
	checkLifecycle(r, entries, b.e, b.res, b.n)
	return r
}

func TestBoardMixLifecycle(t *testing.T) {
	b := newMixBoard(t)
	results := []board.Entry{entry(board.TypeResults, map[string]string{})}
	if len(b.round(1, "opinion")) < 2 || len(b.share(1, "opinion")) < 2 {
		t.Fatal("the opinion question's messages should span several parts")
	}
	mixes := cat(b.round(1, "opinion"), b.round(3, "priorities"), b.round(2, "opinion"), b.round(1, "priorities"),
		b.share(2, "opinion"), b.share(1, "opinion"), b.share(3, "priorities"), b.share(1, "priorities"))
	honest := cat(b.head(), mixes, results)
	if r := b.check(honest); !r.OK() {
		t.Fatalf("honest board: %+v", r.Failures())
	}
	tallyAt := len(b.head()) - 1
	r1 := b.round(1, "opinion")
	swap := func(l []board.Entry) []board.Entry { return []board.Entry{l[1], l[0]} }
	for _, tc := range []struct {
		name    string
		entries []board.Entry
		want    string
	}{
		{"a round entry before the tally", cat(b.head()[:tallyAt], b.round(1, "priorities"), b.head()[tallyAt:]),
			"after the tally and before the results"},
		{"a round entry after the results", cat(honest, b.round(3, "opinion")), "after the tally and before the results"},
		{"an interrupted part sequence", cat(b.head(), r1[:1], []board.Entry{entry(board.TypeDecryption, map[string]string{})}, r1[1:]),
			"interrupts the mix message of trustee 1"},
		{"a part of another message in between", cat(b.head(), r1[:1], b.round(2, "priorities"), r1[1:]),
			"does not continue the mix message of trustee 1"},
		{"the parts out of order", cat(b.head(), swap(r1)), "part 2 of 2 without the parts before it"},
		{"a part repeated", cat(b.head(), r1[:1], r1[:1]), "does not continue"},
		{"the board ends inside a message", cat(b.head(), r1[:1]), "ends inside a mix message"},
		{"a message of the wrong size", cat(b.head(), b.parts(board.TypeMix, 1, "opinion", mixnet.RoundSize(b.n, b.width["opinion"])-1)),
			"holds 48839 bytes, not 48840"},
		{"a message with too few parts", cat(b.head(), b.parts(board.TypeMix, 1, "opinion", 100)), "1 parts; a message of 48840 bytes has 2"},
		{"a share before the t-th round", cat(b.head(), b.round(1, "opinion"), b.share(1, "opinion")),
			"a decryption of question \"opinion\" before its 2 rounds (it has 1)"},
		{"a third round", cat(b.head(), b.round(1, "opinion"), b.round(2, "opinion"), b.round(3, "opinion")),
			"already has its 2 rounds"},
		{"a trustee mixing twice", cat(b.head(), b.round(2, "opinion"), b.round(2, "opinion")), "trustee 2 already mixed question \"opinion\" (round 1)"},
		{"a round by a trustee not qualified", cat(b.head(), b.round(4, "opinion")), "trustee 4 is not a qualified trustee"},
		{"a trustee decrypting twice", cat(b.head(), b.round(2, "opinion"), b.round(1, "opinion"), b.share(3, "opinion"), b.share(3, "opinion")),
			"trustee 3 already decrypted question \"opinion\""},
		{"a mix of a tallied question", cat(b.head(), b.parts(board.TypeMix, 1, "age", 100)), "\"age\" is not a text or rank question"},
		{"results before the mix is done", cat(b.head(), b.round(1, "priorities"), b.round(2, "priorities"), b.share(1, "priorities"), b.share(2, "priorities"),
			b.round(1, "opinion"), b.round(2, "opinion"), b.share(1, "opinion"), results),
			"the results come before question \"opinion\"'s mix is done: 2 of its 2 rounds, 1 decryptions"},
		{"results without any mix", cat(b.head(), results), "the results come before question \"priorities\"'s mix is done: 0 of its 2 rounds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.check(tc.entries)
			if r.OK() {
				t.Fatal("accepted")
			}
			if f := r.Failures(); !strings.Contains(f[0].Detail, tc.want) {
				t.Fatalf("got %+v, want a failure saying %q", f, tc.want)
			}
		})
	}
	t.Run("no mix below the privacy threshold", func(t *testing.T) {
		low := *b
		low.n = 3
		r := low.check(cat(b.head(), low.round(1, "opinion")))
		if f := r.Failures(); len(f) == 0 || !strings.Contains(f[0].Detail, "below the privacy threshold of 10") {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("without an election a mix entry is refused", func(t *testing.T) {
		r := &Report{}
		if checkLifecycle(r, cat(b.head(), b.round(1, "opinion")), nil, nil, 0) {
			t.Fatal("accepted")
		}
	})
}

// TestBoardMixFiles: for a record with a board, the round and share files
// of mixes/ are exactly the ones the entries imply (SPEC.md §16.6), other
// files there are ignored.
func TestBoardMixFiles(t *testing.T) {
	b := newMixBoard(t)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "city-survey.json"))
	if err != nil {
		t.Fatal(err)
	}
	entries := cat([]board.Entry{entry(board.TypeManifest, board.ManifestBody{Manifest: manifestB64(manifest)})},
		b.round(3, "opinion"), b.round(1, "opinion"), b.share(2, "opinion"))
	derived, err := record.FromBoard(entries)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range derived {
		if strings.HasPrefix(name, record.MixesDir) {
			names = append(names, name)
		}
	}
	want := map[string]bool{"mixes/opinion/round-1-3.bin": true, "mixes/opinion/round-2-1.bin": true, "mixes/opinion/decryption-2.bin": true}
	if len(names) != len(want) {
		t.Fatalf("derived %v", names)
	}
	for _, n := range names {
		if !want[n] {
			t.Fatalf("derived %v", names)
		}
	}
	write := func(dir, name string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mixOnly := func() map[string][]byte {
		out := map[string][]byte{}
		for name, data := range derived {
			if strings.HasPrefix(name, record.MixesDir) {
				out[name] = data
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		edit func(dir string)
		want string // "" for none
	}{
		{"the same files", func(string) {}, ""},
		{"another file ignored", func(dir string) { write(dir, "mixes/opinion/notes.txt", []byte("x")) }, ""},
		{"an extra round file", func(dir string) { write(dir, "mixes/opinion/round-3-2.bin", []byte("x")) }, "mixes/opinion/round-3-2.bin is in the record but not on the board"},
		{"an extra share file", func(dir string) { write(dir, "mixes/opinion/decryption-1.bin", []byte("x")) }, "mixes/opinion/decryption-1.bin is in the record but not on the board"},
		{"a round file of another question", func(dir string) { write(dir, "mixes/other/round-1-1.bin", []byte("x")) }, "mixes/other/round-1-1.bin is in the record but not on the board"},
		{"a round file renamed", func(dir string) {
			os.Rename(filepath.Join(dir, "mixes/opinion/round-2-1.bin"), filepath.Join(dir, "mixes/opinion/round-2-2.bin"))
		}, "mixes/opinion/round-2-1.bin is on the board but not in the record"},
		{"a share changed", func(dir string) {
			data := derived["mixes/opinion/decryption-2.bin"]
			write(dir, "mixes/opinion/decryption-2.bin", append([]byte{data[0] ^ 1}, data[1:]...))
		}, "mixes/opinion/decryption-2.bin differs from the board's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := mixOnly()
			for name, data := range files {
				write(dir, name, data)
			}
			tc.edit(dir)
			r := &Report{}
			ok := sameFiles(r, dir, files)
			if tc.want == "" {
				if !ok {
					t.Fatalf("%+v", r.Failures())
				}
				return
			}
			if ok {
				t.Fatal("accepted")
			}
			for _, f := range r.Failures() {
				if strings.Contains(f.Detail, tc.want) {
					return
				}
			}
			t.Fatalf("got %+v, want %q", r.Failures(), tc.want)
		})
	}
	t.Run("FromBoard refuses", func(t *testing.T) {
		head := []board.Entry{entry(board.TypeManifest, board.ManifestBody{Manifest: manifestB64(manifest)})}
		r1 := b.round(1, "opinion")
		for _, tc := range []struct {
			name    string
			entries []board.Entry
			want    string
		}{
			{"an interrupted message", cat(head, r1[:1], []board.Entry{entry(board.TypeClose, map[string]string{})}, r1[1:]), "interrupts"},
			{"a board ending inside a message", cat(head, r1[:1]), "ends inside a mix message"},
			{"a mix of an unknown question", cat(head, b.parts(board.TypeMix, 1, "../../x", 10)), "not a text or rank question"},
			{"two shares of one trustee", cat(head, b.share(2, "opinion"), b.share(2, "opinion")), "second decryption"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := record.FromBoard(tc.entries); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want %q", err, tc.want)
				}
			})
		}
	})
}

func manifestB64(m []byte) string {
	raw, _ := json.Marshal(m) // a []byte marshals as standard padded base64
	var s string
	json.Unmarshal(raw, &s)
	return s
}
