package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
)

// serverRecord is the server-exported record of testdata/vectors: 37
// entries (0 manifest, 1 registrar-key, 2–13 ceremony, 14 roll, 15
// election-key, 16 open, 17–31 registrations, casts and a spoil, 32 close,
// 33 tally, 34–35 decryptions, 36 results).
var serverRecord = filepath.Join("..", "..", "testdata", "vectors", "server-record")

// copyServerRecord copies the server record into a fresh directory.
func copyServerRecord(t *testing.T) string { return copyDir(t, serverRecord) }

func readEntries(t *testing.T, dir string) []board.Entry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		t.Fatal(err)
	}
	var out []board.Entry
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		e, err := board.DecodeEntry(line)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// vectorBoardSeed is the seed of the board key that signed server-record
// (internal/vectors/server_record_test.go): a published test key, so that
// a test may re-sign a doctored board with the key its manifest names.
var vectorBoardSeed = sha256.Sum256([]byte("koe/v2 test vectors: the server-record board key"))

// vectorBoardKey returns the signer and verifier key text of the vector
// board key under origin (SPEC.md §13.3).
func vectorBoardKey(t *testing.T, origin string) (note.Signer, string) {
	return boardKeyOf(t, origin, ed25519.NewKeyFromSeed(vectorBoardSeed[:]))
}

func boardKeyOf(t *testing.T, origin string, key ed25519.PrivateKey) (note.Signer, string) {
	t.Helper()
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.SplitN(vkey, "+", 3)[1]
	skey := "PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, key.Seed()...))
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, vkey
}

// resign writes entries as the record's board, signs a checkpoint over
// them with the vector board key (so that only the property under test is
// wrong)
// and, if derive is set, rewrites the record's files as the entries imply
// them (record.FromBoard).
func resign(t *testing.T, dir string, entries []board.Entry, derive bool) {
	t.Helper()
	var lines []byte
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		enc, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, enc...), '\n')
		hs, err := tlog.StoredHashes(int64(i), enc, reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	root, err := tlog.TreeHash(int64(len(entries)), reader)
	if err != nil {
		t.Fatal(err)
	}
	origin := board.Origin("koe.example", entries[0].Election)
	signer, vkey := vectorBoardKey(t, origin)
	text := origin + "\n" + itoa(len(entries)) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(record.BoardEntries, lines)
	write(record.BoardCheckpoint, signed)
	write(record.BoardKey, []byte(vkey+"\n"))
	if !derive {
		return
	}
	files, err := record.FromBoard(entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{record.Election, record.Ballots, record.Spoiled, record.Tally, record.Results} {
		os.Remove(filepath.Join(dir, name))
	}
	os.RemoveAll(filepath.Join(dir, record.DecryptDir))
	for name, data := range files {
		write(name, data)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// wantBoardFailure verifies dir and requires a failure of the board check
// that says want, and no check at all after the board's (SPEC.md §11 step
// 10: a board failure stops verification).
func wantBoardFailure(t *testing.T, dir, want string) {
	t.Helper()
	rep := verify.Record(dir, verify.Options{})
	if rep.OK() {
		t.Fatalf("a doctored board verified; want a failure saying %q", want)
	}
	found := false
	for i, c := range rep.Checks {
		if c.What == "board" && !c.OK && strings.Contains(c.Detail, want) {
			found = true
		}
		if found && c.What != "board" {
			t.Fatalf("check %d (%s: %s) ran after the board failed", i, c.What, c.Detail)
		}
	}
	if !found {
		t.Fatalf("no board failure says %q: %+v", want, rep.Failures())
	}
}

func TestResignedServerRecordVerifies(t *testing.T) {
	dir := copyServerRecord(t)
	resign(t, dir, readEntries(t, dir), true)
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("%+v", rep.Failures())
	}
}

// TestResignedBoardRefused is the re-signed-board attack (crypto-audit
// M3): every entry kept, the checkpoint signed with a fresh key that
// board/key names. Nothing else in the record anchors the key, so it
// verified; the manifest, whose hash the city publishes, now names the
// board's key (SPEC.md §7.1, §13.6 step 1).
func TestResignedBoardRefused(t *testing.T) {
	dir := copyServerRecord(t)
	resign(t, dir, readEntries(t, dir), true)
	_, fresh, _ := ed25519.GenerateKey(rand.Reader)
	cpPath := filepath.Join(dir, filepath.FromSlash(record.BoardCheckpoint))
	old, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ := bytes.Cut(old, []byte("\n\n"))
	origin, _, _ := strings.Cut(string(text), "\n")
	signer, vkey := boardKeyOf(t, origin, fresh)
	signed, err := note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cpPath, signed, 0o644)
	os.WriteFile(filepath.Join(dir, filepath.FromSlash(record.BoardKey)), []byte(vkey+"\n"), 0o644)
	wantBoardFailure(t, dir, "is not the manifest's board key")
}

// TestBoardKeyFile: board/key is the verifier key text and exactly one
// "\n" (SPEC.md §10.1), the text in its one canonical form (§13.3).
func TestBoardKeyFile(t *testing.T) {
	key, err := os.ReadFile(filepath.Join(serverRecord, filepath.FromSlash(record.BoardKey)))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(string(key), "\n")
	name, rest, _ := strings.Cut(text, "+")
	hash, b64, _ := strings.Cut(rest, "+")
	for _, c := range []struct{ why, file string }{
		{"no final newline", text},
		{"two final newlines", text + "\n\n"},
		{"CRLF", text + "\r\n"},
		{"leading space", " " + text + "\n"},
		{"trailing space", text + " \n"},
		{"upper-case key hash", name + "+" + strings.ToUpper(hash) + "+" + b64 + "\n"},
		{"line break in the base64", name + "+" + hash + "+" + b64[:20] + "\n" + b64[20:] + "\n"},
	} {
		t.Run(c.why, func(t *testing.T) {
			if c.file == string(key) {
				t.Skip("the key hash has no letters") // only for the upper-case case
			}
			dir := copyServerRecord(t)
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(record.BoardKey)), []byte(c.file), 0o644); err != nil {
				t.Fatal(err)
			}
			wantBoardFailure(t, dir, record.BoardKey)
		})
	}
}

