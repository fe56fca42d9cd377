package verify_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
)

// boardSigner signs checkpoints of the server record's election with one
// key, for the final board and for the receipts a voter was given.
type boardSigner struct {
	origin string
	signer note.Signer
	vkey   string
}

// newBoardSigner signs with the key the server record's manifest names
// (SPEC.md §7.2 board), so a re-signed board still verifies.
func newBoardSigner(t *testing.T, election string) *boardSigner {
	t.Helper()
	origin := board.Origin("koe.example", election)
	signer, vkey := vectorBoardKey(t, origin)
	return &boardSigner{origin, signer, vkey}
}

// newOtherSigner signs with a fresh key that no manifest names.
func newOtherSigner(t *testing.T, election string) *boardSigner {
	t.Helper()
	origin := board.Origin("koe.example", election)
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &boardSigner{origin, signer, vkey}
}

// tree returns the stored hashes of the log of leaves and its signed checkpoint.
func (s *boardSigner) tree(t *testing.T, leaves [][]byte) ([]tlog.Hash, []byte) {
	t.Helper()
	var hashes []tlog.Hash
	reader := hashesReader(&hashes)
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	root, err := tlog.TreeHash(int64(len(leaves)), reader)
	if err != nil {
		t.Fatal(err)
	}
	text := s.origin + "\n" + itoa(len(leaves)) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
	signed, err := note.Sign(&note.Note{Text: text}, s.signer)
	if err != nil {
		t.Fatal(err)
	}
	return hashes, signed
}

func hashesReader(hashes *[]tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = (*hashes)[x]
		}
		return out, nil
	})
}

