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
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/store"
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

// checkPolicy checks the board's key and final checkpoint against the
// manifest (SPEC.md §13.6 step 1): the manifest names a board key, board/key
// is that key, and the checkpoint satisfies the manifest's witness policy —
// signed by the board key and cosigned by at least quorum of its witnesses
// (§13.7).
func checkPolicy(m *ballot.Manifest, keyText, signed []byte) (*board.Checkpoint, error) {
	if m.Board == nil {
		return nil, errors.New("the manifest names no board key, so nothing outside the record anchors board/key (SPEC.md §7.1)")
	}
	if got := strings.TrimSuffix(string(keyText), "\n"); got != m.Board.Key {
		return nil, fmt.Errorf("%s (%s) is not the manifest's board key %s", record.BoardKey, got, m.Board.Key)
	}
	pol, err := m.WitnessPolicy()
	if err != nil {
		return nil, err
	}
	cp, _, err := pol.Verify(signed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", record.BoardCheckpoint, err)
	}

	return cp, nil
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
func checkBoard(r *Report, dir string, e *ballot.Election, res *ceremony.Result, opt Options) {
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
	verifier, err := board.ParseVerifierKeyFile(keyText)
	if err != nil {
		r.fail(what, "%s: %v", record.BoardKey, err)
		return
	}
	cp, err := checkPolicy(e.Manifest, keyText, signed)
	if err != nil {
		r.fail(what, "%v", err)
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

	trustBoard(r)
	if !checkLifecycle(r, entries, e, res, len(derived[record.Ballots])/e.Style.Size()) {
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
	for _, pattern := range []string{record.Manifest, record.Registrar, record.Election, record.Ballots, record.Spoiled, record.Tally, record.Results,
		record.CeremonyDir + "/*.json", record.DecryptDir + "/*.json", record.MixesDir + "/*/*.bin"} {
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, m)
			name := filepath.ToSlash(rel)
			if strings.HasPrefix(name, record.MixesDir+"/") && !mixFileName.MatchString(name) {
				continue // not a round or share: ignored (SPEC.md §16.6)
			}
			if (name == record.Ballots || name == record.Spoiled) && emptyList(m, name) {
				// An empty ballots.bin or spoiled.jsonl is an absent one
				// (SPEC.md §10.1): no ballots.
				continue
			}
			onDisk[name] = true
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

// mixFileName matches the names of a mix's round and share files (SPEC.md
// §16.6); the other files of mixes/ are ignored.
var mixFileName = regexp.MustCompile(`^mixes/[^/]+/(round-[1-9][0-9]{0,2}-[1-9][0-9]{0,2}|decryption-[1-9][0-9]{0,2})\.bin$`)

// emptyList reports whether the file at name (ballots.bin or
// spoiled.jsonl) holds no ballot: it is empty, or, for spoiled.jsonl,
// every line is blank (SPEC.md §10.1).
func emptyList(path, name string) bool {
	data, err := record.ReadFile(path)
	return err == nil && (len(data) == 0 || name == record.Spoiled && len(record.SpoiledLines(data)) == 0)
}

// equalContent compares a record file with the board's (SPEC.md §13.6 step
// 3): manifest.json and ballots.bin byte for byte; spoiled.jsonl line by
// line (split on "\n", blank lines skipped), each line as compact JSON;
// other JSON files as compact JSON. Compact JSON is the text with the
// whitespace outside strings removed and nothing else changed (no key
// reordering, no re-escaping); text that is not one JSON value is unequal
// to everything.
func equalContent(name string, a, b []byte) bool {
	switch {
	case name == record.Spoiled:
		la, oka := compactLines(a)
		lb, okb := compactLines(b)
		return oka && okb && slices.Equal(la, lb)
	case !strings.HasSuffix(name, ".json") || name == record.Manifest:
		return bytes.Equal(a, b)
	}
	ca, oka := compact(a)
	cb, okb := compact(b)
	return oka && okb && ca == cb
}

func compact(data []byte) (string, bool) {
	var c bytes.Buffer
	if !json.Valid(data) || json.Compact(&c, data) != nil {
		return "", false
	}
	return c.String(), true
}

// compactLines returns the non-blank lines of a JSON-lines file, each as
// compact JSON; ok is false if a line is not one JSON value.
func compactLines(data []byte) (lines []string, ok bool) {
	for _, line := range record.SpoiledLines(data) {
		c, ok := compact(line)
		if !ok {
			return nil, false
		}
		lines = append(lines, c)
	}
	return lines, true
}

// checkLifecycle checks the order of the entries, what each requires
// before it, and the eligibility evidence (SPEC.md §13.6 step 4, rules
// L1–L9): exactly one registrar-key entry, before election-key and open;
// roll entries before open, their commitments distinct; every
// credential-issued entry by roll naming a distinct commitment of the
// roll, every one by digital ID a distinct value.
//
// The mix entries' rules (SPEC.md §16.6) need the election, its qualified
// trustees and the number of counted ballots, N (from ballots.bin as the
// board implies it); with e nil, a mix entry is refused.
func checkLifecycle(r *Report, entries []board.Entry, e *ballot.Election, res *ceremony.Result, counted int) bool {
	const what = "board"
	l := newLifecycle()
	if e != nil {
		l.mix = newMixRules(e, res.VerificationKeys)
		l.mix.count = counted
	}
	if len(entries) == 0 {
		r.fail(what, "entry 0 is not the manifest: a board begins with its manifest")
		return false
	}
	for i, en := range entries {
		if err := l.add(i, en); err != nil {
			r.fail(what, "%v", err)
			return false
		}
	}
	if err := l.end(); err != nil {
		r.fail(what, "%v", err)
		return false
	}
	r.pass(what, "entries follow the election's lifecycle; the registrar key (entry %d) stands before the election key and open", l.registrar)
	if l.reissued == 0 {
		r.pass(what, "eligibility: a roll of %d voters published before open; %d credentials issued by roll, each to a distinct voter of that roll; %d by digital ID, each a distinct registration", l.live, len(l.issued), len(l.digital))
	} else {
		r.pass(what, "eligibility: a roll of %d voters published before open (%d codes re-issued, each revoking one); %d credentials issued by roll, each to a distinct live commitment of that roll; %d by digital ID, each a distinct registration", l.live, l.reissued, len(l.issued), len(l.digital))
	}
	r.issued, r.issuedRoll, r.issuedDigital = len(l.issued)+len(l.digital), len(l.issued), len(l.digital)
	return true
}

// lifecycle is the state the rules L1–L9 (SPEC.md §13.6 step 4) keep as
// the entries are read in log order: checkLifecycle feeds it a whole
// board, a Follower one entry at a time.
type lifecycle struct {
	phase       int // 0 setup, 1 open, 2 closed, 3 tallied, 4 published
	registrar   int // the registrar-key entry's index, -1 before it
	electionKey []byte
	// fixed is the index of the first key-ceremony or election-key entry,
	// after which no manifest may supersede the last one; -1 before it.
	fixed    int
	roll     map[[32]byte]bool // the roll's commitments, live (true) or revoked by a re-issue (false)
	live     int               // how many of them are live
	reissued int               // reissue entries
	issued   map[[32]byte]bool // roll commitments named by an issuance
	digital  map[[32]byte]bool
	// mix keeps the rules of the mix entries (SPEC.md §16.6); nil until
	// the election is known (a Follower learns it at open, before any
	// mix entry may stand).
	mix *mixRules
}

func newLifecycle() *lifecycle {
	return &lifecycle{registrar: -1, fixed: -1, roll: map[[32]byte]bool{}, issued: map[[32]byte]bool{}, digital: map[[32]byte]bool{}}
}

// add checks entry i, the entry after the ones added before.
func (l *lifecycle) add(i int, en board.Entry) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("entry %d (%s): %s", i, en.Type, fmt.Sprintf(format, args...))
	}
	if i == 0 && en.Type != board.TypeManifest {
		return errors.New("entry 0 is not the manifest: a board begins with its manifest")
	}
	if en.Type == board.TypeMix || en.Type == board.TypeMixDecryption {
		if l.phase != 3 || l.mix == nil {
			return bad("mix and mix-decryption entries come after the tally and before the results")
		}
	}
	if l.mix != nil {
		if err := l.mix.feed(i, en); err != nil {
			return err
		}
	}
	switch en.Type {
	case board.TypeManifest: // L1
		if l.fixed >= 0 || l.phase != 0 {
			return bad("a manifest may supersede the draft's only in setup, before the key ceremony (entry %d) binds it", l.fixed)
		}
	case board.TypeRegistrarKey: // L2
		switch {
		case l.registrar >= 0:
			return bad("a second registrar key (the first is entry %d)", l.registrar)
		case l.phase != 0 || l.electionKey != nil:
			return bad("the registrar key must stand before the election-key and open entries, which commit to it")
		}
		l.registrar = i
	case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond: // L3
		if l.phase != 0 {
			return bad("key ceremony messages come before the election opens")
		}
		if l.fixed < 0 {
			l.fixed = i
		}
	case board.TypeElectionKey: // L4
		if l.phase != 0 {
			return bad("the election key comes before the election opens")
		}
		if l.fixed < 0 {
			l.fixed = i
		}
		if l.electionKey == nil {
			l.electionKey = en.Body
		} else if !bytes.Equal(l.electionKey, en.Body) {
			return bad("this election key differs from the one in an earlier election-key entry")
		}
	case board.TypeOpen: // L5
		switch {
		case l.phase != 0:
			return bad("the election opens once")
		case l.registrar < 0:
			return bad("the election opens before the registrar key is on the board")
		case l.electionKey == nil:
			return bad("the election opens before its election key is on the board")
		}
		l.phase = 1
	case board.TypeRoll: // L6
		cs, err := board.DecodeRoll(en.Body)
		if err != nil {
			return bad("%v", err)
		}
		if l.phase != 0 {
			return bad("the roll is published before the election opens")
		}
		for _, c := range cs {
			if _, ok := l.roll[c]; ok {
				return bad("roll commitment %x… is listed twice", c[:8])
			}
			l.roll[c] = true
			l.live++
		}
	case board.TypeReissue: // L11
		re, err := board.DecodeReissue(en.Body)
		if err != nil {
			return bad("%v", err)
		}
		live, ok := l.roll[re.Revoked]
		switch {
		case l.phase > 1:
			return bad("codes are re-issued only before the election closes")
		case !ok:
			return bad("it revokes %x…, which is not on the roll", re.Revoked[:8])
		case !live:
			return bad("it revokes %x…, which was revoked before", re.Revoked[:8])
		case l.issued[re.Revoked]:
			return bad("it revokes %x…, whose voter was issued a credential", re.Revoked[:8])
		}
		if _, ok := l.roll[re.Roll]; ok {
			return bad("its new commitment %x… is on the roll already", re.Roll[:8])
		}
		l.roll[re.Revoked], l.roll[re.Roll] = false, true
		l.reissued++
	case board.TypeCredentialIssued, board.TypeBallot, board.TypeSpoiled: // L7
		if l.phase != 1 {
			return bad("only while the election is open")
		}
		if en.Type != board.TypeCredentialIssued {
			break
		}
		in, err := board.DecodeIssued(en.Body)
		if err != nil {
			return bad("%v", err)
		}
		switch { // L9
		case in.DigitalID && l.digital[in.Value]:
			return bad("digital-ID registration %x… is recorded twice", in.Value[:8])
		case in.DigitalID:
			l.digital[in.Value] = true
		case !l.roll[in.Value]:
			if _, revoked := l.roll[in.Value]; revoked {
				return bad("a credential was issued to %x…, whose code was revoked by a re-issue", in.Value[:8])
			}
			return bad("a credential was issued to %x…, which is not on the roll published before open", in.Value[:8])
		case l.issued[in.Value]:
			return bad("the voter with roll commitment %x… was issued a second credential", in.Value[:8])
		default:
			l.issued[in.Value] = true
		}
	case board.TypeClose: // L5
		if l.phase != 1 {
			return bad("the election closes once, after it opened")
		}
		l.phase = 2
	case board.TypeTally: // L5
		if l.phase != 2 {
			return bad("the tally follows the close, once")
		}
		l.phase = 3
	case board.TypeDecryption: // L8
		if l.phase != 3 {
			return bad("decryptions follow the tally and precede the results")
		}
	case board.TypeResults: // L5
		if l.phase != 3 {
			return bad("the results follow the tally, once")
		}
		if l.mix != nil {
			if err := l.mix.ready(); err != nil {
				return bad("%v", err)
			}
		}
		l.phase = 4
	}
	return nil
}

// end checks what a whole board needs once all its entries are added.
func (l *lifecycle) end() error {
	if l.registrar < 0 { // L2
		return errors.New("no registrar key on the board")
	}
	if l.mix != nil {
		return l.mix.end()
	}
	return nil
}

// registrarKey returns the key of the board's one registrar-key entry,
// which checkLifecycle found.
func registrarKey(r *Report, entries []board.Entry) *credential.PublicKey {
	for i, en := range entries {
		if en.Type != board.TypeRegistrarKey {
			continue
		}
		var b board.RegistrarKeyBody
		pub := new(credential.PublicKey)
		if err := strictjson.Decode(en.Body, &b); err != nil {
			r.fail("board", "entry %d: not a registrar key: %v", i, err)
			return nil
		}
		if err := pub.UnmarshalText([]byte(b.Key)); err != nil {
			r.fail("board", "entry %d: not a registrar key: %v", i, err)
			return nil
		}
		return pub
	}
	r.fail("board", "no registrar key on the board")
	return nil
}

// trustBoard states what a board record's verification still trusts.
func trustBoard(r *Report) {
	r.Trusted = append(r.Trusted,
		"that the registrar checked each person's eligibility (voter id and one-time code, or the digital ID's claims) before issuing a credential",
		"that the roll published at open lists only eligible people, each once: it is a list of hiding commitments, checkable by each voter from their letter (koe voter check-roll), not by the verifier",
		"that each digital-ID issuance entry is a distinct eligible resident not also registered by roll: the verifier counts them, each voter can find their own",
		"that the registrar and ballot box do not collude to link a registration to a ballot by time (see SPEC §15.5)",
	)
}

// trustNoBoard states what verification of a record without a board
// trusts.
func trustNoBoard(r *Report) {
	r.Trusted = append(r.Trusted,
		"that every counted ballot came from a distinct eligible voter: this record has no bulletin board, so it holds no evidence of eligibility or of issued credentials",
	)
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
	last := counters{}
	for _, it := range items {
		if key := validKey[it.pos]; key != nil {
			if err := last.add(it.index, *key, it.env.Counter); err != nil {
				failures = append(failures, err.Error())
			}
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
		r.fail("board", "%d credentials cast ballots, but only %d were issued (%d by roll, %d by digital ID)", len(keys), r.issued, r.issuedRoll, r.issuedDigital)
		return
	}
	r.pass("board", "%d cast envelopes: every credential is the registrar's, every signature and proof valid; %d credentials voted", len(items), len(keys))
}

// counters applies the counter rule (SPEC.md §15.4 rule 1) along the
// board: each credential key's last counter among its valid envelopes.
type counters map[[32]byte]uint64

// add checks that the valid envelope at board entry index, of credential
// key, has the counter after the key's last, and records it; an envelope
// that fails takes no counter.
func (c counters) add(index int, key [32]byte, counter uint64) error {
	prev, seen := c[key]
	next := store.NextCounter(prev, seen)
	switch err := store.CheckCounter(prev, seen, counter); {
	case errors.Is(err, store.ErrReplay):
		return fmt.Errorf("entry %d: counter %d repeats or goes below the credential's last, %d; its next counter is %d", index, counter, prev, next)
	case err != nil:
		return fmt.Errorf("entry %d: counter %d skips: the credential's next counter is %d", index, counter, next)
	}
	c[key] = counter
	return nil
}