// TestBoardLifecycle: the rules of SPEC.md §13.6 step 4 on boards that a
// server would never write, each re-signed and with the record's files
// derived from them, so only the rule under test is broken.
func TestBoardLifecycle(t *testing.T) {
	type edit func(es []board.Entry) []board.Entry
	move := func(from, to int) edit { // move entry from to position to
		return func(es []board.Entry) []board.Entry {
			e := es[from]
			es = append(es[:from:from], es[from+1:]...)
			return append(es[:to:to], append([]board.Entry{e}, es[to:]...)...)
		}
	}
	insert := func(at int, e board.Entry) edit {
		return func(es []board.Entry) []board.Entry {
			return append(es[:at:at], append([]board.Entry{e}, es[at:]...)...)
		}
	}
	entry := func(es []board.Entry, typ, body string) board.Entry {
		return board.Entry{Type: typ, Election: es[0].Election, Time: es[0].Time, Body: json.RawMessage(body)}
	}
	for _, c := range []struct {
		name, want string
		edit       func(es []board.Entry) []board.Entry
	}{
		{"registrar key after open", "the election opens before the registrar key is on the board", move(1, 16)},
		{"registrar key after the ballots", "the election opens before the registrar key is on the board", move(1, 31)},
		{"a second registrar key after open", "a second registrar key", func(es []board.Entry) []board.Entry { return insert(20, es[1])(es) }},
		{"two registrar keys", "a second registrar key", func(es []board.Entry) []board.Entry { return insert(2, es[1])(es) }},
		{"no registrar key", "registrar", func(es []board.Entry) []board.Entry {
			return append(es[:1:1], es[2:]...)
		}},
		{"an earlier, different election key", "differs from the one in an earlier election-key entry", func(es []board.Entry) []board.Entry {
			other := bytes.Replace(es[15].Body, []byte(`"threshold":2`), []byte(`"threshold":3`), 1)
			return insert(15, entry(es, board.TypeElectionKey, string(other)))(es)
		}},
		{"the election key repeated", "", func(es []board.Entry) []board.Entry { return insert(15, es[15])(es) }},
		{"open without an election key", "before its election key is on the board", func(es []board.Entry) []board.Entry {
			return append(es[:15:15], es[16:]...)
		}},
		{"election key after open", "the election opens before its election key is on the board", move(15, 16)},
		{"the election key repeated after open", "the election key comes before the election opens", func(es []board.Entry) []board.Entry { return insert(20, es[15])(es) }},
		{"manifest not first", "entry 0 is not the manifest", move(0, 1)},
		{"roll after close", "the roll is published before the election opens", func(es []board.Entry) []board.Entry {
			return insert(33, entry(es, board.TypeRoll, `{"commitments":["`+strings.Repeat("ab", 32)+`"]}`))(es)
		}},
		{"upper-case roll commitment", "credential-issued entry", func(es []board.Entry) []board.Entry {
			for i, en := range es {
				if en.Type == board.TypeCredentialIssued {
					es[i].Body = json.RawMessage(strings.ToUpper(string(en.Body)))
					es[i].Body = bytes.Replace(es[i].Body, []byte(`"ROLL"`), []byte(`"roll"`), 1)
					es[i].Body = bytes.Replace(es[i].Body, []byte(`"DIGITALID"`), []byte(`"digitalId"`), 1)
					break
				}
			}
			return es
		}},
		{"a ballot before open", "only while the election is open", move(19, 16)},
		{"a decryption after the results", "decryptions follow the tally and precede the results", move(34, 36)},
		{"a second tally", "the tally follows the close, once", func(es []board.Entry) []board.Entry { return insert(34, es[33])(es) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyServerRecord(t)
			es := c.edit(readEntries(t, dir))
			resign(t, dir, es, true)
			if c.want == "" { // allowed
				if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
					t.Fatalf("%+v", rep.Failures())
				}
				return
			}
			wantBoardFailure(t, dir, c.want)
		})
	}
}

