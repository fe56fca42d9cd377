package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// merkleRoot is the RFC 6962 Merkle tree hash of the leaves, computed
// directly from its definition (RFC 6962 §2.1), independently of the
// board's own tlog code.
func merkleRoot(leaves [][]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := merkleRoot(leaves[:k]), merkleRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// hasBoard reports whether the record was exported from a server's board.
func hasBoard(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)))
	return !errors.Is(err, fs.ErrNotExist)
}

// checkBoard checks a record's bulletin board (SPEC.md §13.6): the signed
// checkpoint covers exactly the entries; every record file is what the
// entries imply; every cast envelope carries a valid credential, signature
// and proofs; the entries come in the order of the election's lifecycle;
// and no voter was issued two credentials.
func checkBoard(r *Report, dir string, e *ballot.Election, opt Options) {
	const what = "board"
	read := func(name string) []byte {
		data, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			r.fail(what, "%v", err)
			return nil
		}
		return data
	}
	keyText, signed, lines := read(record.BoardKey), read(record.BoardCheckpoint), read(record.BoardEntries)
	if keyText == nil || signed == nil || lines == nil {
		return
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(keyText)))
	if err != nil {
		r.fail(what, "%s: %v", record.BoardKey, err)
		return
	}
	cp, err := board.ParseCheckpoint(signed, verifier)
	if err != nil {
		r.fail(what, "%s: %v", record.BoardCheckpoint, err)
		return
	}
	if !strings.HasSuffix(cp.Origin, "/koe/"+e.Manifest.ID) {
		r.fail(what, "the checkpoint is of log %q, not of election %q", cp.Origin, e.Manifest.ID)
		return
	}
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		r.fail(what, "%s must end with a newline", record.BoardEntries)
		return
	}
	leaves := bytes.Split(lines[:len(lines)-1], []byte("\n"))
	if int64(len(leaves)) != cp.Size {
		r.fail(what, "%s has %d entries, the checkpoint covers %d", record.BoardEntries, len(leaves), cp.Size)
		return
	}
	if merkleRoot(leaves) != cp.Hash {
		r.fail(what, "the entries' Merkle tree hash is not the signed checkpoint's")
		return
	}
	entries := make([]board.Entry, len(leaves))
	for i, leaf := range leaves {
		if entries[i], err = board.DecodeEntry(leaf); err != nil {
			r.fail(what, "entry %d: %v", i, err)
			return
		}
		if entries[i].Election != e.Manifest.ID {
			r.fail(what, "entry %d belongs to election %q", i, entries[i].Election)
			return
		}
	}
	r.pass(what, "%d entries; their Merkle tree hash is the checkpoint's, signed by %s", len(entries), verifier.Name())

	// The record's files are the board's.
	derived, err := record.FromBoard(entries)
	if err != nil {
		r.fail(what, "%v", err)
		return
	}
	if !sameFiles(r, dir, derived) {
		return
	}
	r.pass(what, "every file of the record is what the board's entries imply")

	if !checkLifecycle(r, entries) {
		return
	}
	reg := registrarKey(r, entries)
	if reg == nil {
		return
	}
	checkEnvelopes(r, entries, e, reg, opt)
}

// sameFiles compares the record's files with the ones derived from the board.
func sameFiles(r *Report, dir string, derived map[string][]byte) bool {
	ok := true
	onDisk := map[string]bool{}
	for _, pattern := range []string{record.Manifest, record.Election, record.Ballots, record.Spoiled, record.Tally, record.Results,
		record.CeremonyDir + "/*.json", record.DecryptDir + "/*.json"} {
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, m)
			onDisk[filepath.ToSlash(rel)] = true
		}
	}
	for name := range onDisk {
		if _, ok2 := derived[name]; !ok2 {
			r.fail("board", "%s is in the record but not on the board", name)
			ok = false
		}
	}
	for name, want := range derived {
		got, err := record.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			r.fail("board", "%s is on the board but not in the record", name)
			ok = false
			continue
		}
		if !equalContent(name, got, want) {
			r.fail("board", "%s differs from the board's", name)
			ok = false
		}
	}
	return ok
}

