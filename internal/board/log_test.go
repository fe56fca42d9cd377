package board_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/strictjson/strictjsontest"
)

const testElection = "e1"

var testOrigin = board.Origin("vote.example.org", testElection)

type testLog struct {
	*board.Log
	st       *memStore
	verifier note.Verifier
	signer   note.Signer
}

func newTestLog(t testing.TB) *testLog { return newTestLogFrom(t, rand.Reader) }

// newTestLogFrom makes a test log whose key is drawn from random (a fixed
// source gives every process the same key: fuzzing workers do).
func newTestLogFrom(t testing.TB, random io.Reader) *testLog {
	t.Helper()
	verifier, _, signer := newKeyFrom(t, random, testOrigin)
	st := newMemStore()
	return &testLog{Log: board.New(st, testElection, testOrigin, signer), st: st, verifier: verifier, signer: signer}
}

func testEntry(i int) board.Entry {
	return board.Entry{
		Type:     board.TypeBallot,
		Election: testElection,
		Time:     time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Body:     json.RawMessage(fmt.Sprintf(`{"ballot":"%s","credential":"","salt":"","counter":%d,"signature":""}`, base64.StdEncoding.EncodeToString(testBallot(i)), i)),
	}
}

// testBallot is the stand-in ballot of testEntry(i), and trackingOf(i) its
// tracking code (SPEC.md §8.5), which a receipt for the entry must name.
func testBallot(i int) []byte { return binary.BigEndian.AppendUint64([]byte("koe1"), uint64(i)) }

func trackingOf(i int) [32]byte {
	return group.NewDigest("koe/v2/tracking").Bytes("ballot", testBallot(i)).Digest32()
}

// grow appends entries until the log has n.
func (l *testLog) grow(t testing.TB, n int64) {
	t.Helper()
	size, _ := l.st.TreeSize(context.Background(), testElection)
	var es []board.Entry
	for i := size; i < n; i++ {
		es = append(es, testEntry(int(i)))
	}
	if len(es) == 0 {
		return
	}
	first, err := l.Append(context.Background(), es...)
	if err != nil {
		t.Fatal(err)
	}
	if first != size {
		t.Fatalf("Append returned %d, want %d", first, size)
	}
}

func (l *testLog) entry(t testing.TB, i int64) []byte {
	t.Helper()
	es, err := l.st.ReadEntries(context.Background(), testElection, i, 1)
	if err != nil {
		t.Fatal(err)
	}
	return es[0]
}

