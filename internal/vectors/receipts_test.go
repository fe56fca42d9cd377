package vectors

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
)

// receiptFile is receipts.json: receipts (SPEC.md §13.4) of the ballots of
// server-record, proved against its checkpoint, and altered ones.
type receiptFile struct {
	Comment  string          `json:"comment"`
	BoardKey string          `json:"boardKey"`
	Valid    []receiptVector `json:"valid"`
	Invalid  []receiptVector `json:"invalid"`
}

type receiptVector struct {
	Reason  string         `json:"reason,omitempty"`
	Receipt *board.Receipt `json:"receipt"`
	Entry   string         `json:"entry"` // the board entry the receipt is for, as hashed
}

// serverBoard reads server-record's board: its entries, checkpoint and key.
func serverBoard(t *testing.T) (entries [][]byte, checkpoint []byte, key string) {
	t.Helper()
	rdir := filepath.Join(dir, "server-record")
	f, err := os.Open(filepath.Join(rdir, filepath.FromSlash(record.BoardEntries)))
	must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		entries = append(entries, bytes.Clone(sc.Bytes()))
	}
	must(t, sc.Err())
	checkpoint, err = os.ReadFile(filepath.Join(rdir, filepath.FromSlash(record.BoardCheckpoint)))
	must(t, err)
	k, err := os.ReadFile(filepath.Join(rdir, filepath.FromSlash(record.BoardKey)))
	must(t, err)
	return entries, checkpoint, strings.TrimSpace(string(k))
}

func genReceipts(t *testing.T) *receiptFile {
	entries, checkpoint, key := serverBoard(t)
	var hashes []tlog.Hash
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for j, x := range idx {
				out[j] = hashes[x]
			}
			return out, nil
		}))
		must(t, err)
		hashes = append(hashes, hs...)
	}
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for j, x := range idx {
			out[j] = hashes[x]
		}
		return out, nil
	})
	size := int64(len(entries))
	f := &receiptFile{
		Comment: "Receipts (SPEC.md §13.4) of every ballot on the board of server-record/, each proved against " +
			"its checkpoint (size " + itoa(size) + "), and altered receipts that must be refused. `entry` is the board entry " +
			"the receipt names, byte for byte as hashed (its leaf is SHA-256(0x00 ‖ entry)).",
		BoardKey: key,
	}
	for i, e := range entries {
		de, err := board.DecodeEntry(e)
		must(t, err)
		if de.Type != board.TypeBallot {
			continue
		}
		env, err := ballotbox.ParseEnvelope(de.Body)
		must(t, err)
		tc := ballot.TrackingCode(env.Ballot)
		proof, err := tlog.ProveRecord(size, int64(i), hr)
		must(t, err)
		r := &board.Receipt{Election: de.Election, Tracking: hex.EncodeToString(tc[:]), Index: int64(i),
			LeafHash: hex.EncodeToString(hashes[tlog.StoredHashIndex(0, int64(i))][:]), Checkpoint: string(checkpoint)}
		for _, h := range proof {
			r.Proof = append(r.Proof, hex.EncodeToString(h[:]))
		}
		f.Valid = append(f.Valid, receiptVector{Receipt: r, Entry: string(e)})
	}
	// Altered copies of one receipt.
	base := f.Valid[len(f.Valid)/2]
	other := f.Valid[0]
	alter := func(reason string, change func(r *board.Receipt) string) {
		r := *base.Receipt
		r.Proof = append([]string(nil), base.Receipt.Proof...)
		entry := change(&r)
		if entry == "" {
			entry = base.Entry
		}
		f.Invalid = append(f.Invalid, receiptVector{Reason: reason, Receipt: &r, Entry: entry})
	}
	flipHex := func(s string) string {
		c := "0"
		if s[0] == '0' {
			c = "1"
		}
		return c + s[1:]
	}
	alter("a proof hash altered", func(r *board.Receipt) string { r.Proof[0] = flipHex(r.Proof[0]); return "" })
	alter("the last proof hash missing", func(r *board.Receipt) string { r.Proof = r.Proof[:len(r.Proof)-1]; return "" })
	alter("a proof hash too many", func(r *board.Receipt) string { r.Proof = append(r.Proof, r.Proof[0]); return "" })
	alter("another index", func(r *board.Receipt) string { r.Index++; return "" })
	alter("an index beyond the checkpoint", func(r *board.Receipt) string { r.Index = size; return "" })
	alter("a negative index", func(r *board.Receipt) string { r.Index = -1; return "" })
	alter("the leaf hash of another entry", func(r *board.Receipt) string { r.LeafHash = other.Receipt.LeafHash; return "" })
	alter("another entry than the receipt's", func(r *board.Receipt) string { return other.Entry })
	alter("the entry altered", func(r *board.Receipt) string { return strings.Replace(base.Entry, `"counter":`, `"counter":1`, 1) })
	alter("a proof hash in upper case", func(r *board.Receipt) string { r.Proof[0] = strings.ToUpper(r.Proof[0]); return "" })
	alter("the checkpoint's size altered", func(r *board.Receipt) string {
		r.Checkpoint = strings.Replace(r.Checkpoint, "\n"+itoa(size)+"\n", "\n"+itoa(size+1)+"\n", 1)
		return ""
	})
	alter("the checkpoint's signature altered", func(r *board.Receipt) string {
		i := strings.LastIndex(r.Checkpoint, " ") + 8
		c := "A"
		if r.Checkpoint[i] == 'A' {
			c = "B"
		}
		r.Checkpoint = r.Checkpoint[:i] + c + r.Checkpoint[i+1:]
		return ""
	})
	alter("the checkpoint unsigned", func(r *board.Receipt) string {
		r.Checkpoint = r.Checkpoint[:strings.Index(r.Checkpoint, "\n\n")+2]
		return ""
	})
	alter("another election", func(r *board.Receipt) string { r.Election = "shin-chosha-other"; return "" })
	// SPEC.md §13.4: the receipt names the entry's ballot by its tracking code.
	alter("another ballot's tracking code", func(r *board.Receipt) string { r.Tracking = other.Receipt.Tracking; return "" })
	return f
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestReceipts(t *testing.T) {
	var f receiptFile
	readJSON(t, "receipts.json", &f)
	v, err := note.NewVerifier(f.BoardKey)
	must(t, err)
	entries, _, key := serverBoard(t)
	if key != f.BoardKey {
		t.Fatal("receipts.json is of another board than server-record's")
	}
	ballots := 0
	for _, e := range entries {
		if de, err := board.DecodeEntry(e); err == nil && de.Type == board.TypeBallot {
			ballots++
		}
	}
	if len(f.Valid) != ballots || len(f.Invalid) < 15 {
		t.Fatalf("%d valid receipts for %d ballots, %d invalid", len(f.Valid), ballots, len(f.Invalid))
	}
	for _, c := range f.Valid {
		if err := board.VerifyReceipt(c.Receipt, []byte(c.Entry), v); err != nil {
			t.Errorf("receipt of entry %d: %v", c.Receipt.Index, err)
		}
	}
	for _, c := range f.Invalid {
		if err := board.VerifyReceipt(c.Receipt, []byte(c.Entry), v); err == nil {
			t.Errorf("%s: accepted", c.Reason)
		} else {
			t.Logf("%s: %v", c.Reason, err)
		}
	}
}