// equalContent compares JSON files as JSON values, others byte for byte.
func equalContent(name string, a, b []byte) bool {
	if !strings.HasSuffix(name, ".json") || name == record.Manifest {
		if name == record.Spoiled {
			return bytes.Equal(compactLines(a), compactLines(b))
		}
		return bytes.Equal(a, b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func compactLines(data []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		json.Compact(&out, line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// checkLifecycle checks the order of the entries (SPEC.md §13.6).
func checkLifecycle(r *Report, entries []board.Entry) bool {
	const what = "board"
	phase := 0 // 0 setup, 1 open, 2 closed, 3 tallied, 4 published
	issued := map[string]bool{}
	var rollVoters int64 = -1
	for i, en := range entries {
		bad := func(format string, args ...any) bool {
			r.fail(what, "entry %d (%s): %s", i, en.Type, fmt.Sprintf(format, args...))
			return false
		}
		switch en.Type {
		case board.TypeManifest:
			if i != 0 {
				return bad("the manifest must be the first entry")
			}
		case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond, board.TypeElectionKey:
			if phase != 0 {
				return bad("key ceremony messages come before the election opens")
			}
		case board.TypeOpen:
			if phase != 0 {
				return bad("the election opens once")
			}
			phase = 1
		case board.TypeRoll:
			var b record.RollBody
			if err := strictjson.Decode(en.Body, &b); err != nil {
				return bad("%v", err)
			}
			if phase > 1 {
				return bad("voters are added before the election closes")
			}
			rollVoters = b.Voters
		case board.TypeCredentialIssued, board.TypeBallot, board.TypeSpoiled:
			if phase != 1 {
				return bad("only while the election is open")
			}
			if en.Type == board.TypeCredentialIssued {
				var b record.IssuedBody
				if err := strictjson.Decode(en.Body, &b); err != nil {
					return bad("%v", err)
				}
				if issued[b.Voter] {
					return bad("voter %.16s… was issued a second credential", b.Voter)
				}
				issued[b.Voter] = true
			}
		case board.TypeClose:
			if phase != 1 {
				return bad("the election closes once, after it opened")
			}
			phase = 2
		case board.TypeTally:
			if phase != 2 {
				return bad("the tally follows the close")
			}
			phase = 3
		case board.TypeDecryption:
			if phase != 3 {
				return bad("decryptions follow the tally")
			}
		case board.TypeResults:
			if phase != 3 {
				return bad("the results follow the tally")
			}
			phase = 4
		}
	}
	if rollVoters >= 0 && int64(len(issued)) > rollVoters {
		r.fail(what, "%d credentials issued to a roll of %d voters", len(issued), rollVoters)
		return false
	}
	r.pass(what, "entries follow the election's lifecycle; %d credentials issued, each to a different voter", len(issued))
	r.issued = len(issued)
	return true
}

func registrarKey(r *Report, entries []board.Entry) *credential.PublicKey {
	var key *credential.PublicKey
	for i, en := range entries {
		if en.Type != board.TypeRegistrarKey {
			continue
		}
		var b record.RegistrarKeyBody
		pub := new(credential.PublicKey)
		if err := strictjson.Decode(en.Body, &b); err != nil || pub.UnmarshalText([]byte(b.Key)) != nil {
			r.fail("board", "entry %d: not a registrar key", i)
			return nil
		}
		if key != nil {
			r.fail("board", "entry %d: a second registrar key", i)
			return nil
		}
		key = pub
	}
	if key == nil {
		r.fail("board", "no registrar key on the board")
	}
	return key
}

// checkEnvelopes checks every cast envelope on the board, counted or
// superseded, in parallel batches.
func checkEnvelopes(r *Report, entries []board.Entry, e *ballot.Election, reg *credential.PublicKey, opt Options) {
	type item struct {
		index int // in the board
		pos   int // among the ballot entries
		env   *ballotbox.Envelope
	}
	var items []item
	for i, en := range entries {
		if en.Type != board.TypeBallot {
			continue
		}
		env, err := ballotbox.ParseEnvelope(en.Body)
		if err != nil {
			r.fail("board", "entry %d: %v", i, err)
			return
		}
		items = append(items, item{i, len(items), env})
	}
	// The credential key of each valid envelope, by position; nil for an
	// invalid one, which takes no counter (SPEC.md §15.4).
	validKey := make([]*[32]byte, len(items))
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var failures []string
	keys := map[[32]byte]bool{}
	var wg sync.WaitGroup
	next := make(chan []item)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				batch := group.NewBatch()
				checked := make([]*ballotbox.Checked, len(chunk))
				var errs []string
				for k, it := range chunk {
					c, err := ballotbox.Check(e, reg, it.env, batch)
					if err != nil {
						errs = append(errs, fmt.Sprintf("entry %d: %v", it.index, err))
						continue
					}
					checked[k] = c
				}
				if !batch.Verify() {
					for k, it := range chunk {
						if checked[k] != nil {
							if err := checked[k].Ballot.Verify(e); err != nil {
								errs = append(errs, fmt.Sprintf("entry %d: %v", it.index, err))
							}
						}
					}
					if len(errs) == 0 {
						errs = append(errs, fmt.Sprintf("entries %d..%d: batch verification failed", chunk[0].index, chunk[len(chunk)-1].index))
					}
				}
				if len(errs) > 0 {
					// Name the valid ones again, one at a time: an envelope
					// is valid only if its own proofs hold.
					for k := range chunk {
						if checked[k] != nil && checked[k].Ballot.Verify(e) != nil {
							checked[k] = nil
						}
					}
				}
				mu.Lock()
				failures = append(failures, errs...)
				for k, c := range checked {
					if c != nil {
						keys[c.Key] = true
						validKey[chunk[k].pos] = &c.Key
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < len(items); i += chunk {
		next <- items[i:min(i+chunk, len(items))]
	}
	close(next)
	wg.Wait()
	// The counter rule, in board order over the valid envelopes: a
	// credential's first has counter 1, each later one the last plus one.
	last := map[[32]byte]uint64{}
	for _, it := range items {
		key := validKey[it.pos]
		if key == nil {
			continue
		}
		prev, seen := last[*key]
		next := prev + 1
		if !seen {
			next = 1
		}
		switch {
		case seen && it.env.Counter <= prev:
			failures = append(failures, fmt.Sprintf("entry %d: counter %d repeats or goes below the credential's last, %d; its next counter is %d", it.index, it.env.Counter, prev, next))
		case it.env.Counter != next:
			failures = append(failures, fmt.Sprintf("entry %d: counter %d skips: the credential's next counter is %d", it.index, it.env.Counter, next))
		default:
			last[*key] = it.env.Counter
		}
	}
	if len(failures) > 0 {
		for i, f := range failures {
			if i == maxListed {
				r.fail("board", "and %d more invalid casts", len(failures)-maxListed)
				break
			}
			r.fail("board", "%s", f)
		}
		return
	}
	if len(keys) > r.issued {
		r.fail("board", "%d credentials cast ballots, but only %d were issued", len(keys), r.issued)
		return
	}
	r.pass("board", "%d cast envelopes: every credential is the registrar's, every signature and proof valid; %d credentials voted", len(items), len(keys))
}