// TestBoardSpoiledFile: spoiled.jsonl is compared with the board line by
// line, each line as compact JSON (SPEC.md §13.6 step 3).
func TestBoardSpoiledFile(t *testing.T) {
	name := filepath.Join(serverRecord, record.Spoiled)
	orig, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		why, data, want string
	}{
		{"a garbage line added", string(orig) + "not json\n", "spoiled.jsonl differs from the board's"},
		{"a line repeated", string(orig) + string(orig), "spoiled.jsonl differs from the board's"},
		{"a key renamed", strings.Replace(string(orig), `"values"`, `"Values"`, 1), "spoiled.jsonl differs from the board's"},
		{"an escape in a string (the same value)", escapeFirstA(string(orig)), "spoiled.jsonl differs from the board's"},
	} {
		t.Run(c.why, func(t *testing.T) {
			if c.data == string(orig) {
				t.Fatalf("the edit changed nothing")
			}
			dir := copyServerRecord(t)
			if err := os.WriteFile(filepath.Join(dir, record.Spoiled), []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			wantBoardFailure(t, dir, c.want)
		})
	}
	// Whitespace outside strings, blank lines and CRLF line ends do not matter.
	dir := copyServerRecord(t)
	var spaced bytes.Buffer
	json.Indent(&spaced, bytes.TrimSpace(orig), "", "")
	loose := "\n  \r\n" + strings.ReplaceAll(string(bytes.TrimSpace(orig)), `":`, `": `) + " \r\n\n"
	if err := os.WriteFile(filepath.Join(dir, record.Spoiled), []byte(loose), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("%+v", rep.Failures())
	}
}

// TestBoardEmptyFiles: an empty ballots.bin or spoiled.jsonl is the same as
// an absent one (SPEC.md §10.1), in a record with a board too.
func TestBoardEmptyFiles(t *testing.T) {
	dir := copyServerRecord(t)
	es := readEntries(t, dir)
	var kept []board.Entry
	for _, e := range es[:33] { // up to the close; no tally yet
		if e.Type != board.TypeBallot && e.Type != board.TypeSpoiled {
			kept = append(kept, e)
		}
	}
	resign(t, dir, kept, true)
	if _, err := os.Stat(filepath.Join(dir, record.Ballots)); err == nil {
		t.Fatal("a board without ballots implies a ballots.bin")
	}
	for _, files := range [][2]string{{"", ""}, {"", "\n \n"}, {"-", ""}} {
		for i, name := range []string{record.Ballots, record.Spoiled} {
			os.Remove(filepath.Join(dir, name))
			if files[i] != "-" {
				os.WriteFile(filepath.Join(dir, name), []byte(files[i]), 0o644)
			}
		}
		rep := verify.Record(dir, verify.Options{})
		if !rep.OK() || !rep.InProgress {
			t.Fatalf("empty files %q: %+v", files, rep.Failures())
		}
	}
	// An empty ballots.bin where the board has ballots is a missing file.
	dir = copyServerRecord(t)
	os.WriteFile(filepath.Join(dir, record.Ballots), nil, 0o644)
	wantBoardFailure(t, dir, "ballots.bin")
}

// TestBoardFailureStops: with a board failure, not one ballot is checked
// (SPEC.md §11 step 10).
func TestBoardFailureStops(t *testing.T) {
	dir := copyServerRecord(t)
	es := readEntries(t, dir)
	// A cast envelope whose signature is broken: it is never counted, and
	// the board is invalid.
	env := es[31].Body
	i := bytes.Index(env, []byte(`"signature":"`)) + len(`"signature":"`)
	c := byte('A')
	if env[i] == 'A' {
		c = 'B'
	}
	env[i] = c
	resign(t, dir, es, true)
	wantBoardFailure(t, dir, "cast signature")
}

// escapeFirstA writes the first "A" inside the ballot's base64 as \u0041:
// the same JSON value, other bytes.
func escapeFirstA(s string) string {
	i := strings.Index(s, `"ballot"`)
	j := strings.IndexByte(s[i+9:], 'A') + i + 9
	return s[:j] + `\u0041` + s[j+1:]
}