// receipt is the receipt a server keeping the log of leaves gives for
// the ballot at index i, in the booth's file format.
func (s *boardSigner) receipt(t *testing.T, leaves [][]byte, i int64) []byte {
	t.Helper()
	hashes, signed := s.tree(t, leaves)
	proof, err := tlog.ProveRecord(int64(len(leaves)), i, hashesReader(&hashes))
	if err != nil {
		t.Fatal(err)
	}
	e, err := board.DecodeEntry(leaves[i])
	if err != nil {
		t.Fatal(err)
	}
	env, err := ballotbox.ParseEnvelope(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	code := ballot.TrackingCode(env.Ballot)
	leaf := tlog.RecordHash(leaves[i])
	r := &board.Receipt{Election: e.Election, Tracking: hex.EncodeToString(code[:]), Index: i,
		LeafHash: hex.EncodeToString(leaf[:]), Checkpoint: string(signed)}
	for _, h := range proof {
		r.Proof = append(r.Proof, hex.EncodeToString(h[:]))
	}
	data, err := json.MarshalIndent(map[string]any{"trackingCode": ballot.FormatTrackingCode(code), "receipt": r}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// publish writes leaves as the record's board, signed by s.
func (s *boardSigner) publish(t *testing.T, dir string, leaves [][]byte) {
	t.Helper()
	_, signed := s.tree(t, leaves)
	var lines []byte
	for _, l := range leaves {
		lines = append(append(lines, l...), '\n')
	}
	for name, data := range map[string][]byte{record.BoardEntries: lines, record.BoardCheckpoint: signed, record.BoardKey: []byte(s.vkey + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func serverLeaves(t *testing.T) ([][]byte, []int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(serverRecord, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		t.Fatal(err)
	}
	leaves := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var ballots []int64
	for i, l := range leaves {
		if e, _ := board.DecodeEntry(l); e.Type == board.TypeBallot {
			ballots = append(ballots, int64(i))
		}
	}
	if len(ballots) < 2 {
		t.Fatalf("the server record has %d ballots", len(ballots))
	}
	return leaves, ballots
}

// checkReceipt checks a receipt file against the record in dir as koe
// verify --receipt does.
func checkReceipt(t *testing.T, dir string, file []byte) (*verify.ReceiptCheck, error) {
	t.Helper()
	cv, err := verify.RecordCheckpointVerifier(dir)
	if err != nil {
		t.Fatal(err)
	}
	final, err := verify.LoadFinalBoard(dir, cv)
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.ParseReceiptFile(file)
	if err != nil {
		t.Fatalf("parsing the receipt: %v", err)
	}
	return final.CheckReceipt(r, cv)
}

func TestReceiptOnFinalBoard(t *testing.T) {
	leaves, ballots := serverLeaves(t)
	dir := copyServerRecord(t)
	e, _ := board.DecodeEntry(leaves[0])
	s := newBoardSigner(t, e.Election)
	s.publish(t, dir, leaves)
	if rep := verify.Record(dir, verify.Options{}); !rep.OK() {
		t.Fatalf("the re-signed record: %+v", rep.Failures())
	}
	first, last := ballots[0], ballots[len(ballots)-1]
	for _, tc := range []struct {
		name string
		i    int64
		size int
	}{
		{"given at the cast", first, int(first) + 1},
		{"given later", first, int(last) + 1},
		{"the final board's", last, len(leaves)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := checkReceipt(t, dir, s.receipt(t, leaves[:tc.size], tc.i))
			if err != nil {
				t.Fatal(err)
			}
			if c.Index != tc.i || c.Size != int64(tc.size) || c.FinalSize != int64(len(leaves)) || c.Extended() != (tc.size < len(leaves)) {
				t.Fatalf("%+v", c)
			}
		})
	}
}

// TestForkedReceiptRefused: the server gave the voter a receipt on one log
// and published another that shares the ballot's entry, at the same index,
// and a prefix: the receipt's inclusion proof holds in its own tree, but
// that tree is not a prefix of the final board's.
func TestForkedReceiptRefused(t *testing.T) {
	leaves, ballots := serverLeaves(t)
	dir := copyServerRecord(t)
	e, _ := board.DecodeEntry(leaves[0])
	s := newBoardSigner(t, e.Election)
	s.publish(t, dir, leaves)
	i := ballots[len(ballots)-1]
	for _, tc := range []struct {
		name string
		size int
	}{
		{"smaller tree", int(i) + 1},
		{"tree of the final size", len(leaves)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shown := slices.Clone(leaves[:tc.size])
			shown[2], shown[3] = shown[3], shown[2] // the history shown to the voter differs before the ballot
			_, err := checkReceipt(t, dir, s.receipt(t, shown, i))
			if err == nil || !strings.Contains(err.Error(), "is not a prefix of the final board") || !strings.Contains(err.Error(), "forked board") {
				t.Fatalf("a receipt of a forked board: %v", err)
			}
		})
	}
}

// TestDroppedBallotReceiptRefused: the server gave the voter a receipt and
// published a board without the ballot.
func TestDroppedBallotReceiptRefused(t *testing.T) {
	leaves, ballots := serverLeaves(t)
	i := ballots[0]
	e, _ := board.DecodeEntry(leaves[0])
	s := newBoardSigner(t, e.Election)
	file := s.receipt(t, leaves[:i+1], i)
	for _, tc := range []struct {
		name  string
		final [][]byte
		want  string
	}{
		{"removed", slices.Delete(slices.Clone(leaves), int(i), int(i)+1), "is not the receipted ballot (dropped or replaced)"},
		{"cut back", leaves[:i], "the final board has only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyServerRecord(t)
			s.publish(t, dir, tc.final)
			if _, err := checkReceipt(t, dir, file); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReceiptOfAnotherKeyRefused(t *testing.T) {
	leaves, ballots := serverLeaves(t)
	dir := copyServerRecord(t)
	e, _ := board.DecodeEntry(leaves[0])
	newBoardSigner(t, e.Election).publish(t, dir, leaves)
	other := newOtherSigner(t, e.Election)
	if _, err := checkReceipt(t, dir, other.receipt(t, leaves, ballots[0])); err == nil || !strings.Contains(err.Error(), "not signed as the election requires") {
		t.Fatalf("a receipt under another key: %v", err)
	}
}

func TestParseReceiptFile(t *testing.T) {
	leaves, ballots := serverLeaves(t)
	e, _ := board.DecodeEntry(leaves[0])
	good := newBoardSigner(t, e.Election).receipt(t, leaves, ballots[0])
	var booth map[string]json.RawMessage
	if err := json.Unmarshal(good, &booth); err != nil {
		t.Fatal(err)
	}
	bare := []byte(booth["receipt"])
	if _, err := verify.ParseReceiptFile(good); err != nil {
		t.Fatalf("the booth's file: %v", err)
	}
	if _, err := verify.ParseReceiptFile(bare); err != nil {
		t.Fatalf("a bare receipt: %v", err)
	}
	edit := func(data []byte, from, to string) []byte {
		if !bytes.Contains(data, []byte(from)) {
			t.Fatalf("no %q in the receipt", from)
		}
		return bytes.Replace(data, []byte(from), []byte(to), 1)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a receipt"},
		{"not JSON", []byte("receipt"), "not a receipt"},
		{"array", []byte("[]"), "receipt"},
		{"trailing data", append(slices.Clone(bare), "{}"...), "not a receipt"},
		{"unknown key", edit(bare, `"election"`, `"extra": 1, "election"`), "not a receipt"},
		{"key case", edit(bare, `"election"`, `"Election"`), "not a receipt"},
		{"duplicate key", edit(bare, `"index"`, `"index": 0, "index"`), "not a receipt"},
		{"negative index", edit(bare, `"index": `, `"index": -`), "negative index"},
		{"uppercase tracking", edit(bare, `"tracking": "`, `"tracking": "A`), "tracking code"},
		{"short leaf hash", edit(bare, `"leafHash": "`, `"leafHash": "0`), "leaf hash"},
		{"no checkpoint", edit(bare, `"checkpoint": "`, `"checkpoint": "","x":"`), "not a receipt"},
		{"booth file, wrong code", edit(good, `"trackingCode": "`, `"trackingCode": "A`), "is not its receipt's"},
		{"booth file, no receipt", []byte(`{"trackingCode": "x"}`), "receipt"},
		{"booth file, null receipt", []byte(`{"trackingCode": "x", "receipt": null}`), "receipt"},
		{"booth file, extra key", edit(good, `"trackingCode"`, `"note": "", "trackingCode"`), "not a receipt"},
		{"too large", append(bytes.Repeat([]byte(" "), 70<<10), bare...), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := verify.ParseReceiptFile(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func FuzzParseReceiptFile(f *testing.F) {
	f.Add([]byte(`{"election":"e","tracking":"00","index":0,"leafHash":"00","proof":[],"checkpoint":"x"}`))
	f.Add([]byte(`{"trackingCode":"AAAA","receipt":{"election":"e"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := verify.ParseReceiptFile(data)
		if err != nil {
			return
		}
		if r.Index < 0 || r.Election == "" || r.Checkpoint == "" || len(r.Tracking) != 64 || len(r.LeafHash) != 64 {
			t.Fatalf("accepted a malformed receipt: %+v", r)
		}
	})
}
