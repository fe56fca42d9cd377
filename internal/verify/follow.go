package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// EntryError is a board entry that fails a check of a Follower. Fatal is
// set when the board's state is no longer known (a lifecycle rule, a
// malformed setup entry, a ceremony that does not verify): the follower
// then refuses every later entry. An invalid cast envelope is not fatal:
// it takes no counter (SPEC.md §15.4) and the follower goes on.
type EntryError struct {
	Index int64
	Type  string // the entry's type, "" if it does not decode
	Err   error
	Fatal bool
}

func (e *EntryError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("board entry %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("board entry %d (%s): %v", e.Index, e.Type, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// Follower checks an election's board one entry at a time, in log order,
// as a monitor receives it (SPEC.md §13.9): each entry decodes and is of
// the election (§13.6 step 2); the entries follow the lifecycle (step 4,
// rules L1–L9, the same code checkLifecycle runs); the manifest entry is
// the pinned manifest (the last one, once the first key-ceremony or
// election-key entry binds it: a draft's manifest may be superseded
// before); at most one ceremony message per trustee and round
// and one decryption per trustee (step 3); at the open entry the ceremony
// verifies, the registrar key decodes and the election-key entry is what
// the ceremony implies (§11 steps 1–2); every cast envelope is valid
// (ballotbox.Check, every proof on its own) and keeps the counter rule
// (step 5); at close no more credentials cast than were issued; and the
// mix and mix-decryption entries keep the rules of SPEC.md §16.6 that need
// no ballot (mixRules: consecutive parts of exact sizes, t rounds by
// distinct qualified trustees, shares after them, one per trustee, all of
// them before the results). A board that ends inside a mix message is
// not an error here: its next parts may still come. It
// keeps only the state those checks need, never the entries. The files
// derived from the whole board, the tally, decryptions and results are
// checked by Record once the election is published.
type Follower struct {
	id       string
	pinned   []byte // the manifest the board must begin with, nil if none
	n        int64
	lc       *lifecycle
	manifest []byte
	msgs     map[string]map[int][]byte
	shares   map[int]bool
	reg      *credential.PublicKey
	election *ballot.Election
	counters counters
	keys     map[[32]byte]bool
	cast     map[[32]byte]bool // the credentials of every envelope, as ballotbox.Counted counts them
	broken   *EntryError
	ballots  int
}

// NewFollower returns a follower of election id's board from its entry 0.
// If manifest is not nil the board's manifest, as the key ceremony binds
// it (SPEC.md §13.6 L1), must be exactly these bytes.
func NewFollower(id string, manifest []byte) *Follower {
	return &Follower{id: id, pinned: manifest, lc: newLifecycle(), msgs: map[string]map[int][]byte{},
		shares: map[int]bool{}, counters: counters{}, keys: map[[32]byte]bool{}, cast: map[[32]byte]bool{}}
}

// Size is the number of entries added.
func (f *Follower) Size() int64 { return f.n }

// Ballots is the number of cast envelopes added, valid or not.
func (f *Follower) Ballots() int { return f.ballots }

// Phase names the board's phase after the entries added: setup, open,
// closed, tallied or published.
func (f *Follower) Phase() string {
	return [...]string{"setup", "open", "closed", "tallied", "published"}[f.lc.phase]
}

// Published reports whether the results entry has been added.
func (f *Follower) Published() bool { return f.lc.phase == 4 }

// Manifest returns the manifest entry's bytes, nil before it.
func (f *Follower) Manifest() []byte { return f.manifest }

// Add checks raw, the bytes of the board's next entry (index Size()). A
// failing entry is an *EntryError; the entry counts as added unless the
// error is fatal.
func (f *Follower) Add(raw []byte) error {
	if f.broken != nil {
		return &EntryError{Index: f.n, Err: fmt.Errorf("not checked: the board is invalid from entry %d on", f.broken.Index), Fatal: true}
	}
	i := f.n
	fatal := func(t string, err error) error {
		f.broken = &EntryError{Index: i, Type: t, Err: err, Fatal: true}
		return f.broken
	}
	en, err := board.DecodeEntry(raw)
	if err != nil {
		return fatal("", err)
	}
	if en.Election != f.id {
		return fatal(en.Type, fmt.Errorf("of election %q, not %q", en.Election, f.id))
	}
	if en.Type == board.TypeTally && f.lc.mix != nil {
		// The mixes are of the counted ballots: one per credential.
		f.lc.mix.count = len(f.cast)
	}
	if err := f.lc.add(int(i), en); err != nil {
		return fatal(en.Type, err)
	}
	if f.lc.fixed == int(i) && f.pinned != nil && !bytes.Equal(f.manifest, f.pinned) {
		// The draft's last manifest, now bound by the ceremony (L1).
		return fatal(en.Type, fmt.Errorf("the board's manifest (hash %x) is not the election's (hash %x)", ballot.Hash(f.manifest), ballot.Hash(f.pinned)))
	}
	switch en.Type {
	case board.TypeManifest:
		var b board.ManifestBody
		if err := strictjson.Decode(en.Body, &b); err != nil {
			return fatal(en.Type, err)
		}
		m, err := strictjson.Base64(b.Manifest)
		if err != nil {
			return fatal(en.Type, err)
		}
		pm, err := ballot.ParseManifest(m)
		if err != nil {
			return fatal(en.Type, err)
		}
		if pm.ID != f.id {
			return fatal(en.Type, fmt.Errorf("the manifest is of election %q", pm.ID))
		}
		f.manifest = m
	case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond:
		var b board.CeremonyBody
		if err := strictjson.Decode(en.Body, &b); err != nil {
			return fatal(en.Type, err)
		}
		if f.msgs[en.Type] == nil {
			f.msgs[en.Type] = map[int][]byte{}
		}
		if _, dup := f.msgs[en.Type][b.Trustee]; dup {
			return fatal(en.Type, fmt.Errorf("trustee %d's second %s message", b.Trustee, en.Type))
		}
		f.msgs[en.Type][b.Trustee] = b.Message
	case board.TypeRegistrarKey:
		var b board.RegistrarKeyBody
		if err := strictjson.Decode(en.Body, &b); err != nil {
			return fatal(en.Type, fmt.Errorf("not a registrar key: %v", err))
		}
		f.reg = new(credential.PublicKey)
		if err := f.reg.UnmarshalText([]byte(b.Key)); err != nil {
			return fatal(en.Type, fmt.Errorf("not a registrar key: %v", err))
		}
	case board.TypeOpen:
		if err := f.open(); err != nil {
			return fatal(en.Type, err)
		}
	case board.TypeBallot:
		f.ballots++
		f.n++
		env, err := ballotbox.ParseEnvelope(en.Body)
		if err != nil {
			return &EntryError{Index: i, Type: en.Type, Err: err}
		}
		if len(env.Credential) >= 32 {
			f.cast[credential.KeyHash(env.Credential[:32])] = true
		}
		c, err := ballotbox.Check(f.election, f.reg, env, nil)
		if err != nil {
			return &EntryError{Index: i, Type: en.Type, Err: err}
		}
		if err := f.counters.add(int(i), c.Key, env.Counter); err != nil {
			return &EntryError{Index: i, Type: en.Type, Err: errors.New(trimEntry(err.Error()))}
		}
		f.keys[c.Key] = true
		return nil
	case board.TypeClose:
		if issued := len(f.lc.issued) + len(f.lc.digital); len(f.keys) > issued {
			return fatal(en.Type, fmt.Errorf("%d credentials cast ballots, but only %d were issued", len(f.keys), issued))
		}
	case board.TypeDecryption:
		var b board.DecryptionBody
		if err := strictjson.Decode(en.Body, &b); err != nil {
			return fatal(en.Type, err)
		}
		if f.shares[b.Trustee] {
			return fatal(en.Type, fmt.Errorf("trustee %d's second decryption", b.Trustee))
		}
		f.shares[b.Trustee] = true
	}
	f.n++
	return nil
}

// open verifies the ceremony the setup entries hold and builds the
// election its ballots are checked for (as record.LoadElection does from
// a record's files), and checks the election-key entry against it.
func (f *Follower) open() error {
	m, err := ballot.ParseManifest(f.manifest)
	if err != nil {
		return err
	}
	tr := &ceremony.Transcript{Params: ceremony.Params{N: m.Trustees, T: m.Threshold}}
	for _, round := range ceremony.Rounds {
		js := make([]int, 0, len(f.msgs[round]))
		for j := range f.msgs[round] {
			js = append(js, j)
		}
		slices.Sort(js)
		for _, j := range js {
			if err := tr.AddMessage(round, j, f.msgs[round][j]); err != nil {
				return fmt.Errorf("trustee %d's %s message: %w", j, round, err)
			}
		}
	}
	h := ballot.Hash(f.manifest)
	res, err := tr.Verify(h[:])
	if err != nil {
		return err
	}
	e, err := ballot.NewElection(f.manifest, res.JointKey, f.reg.ID())
	if err != nil {
		return err
	}
	var published record.Params
	if err := strictjson.Decode(f.lc.electionKey, &published); err != nil {
		return fmt.Errorf("the election-key entry: %v", err)
	}
	want, _ := json.Marshal(record.ParamsOf(e, res))
	got, _ := json.Marshal(&published)
	if !bytes.Equal(want, got) {
		return errors.New("the election-key entry does not match the parameters the manifest and ceremony imply (joint key, context or verification keys differ)")
	}
	f.election = e
	f.lc.mix = newMixRules(e, res.VerificationKeys)
	return nil
}

// trimEntry drops the "entry N: " counters.add puts first: an EntryError
// names the entry already.
func trimEntry(s string) string {
	if _, rest, ok := strings.Cut(s, ": "); ok {
		return rest
	}
	return s
}