func (l *testLog) checkpoint(t testing.TB) *board.Checkpoint {
	t.Helper()
	cp, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	for _, n := range []int64{0, 1, 2, 3, 7, 8, 256, 257, 1000} {
		l.grow(t, n)
		cp := l.checkpoint(t)
		// The C2SP format, read by transparency-dev/formats.
		c, _, _, err := log.ParseCheckpoint(cp.Note, testOrigin, l.verifier)
		if err != nil {
			t.Fatalf("size %d: formats/log: %v", n, err)
		}
		want, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			return l.st.ReadHashes(ctx, testElection, idx)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Origin != testOrigin || c.Size != uint64(n) || !bytes.Equal(c.Hash, want[:]) {
			t.Fatalf("size %d: checkpoint %+v", n, c)
		}
		if cp.Size != n || cp.Hash != want || cp.Origin != testOrigin {
			t.Fatalf("size %d: Checkpoint = %+v", n, cp)
		}
		if !bytes.HasPrefix(cp.Note, log.Checkpoint{Origin: testOrigin, Size: uint64(n), Hash: want[:]}.Marshal()) {
			t.Fatalf("checkpoint note %q", cp.Note)
		}
		p, err := board.ParseCheckpoint(cp.Note, l.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if p.Size != n || p.Hash != want {
			t.Fatalf("ParseCheckpoint = %+v", p)
		}
		// Reused while the tree does not grow.
		if again := l.checkpoint(t); !bytes.Equal(again.Note, cp.Note) {
			t.Fatalf("size %d: checkpoint re-signed without growth", n)
		}
	}
	if n := l.checkpoint(t).Size; n != 1000 {
		t.Fatal(n)
	}
}

func TestCheckpointNewKey(t *testing.T) {
	l := newTestLog(t)
	l.grow(t, 3)
	old := l.checkpoint(t)
	// The same store with another key: the stored checkpoint is not reused.
	l2 := newTestLog(t)
	l2.Log = board.New(l.st, testElection, testOrigin, l2.signer)
	cp := l2.checkpoint(t)
	if bytes.Equal(cp.Note, old.Note) {
		t.Fatal("checkpoint signed by the old key reused")
	}
	if _, err := board.ParseCheckpoint(cp.Note, l2.verifier); err != nil {
		t.Fatal(err)
	}
	if _, err := board.ParseCheckpoint(cp.Note, l.verifier); err == nil {
		t.Fatal("checkpoint verified with the wrong key")
	}
}

func TestParseCheckpointCosigned(t *testing.T) {
	l := newTestLog(t)
	l.grow(t, 4)
	cp := l.checkpoint(t)
	n, err := note.Open(cp.Note, note.VerifierList(l.verifier))
	if err != nil {
		t.Fatal(err)
	}
	wkey, _, _ := note.GenerateKey(rand.Reader, "witness.example.net")
	witness, _ := note.NewSigner(wkey)
	cosigned, err := note.Sign(n, witness)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cosigned, []byte("— witness.example.net ")) {
		t.Fatalf("not cosigned: %s", cosigned)
	}
	if c, err := board.ParseCheckpoint(cosigned, l.verifier); err != nil || c.Size != 4 || c.Hash != cp.Hash {
		t.Fatalf("cosigned checkpoint: %+v, %v", c, err)
	}
	// Signed by the witness alone, it is not the log's.
	alone, _ := note.Sign(&note.Note{Text: n.Text}, witness)
	if _, err := board.ParseCheckpoint(alone, l.verifier); err == nil {
		t.Fatal("checkpoint signed only by a witness accepted")
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	l := newTestLog(t)
	l.grow(t, 5)
	cp := l.checkpoint(t)
	other := newTestLog(t)
	sign := func(text string) []byte {
		b, err := note.Sign(&note.Note{Text: text}, l.signer)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	h := base64Hash(cp.Hash)
	tests := []struct {
		name   string
		signed []byte
	}{
		{"other key", func() []byte { other.grow(t, 5); return other.checkpoint(t).Note }()},
		{"tampered size", bytes.Replace(cp.Note, []byte("\n5\n"), []byte("\n6\n"), 1)},
		{"tampered signature", func() []byte {
			b := bytes.Clone(cp.Note)
			b[len(b)-5] ^= 1
			return b
		}()},
		{"unsigned", log.Checkpoint{Origin: testOrigin, Size: 5, Hash: cp.Hash[:]}.Marshal()},
		{"origin not koe", sign("vote.example.org/e1\n5\n" + h + "\n")},
		{"origin with slash", sign("vote.example.org/koe/a/e1\n5\n" + h + "\n")},
		{"extension line", sign(testOrigin + "\n5\n" + h + "\nextra\n")},
		{"short hash", sign(testOrigin + "\n5\nAAAA\n")},
		{"non-canonical size", sign(testOrigin + "\n05\n" + h + "\n")},
		{"huge size", sign(testOrigin + "\n18446744073709551615\n" + h + "\n")},
		{"missing hash", sign(testOrigin + "\n5\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := board.ParseCheckpoint(tt.signed, l.verifier); err == nil {
				t.Fatalf("ParseCheckpoint accepted %+v", c)
			} else {
				t.Log(err)
			}
		})
	}
}

func base64Hash(h tlog.Hash) string {
	c := log.Checkpoint{Hash: h[:]}.Marshal()
	return strings.TrimSpace(string(c[bytes.LastIndexByte(c[:len(c)-1], '\n')+1:]))
}

func TestReceipt(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	for _, n := range []int64{1, 2, 5, 300} {
		l.grow(t, n)
		for _, i := range []int64{0, n / 2, n - 1} {
			tracking := trackingOf(int(i))
			r, err := l.MakeReceipt(ctx, i, tracking)
			if err != nil {
				t.Fatal(err)
			}
			if r.Tracking != hex.EncodeToString(tracking[:]) || r.Index != i || r.Election != testElection {
				t.Fatalf("receipt %+v", r)
			}
			if err := board.VerifyReceipt(r, l.entry(t, i), l.verifier); err != nil {
				t.Fatalf("size %d, entry %d: %v", n, i, err)
			}
			// The receipt survives JSON.
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := board.DecodeReceipt(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := board.VerifyReceipt(r2, l.entry(t, i), l.verifier); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := l.MakeReceipt(ctx, 300, [32]byte{}); err == nil {
		t.Fatal("receipt for an entry beyond the log")
	}
}

func TestReceiptRejects(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	l.grow(t, 10)
	good, err := l.MakeReceipt(ctx, 3, trackingOf(3))
	if err != nil {
		t.Fatal(err)
	}
	entry := l.entry(t, 3)
	other := newTestLog(t)
	other.grow(t, 10)
	otherCP := other.checkpoint(t)
	flip := func(s string) string { // change the first hex digit
		b := []byte(s)
		b[0] = "10"[b[0]&1]
		if b[0] == s[0] {
			b[0] = 'f'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		edit  func(r *board.Receipt)
		entry []byte
		v     note.Verifier
	}{
		{name: "tampered entry", entry: bytes.Replace(entry, []byte(`"counter":3`), []byte(`"counter":4`), 1)},
		{name: "other entry", entry: l.entry(t, 4)},
		{name: "non-canonical entry", entry: append(bytes.Clone(entry), ' ')},
		{name: "tampered proof", edit: func(r *board.Receipt) { r.Proof[1] = flip(r.Proof[1]) }},
		{name: "short proof", edit: func(r *board.Receipt) { r.Proof = r.Proof[1:] }},
		{name: "long proof", edit: func(r *board.Receipt) { r.Proof = append(r.Proof, r.Proof[0]) }},
		{name: "uppercase proof", edit: func(r *board.Receipt) { r.Proof[0] = strings.ToUpper(r.Proof[0]) }},
		{name: "tampered leaf hash", edit: func(r *board.Receipt) { r.LeafHash = flip(r.LeafHash) }},
		{name: "wrong index", edit: func(r *board.Receipt) { r.Index = 2 }},
		{name: "index beyond tree", edit: func(r *board.Receipt) { r.Index = 10 }},
		{name: "negative index", edit: func(r *board.Receipt) { r.Index = -1 }},
		{name: "bad tracking", edit: func(r *board.Receipt) { r.Tracking = "zz" }},
		{name: "wrong election", edit: func(r *board.Receipt) { r.Election = "e2" }},
		{name: "tampered checkpoint", edit: func(r *board.Receipt) {
			r.Checkpoint = strings.Replace(r.Checkpoint, "\n10\n", "\n11\n", 1)
		}},
		{name: "tampered signature", edit: func(r *board.Receipt) {
			b := []byte(r.Checkpoint)
			b[len(b)-4] ^= 1
			r.Checkpoint = string(b)
		}},
		{name: "other log's checkpoint", edit: func(r *board.Receipt) { r.Checkpoint = string(otherCP.Note) }},
		{name: "wrong verifier", v: other.verifier},
		// SPEC.md §13.4: the tracking code is that of the entry's ballot.
		{name: "another ballot's tracking code", edit: func(r *board.Receipt) { t4 := trackingOf(4); r.Tracking = hex.EncodeToString(t4[:]) }},
		{name: "upper-case tracking code", edit: func(r *board.Receipt) { r.Tracking = strings.ToUpper(r.Tracking) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *good
			r.Proof = append([]string(nil), good.Proof...)
			if tt.edit != nil {
				tt.edit(&r)
			}
			e, v := entry, l.verifier
			if tt.entry != nil {
				e = tt.entry
			}
			if tt.v != nil {
				v = tt.v
			}
			err := board.VerifyReceipt(&r, e, v)
			if err == nil {
				t.Fatal("VerifyReceipt accepted a bad receipt")
			}
			t.Log(err)
		})
	}
	if err := board.VerifyReceipt(good, entry, l.verifier); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptOfNonBallot: a receipt is for a ballot entry; one for any
// other entry (here the election's close, with a tracking code that no
// ballot has) is refused, as is one whose ballot entry is malformed
// (base64 unpadded, an unknown field).
func TestReceiptOfNonBallot(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	l.grow(t, 3)
	for _, body := range []string{`{}`, `{"ballot":"a29lMQ","credential":"","salt":"","counter":1,"signature":""}`, `{"ballot":"a29lMQ==","credential":"","salt":"","counter":1,"signature":"","extra":1}`} {
		typ := board.TypeBallot
		if body == `{}` {
			typ = board.TypeClose
		}
		e := board.Entry{Type: typ, Election: testElection, Time: time.Unix(1e9, 0), Body: json.RawMessage(body)}
		idx, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		tracking := group.NewDigest("koe/v2/tracking").Bytes("ballot", []byte("koe1")).Digest32()
		r, err := l.MakeReceipt(ctx, idx, tracking)
		if err != nil {
			t.Fatal(err)
		}
		if err := board.VerifyReceipt(r, l.entry(t, idx), l.verifier); err == nil {
			t.Fatalf("receipt of %s entry %s accepted", typ, body)
		} else {
			t.Log(err)
		}
	}
}

func TestDecodeReceiptRejects(t *testing.T) {
	for _, in := range []string{
		`{"election":"e1","extra":1}`,
		`{"election":"e1"}{}`,
		`{"Election":"e1"}`,
	} {
		if _, err := board.DecodeReceipt([]byte(in)); err == nil {
			t.Errorf("DecodeReceipt accepted %s", in)
		}
	}
}

func TestConsistency(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	sizes := []int64{0, 1, 2, 3, 4, 7, 8, 9, 255, 256, 257, 600}
	var cps []*board.Checkpoint
	for _, n := range sizes {
		l.grow(t, n)
		cps = append(cps, l.checkpoint(t))
	}
	for i, a := range cps {
		for _, b := range cps[i:] {
			p, err := l.ConsistencyProof(ctx, a.Size, b.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := board.CheckConsistency(a.Note, b.Note, p, l.verifier); err != nil {
				t.Fatalf("%d → %d: %v", a.Size, b.Size, err)
			}
			if a.Size > 0 && a.Size < b.Size {
				if err := board.CheckConsistency(b.Note, a.Note, p, l.verifier); err == nil {
					t.Fatalf("%d → %d accepted backwards", a.Size, b.Size)
				}
				if len(p) > 0 {
					bad := append(tlog.TreeProof(nil), p...)
					bad[0][0] ^= 1
					if err := board.CheckConsistency(a.Note, b.Note, bad, l.verifier); err == nil {
						t.Fatalf("%d → %d: tampered proof accepted", a.Size, b.Size)
					}
				}
			}
		}
	}

	// A forked log: same size, different entries, signed by the same key.
	fork := newTestLog(t)
	fork.Log = board.New(fork.st, testElection, testOrigin, l.signer)
	fork.grow(t, 5)
	fork.Append(ctx, board.Entry{Type: board.TypeClose, Election: testElection, Time: time.Unix(1e9, 0), Body: json.RawMessage(`{}`)})
	forked := fork.checkpoint(t)
	latest := cps[len(cps)-1]
	p, err := l.ConsistencyProof(ctx, forked.Size, latest.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := board.CheckConsistency(forked.Note, latest.Note, p, l.verifier); err == nil {
		t.Fatal("fork accepted as consistent")
	}
	if _, err := l.ConsistencyProof(ctx, 5, 601); err == nil {
		t.Fatal("consistency proof beyond the tree")
	}
	if _, err := l.InclusionProof(ctx, 5, 601); err == nil {
		t.Fatal("inclusion proof beyond the tree")
	}
}

func TestAppendRejects(t *testing.T) {
	l := newTestLog(t)
	e := testEntry(0)
	e.Election = "e2"
	if _, err := l.Append(context.Background(), e); err == nil {
		t.Fatal("entry of another election appended")
	}
	if _, err := l.Append(context.Background()); err == nil {
		t.Fatal("empty append accepted")
	}
}

func TestNewPanics(t *testing.T) {
	_, _, signer := newKey(t, "vote.example.org")
	for _, tt := range []struct{ election, origin string }{
		{"e2", testOrigin},
		{"e1", "/koe/e1"},
		{"e1", "vote.example.org/e1"},
		{"", "vote.example.org/koe/"},
		{"a/e1", "vote.example.org/koe/a/e1"},
		{"e 1", "vote.example.org/koe/e 1"},
		{"e+1", "vote.example.org/koe/e+1"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q, %q) did not panic", tt.election, tt.origin)
				}
			}()
			board.New(newMemStore(), tt.election, tt.origin, signer)
		}()
	}
	board.New(newMemStore(), "e-1_x", "vote.example.org/koe/e-1_x", signer)
}

func newKey(t testing.TB, name string) (note.Verifier, string, note.Signer) {
	t.Helper()
	return newKeyFrom(t, rand.Reader, name)
}

// newKeyFrom makes a note key named name from random.
func newKeyFrom(t testing.TB, random io.Reader, name string) (note.Verifier, string, note.Signer) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(random, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return verifier, vkey, signer
}

// TestSharedKey signs two elections' boards with one key named after the
// host, as a server does: each checkpoint proves only its own election.
func TestSharedKey(t *testing.T) {
	ctx := context.Background()
	verifier, _, signer := newKey(t, "vote.example.org")
	st := newMemStore()
	l1 := board.New(st, "e1", board.Origin("vote.example.org", "e1"), signer)
	l2 := board.New(st, "e2", board.Origin("vote.example.org", "e2"), signer)
	for i := 0; i < 5; i++ {
		e := testEntry(i)
		if _, err := l1.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		e.Election = "e2"
		if _, err := l2.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	r1, err := l1.MakeReceipt(ctx, 2, trackingOf(2))
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := st.ReadEntries(ctx, "e1", 2, 1)
	if err := board.VerifyReceipt(r1, e1[0], verifier); err != nil {
		t.Fatal(err)
	}
	cp1, _ := l1.Checkpoint(ctx)
	cp2, _ := l2.Checkpoint(ctx)
	// e2's checkpoint does not stand in for e1's, even with a valid proof.
	r2, err := l2.MakeReceipt(ctx, 2, trackingOf(2))
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := st.ReadEntries(ctx, "e2", 2, 1)
	forged := *r2
	forged.Election = "e1"
	if err := board.VerifyReceipt(&forged, e2[0], verifier); err == nil {
		t.Fatal("receipt of e2 accepted as e1's")
	}
	forged = *r1
	forged.Checkpoint = string(cp2.Note)
	if err := board.VerifyReceipt(&forged, e1[0], verifier); err == nil {
		t.Fatal("e1 receipt with e2's checkpoint accepted")
	}
	if err := board.CheckConsistency(cp1.Note, cp2.Note, nil, verifier); err == nil {
		t.Fatal("checkpoints of two elections accepted as consistent")
	}
}

// serve mounts the log's handler as the server does.
func serve(t testing.TB, l *board.Log) (*httptest.Server, string) {
	prefix := "/api/v1/elections/" + l.Election() + "/log"
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, l.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, srv.URL + prefix + "/"
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestTiles(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	_, root := serve(t, l.Log)
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return l.st.ReadHashes(ctx, testElection, idx) })
	var old int64
	for _, n := range []int64{1, 2, 255, 256, 257, 511, 512, 513, 256*256 - 1, 256 * 256, 256*256 + 300} {
		l.grow(t, n)
		// Every tile tlog would make for the new tree, hash and data.
		for _, tile := range tlog.NewTiles(board.TileHeight, old, n) {
			want, err := tlog.ReadTileData(tile, hr)
			if err != nil {
				t.Fatal(err)
			}
			path := strings.TrimPrefix(tile.Path(), "tile/8/")
			resp, got := get(t, root+"tile/"+path)
			if resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Fatalf("size %d: tile %s: %s, %d bytes", n, path, resp.Status, len(got))
			}
			cc := resp.Header.Get("Cache-Control")
			if full := tile.W == 256; full != strings.Contains(cc, "immutable") {
				t.Fatalf("tile %s: Cache-Control %q", path, cc)
			}
			// The entry bundle of each level-0 tile.
			if tile.L != 0 {
				continue
			}
			dataPath := "tile/entries/" + strings.TrimPrefix(path, "0/")
			resp, got = get(t, root+dataPath)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %s", dataPath, resp.Status)
			}
			for i := 0; i < tile.W; i++ {
				e := l.entry(t, tile.N*256+int64(i))
				if len(got) < 2 || int(got[0])<<8|int(got[1]) != len(e) || !bytes.Equal(got[2:2+len(e)], e) {
					t.Fatalf("%s: entry %d does not match", dataPath, i)
				}
				got = got[2+len(e):]
			}
			if len(got) != 0 {
				t.Fatalf("%s: trailing bytes", dataPath)
			}
		}
		// tlog's own tile client reads the tree hash and proofs from the tiles.
		cp := l.checkpoint(t)
		tr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Hash}, httpTileReader{t, root})
		if h, err := tlog.TreeHash(n, tr); err != nil || h != cp.Hash {
			t.Fatalf("size %d: tlog.TileHashReader tree hash: %v", n, err)
		}
		for _, i := range []int64{0, n / 3, n - 1} {
			p, err := tlog.ProveRecord(n, i, tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(p, n, cp.Hash, i, tlog.RecordHash(l.entry(t, i))); err != nil {
				t.Fatal(err)
			}
		}
		old = n
	}
}

// httpTileReader is a tlog.TileReader over the handler.
type httpTileReader struct {
	t    testing.TB
	root string
}

func (r httpTileReader) Height() int { return board.TileHeight }

func (r httpTileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		resp, b := get(r.t, r.root+"tile/"+strings.TrimPrefix(tile.Path(), "tile/8/"))
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %s", tile.Path(), resp.Status)
		}
		out[i] = b
	}
	return out, nil
}

func (r httpTileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestHandlerStatus(t *testing.T) {
	l := newTestLog(t)
	l.grow(t, 300)
	_, root := serve(t, l.Log)
	tests := []struct {
		path   string
		status int
		cache  string
	}{
		{"checkpoint", 200, "no-cache"},
		{"tile/0/000", 200, "immutable"},
		{"tile/0/001.p/44", 200, "no-cache"},
		{"tile/0/000.p/5", 200, "no-cache"},
		{"tile/1/000.p/1", 200, "no-cache"},
		{"tile/entries/000", 200, "immutable"},
		{"tile/entries/001.p/44", 200, "no-cache"},
		{"tile/0/001", 404, ""},
		{"tile/0/001.p/45", 404, ""},
		{"tile/1/000.p/2", 404, ""},
		{"tile/1/000", 404, ""},
		{"tile/entries/002.p/1", 404, ""},
		{"tile/0/x001/000", 404, ""},
		{"tile/7/000", 404, ""},
		{"tile/63/000", 404, ""},
		{"tile/0/x999/x999/x999/x999/x999/999", 404, ""},
		{"tile/0/x999/x999/x999/x999/x999/x999/999", 400, ""}, // N overflows int64
		{"tile/0/1", 400, ""},
		{"tile/0/0001", 400, ""},
		{"tile/0/x000/001", 400, ""},
		{"tile/00/000", 400, ""},
		{"tile/+0/000", 400, ""},
		{"tile/-1/000", 400, ""},
		{"tile/0/000.p/256", 400, ""},
		{"tile/0/000.p/0", 400, ""},
		{"tile/0/000.p/044", 400, ""},
		{"tile/0/000.p/", 400, ""},
		{"tile/data/000", 400, ""},
		{"tile/8/0/000", 400, ""},
		{"tile/entries/x1/000", 400, ""},
		{"tile/entries", 400, ""},
		{"tile/", 400, ""},
		{"tile/0/x999/x999/x999/x999/x999/x999/x999/999", 400, ""},
		{"other", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, root+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s: %s (%s)", tt.path, resp.Status, body)
			}
			if cc := resp.Header.Get("Cache-Control"); tt.cache != "" && !strings.Contains(cc, tt.cache) {
				t.Fatalf("%s: Cache-Control %q", tt.path, cc)
			}
		})
	}
	resp, err := http.Post(root+"checkpoint", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %s", resp.Status)
	}
}

func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	l.grow(t, 1)
	_, root := serve(t, l.Log)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				idx, err := l.Append(ctx, testEntry(i))
				if err != nil {
					done <- err
					return
				}
				r, err := l.MakeReceipt(ctx, idx, trackingOf(i))
				if err != nil {
					done <- err
					return
				}
				es, _ := l.st.ReadEntries(ctx, testElection, idx, 1)
				if err := board.VerifyReceipt(r, es[0], l.verifier); err != nil {
					done <- err
					return
				}
				resp, err := http.Get(root + "checkpoint")
				if err != nil {
					done <- err
					return
				}
				resp.Body.Close()
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if cp := l.checkpoint(t); cp.Size != 201 {
		t.Fatalf("size %d", cp.Size)
	}
}

// FuzzVerifyReceipt: any receipt bytes decode and verify against an
// entry, or fail, without panicking; one that verifies is the genuine
// receipt's content.
func FuzzVerifyReceipt(f *testing.F) {
	l := newTestLogFrom(f, bytes.NewReader(make([]byte, 64)))
	l.grow(f, 5)
	r, err := l.MakeReceipt(context.Background(), 3, [32]byte{3})
	if err != nil {
		f.Fatal(err)
	}
	genuine, _ := json.Marshal(r)
	entry := l.entry(f, 3)
	f.Add(genuine)
	f.Add([]byte(`{"election":"e","tracking":"","index":-1,"leafHash":"","proof":null,"checkpoint":"x\n\n"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r2, err := board.DecodeReceipt(data)
		if err != nil {
			return
		}
		if board.VerifyReceipt(r2, entry, l.verifier) != nil {
			return
		}
		if r2.Index != r.Index || r2.LeafHash != r.LeafHash || r2.Election != r.Election {
			t.Fatalf("a receipt verified with index %d, leaf %s, election %q", r2.Index, r2.LeafHash, r2.Election)
		}
	})
}

// A receipt lacking a field is refused, even the receipt of entry 0 of a
// one-entry log whose "index" is 0 and "proof" empty: SPEC §2.3 requires
// every field of §13.4 (before, such a receipt decoded and verified).
func TestDecodeReceiptRequiresFields(t *testing.T) {
	l := newTestLog(t)
	l.grow(t, 1)
	r, err := l.MakeReceipt(context.Background(), 0, trackingOf(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	strictjsontest.RequireFields(t, b, func(data []byte) error {
		r, err := board.DecodeReceipt(data)
		if err != nil {
			return err
		}
		return board.VerifyReceipt(r, l.entry(t, 0), l.verifier)
	}, "election", "tracking", "index", "leafHash", "proof", "checkpoint")
}
