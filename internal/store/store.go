// Package store is koe's durable state, with an embedded SQLite backend
// (store/sqlite) and a PostgreSQL backend (store/postgres) that both pass
// the conformance suite in store/storetest.
//
// It is cut into one interface per role of SPEC.md §15.5, and Store is
// their union:
//
//   - Board, the public bulletin board: one append-only RFC 6962 Merkle
//     log per election, each entry stored in the same transaction as
//     every hash it adds (tables log_entries, log_hashes, checkpoints);
//   - Elections, the administrator's: each election's state, manifest and
//     sealed configuration (table elections);
//   - Roll and Pending, the registrar's: the voter roll (keyed hashes of
//     voter ids and of one-time codes), whether each voter was issued a
//     credential and the blinded message signed (table roll), and the
//     digital-ID sign-ins in progress (table oidc_pending);
//   - Casts, the ballot box's: for each anonymous credential (by the hash
//     of its key) the highest counter it cast and where (credentials), the
//     tracking codes of cast and spoiled ballots (tracking, spoiled) and
//     the A values of their ciphertexts (ciphertexts);
//   - Staff, the console's: the staff's accounts, their sessions and the
//     append-only audit log of administrative actions (tables
//     staff_accounts, staff_sessions, audit_log).
//
// The registrar's tables and the ballot box's never share a column but
// the election id, and no query joins them; the code that serves one role
// is given only that role's interface.
//
// Every method is one transaction, durable when it returns without error.
package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// StateOpen is the election state in which CastBallots accepts ballots.
const StateOpen = "open"

// StateDeleted is the state a driver keeps a deleted election's row in
// (DeleteElection): the row holds only the id, so that the id is never
// taken again. No method shows such a row: it is not found.
const StateDeleted = "deleted"

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrDeleted: CreateElection of the id of a deleted election, which
	// is never reused (a record of the deleted one names it).
	ErrDeleted       = errors.New("the id was a deleted election's")
	ErrStateConflict = errors.New("election is not in the expected state")
	// ErrLogMoved: AppendAt found the log at another size than the caller saw.
	ErrLogMoved      = errors.New("the log has grown since it was read")
	ErrNotEligible   = errors.New("not on the voter roll, or wrong one-time code")
	ErrAlreadyIssued = errors.New("a credential was already issued to this voter")
	// ErrIssuedBefore: this very request (voter, code and blinded message)
	// was issued before; nothing was written, and the registrar may sign
	// the same blinded message again (a retry after a lost answer).
	ErrIssuedBefore = errors.New("a credential was issued for this request before")
	ErrReplay       = errors.New("counter not above the credential's last cast")
	// ErrRevoked: the one-time code is the voter's, but it was revoked
	// when a new letter was issued (SPEC.md §15.3 Re-issue).
	ErrRevoked = errors.New("the one-time code was revoked: a new letter was issued")
)

// Election is an election's row: its id, its state and its manifest.
type Election struct {
	ID       string
	State    string // "setup", "open", "closed", "tallied", "published" — see server
	Manifest []byte
	// Config is the server's private JSON configuration of the election
	// (registration methods, rate limits); it is not published.
	Config []byte
}

// RollEntry is one voter on the roll: keyed hashes of the voter's id and of
// the one-time code, as the registrar computes them. The store never sees
// either in the clear.
type RollEntry struct {
	Voter [32]byte
	Code  [32]byte
	// Commitment is the voter's roll commitment (SPEC.md §15.3), which
	// is public on the board; kept so that a re-issue can name the
	// commitment it revokes (the registrar cannot recompute it without
	// the code).
	Commitment [32]byte
}

// Reissue asks to replace the one-time code of a voter who was not issued
// a credential (SPEC.md §15.3 Re-issue), atomically recording it on the
// board.
type Reissue struct {
	Voter      [32]byte // keyed hash of the voter id
	Code       [32]byte // keyed hash of the new one-time code
	Commitment [32]byte // the new letter's roll commitment
	// Entry returns the board entry recording the re-issue, given the
	// roll commitment being revoked (read in the same transaction).
	Entry func(revoked [32]byte) ([]byte, error)
}

// Issue asks to issue a credential to a voter, atomically recording the
// issuance on the board.
type Issue struct {
	Voter [32]byte // keyed hash of the voter id (or of the digital identity)
	Code  [32]byte // keyed hash of the one-time code; zero for digital-ID registration
	// Blinded is SHA-256 of the blinded message signed, kept with the
	// voter so that a retry of the same request is recognised.
	Blinded [32]byte
	Entry   []byte // the board entry recording the issuance
}

// Cast asks to append a ballot to the board for a credential.
type Cast struct {
	Credential [32]byte // hash of the credential's public key
	Counter    uint64   // must exceed the credential's last counter
	Tracking   [32]byte // the ballot's tracking code
	// Ciphertexts are the A components (encoded elements) of the ballot's
	// ciphertexts, indexed so that no two credentials' ballots, and no
	// spoiled and cast ballot, share one.
	Ciphertexts [][32]byte
	Entry       []byte // the board entry holding the signed ballot
}

// Spoil asks to append a spoiled (challenged) ballot to the board. Nothing
// in it names a credential.
type Spoil struct {
	Tracking    [32]byte   // the ballot's tracking code
	Ciphertexts [][32]byte // the A components of its ciphertexts
	Entry       []byte     // the board entry holding the opened ballot
}

// CastResult is the outcome of one Cast in a batch.
type CastResult struct {
	Index int64 // the entry's index in the election's log; -1 if Err is not nil
	Err   error // ErrReplay, or nil
}

// The store is cut along the roles of SPEC.md §15.5, one interface each,
// so that a part of the server given one role's interface cannot reach the
// data of another: the registrar (internal/server/registrar) is given Roll
// and Pending, the ballot box (internal/server/castbox) Casts, and neither
// is given the other's. Board and Elections are public or the
// administrator's. Store, their union, is what a driver implements and
// what only the lifecycle layer (internal/server) and the command line
// hold.

// Elections is the administrator's part of the store: the elections' rows,
// their lifecycle state and their sealed private configuration. It is
// used by the lifecycle layer (internal/server), which alone moves an
// election between states.
type Elections interface {
	// CreateElection adds an election; ErrExists if the id is taken.
	CreateElection(ctx context.Context, e Election) error
	// Election returns one election; ErrNotFound if there is none.
	Election(ctx context.Context, id string) (Election, error)
	// Elections lists every election, in order of creation.
	Elections(ctx context.Context) ([]Election, error)
	// SetState moves an election from state from to state to, and appends
	// entry (if not nil) to its log in the same transaction;
	// ErrStateConflict if it is not in state from.
	SetState(ctx context.Context, id, from, to string, entry []byte) error
	// SetConfig replaces an election's private configuration while it is
	// in the given state; ErrStateConflict (and nothing changed) if it is
	// not, ErrNotFound if there is no such election.
	SetConfig(ctx context.Context, id, state string, config []byte) error
	// SetManifest replaces the manifest of an election in the given state
	// whose log has exactly size entries, and appends entry to its log, in
	// one transaction; ErrStateConflict (and nothing changed) if the state
	// or the size differ, ErrNotFound if there is no such election.
	SetManifest(ctx context.Context, id, state string, size int64, manifest, entry []byte) error
	// DeleteElection removes an election in the given state and everything
	// stored of it (its log, hashes, checkpoint, roll, credentials,
	// tracking codes, spoiled ballots and ciphertexts) in one transaction;
	// ErrStateConflict (and nothing changed) if it is in another state,
	// ErrNotFound if there is none. The id stays taken: CreateElection of
	// it fails with ErrDeleted.
	DeleteElection(ctx context.Context, id, state string) error
}

// Board is the public bulletin board's part of the store (SPEC.md §13):
// each election's append-only log, its stored Merkle hashes and its
// latest signed checkpoint. Everything in it is public; board.Log is
// built on it.
type Board interface {
	// Append adds entries to the election's log with their hashes, in one
	// transaction, and returns the index of the first (with no entries, the
	// tree size). ErrNotFound if there is no such election.
	Append(ctx context.Context, election string, entries [][]byte) (int64, error)
	// AppendAt is Append only if the log has exactly at entries: a caller
	// that decided what to append from the log as it was (a mix round of
	// the latest list, a trustee's only decryption share) appends nothing,
	// with ErrLogMoved, when another front end appended in between.
	AppendAt(ctx context.Context, election string, at int64, entries [][]byte) error
	// TreeSize returns the number of entries in the election's log.
	TreeSize(ctx context.Context, election string) (int64, error)
	// ReadHashes returns the stored hashes at the given storage indexes
	// (tlog.StoredHashIndex), in that order, as tlog.HashReader does; an
	// error wrapping ErrNotFound if one is not stored.
	ReadHashes(ctx context.Context, election string, indexes []int64) ([]tlog.Hash, error)
	// ReadEntries returns entries [start, start+n) of the election's log;
	// an error wrapping ErrNotFound if the log has fewer than start+n.
	ReadEntries(ctx context.Context, election string, start, n int64) ([][]byte, error)

	// SaveCheckpoint stores a signed checkpoint of the election's log of
	// the given size, unless a larger one is stored already (then it does
	// nothing and returns nil: checkpoints never go back; one of equal
	// size, say with more cosignatures, replaces it). An error if size is
	// beyond the log. Checkpoint returns the stored one (ErrNotFound if none).
	SaveCheckpoint(ctx context.Context, election string, size int64, checkpoint []byte) error
	Checkpoint(ctx context.Context, election string) ([]byte, error)
}

// Roll is the registrar's part of the store (SPEC.md §15.3, §15.5): the
// voter roll, as keyed hashes of voter ids and one-time codes, and which
// voters were issued a credential. Only the registrar is given it; the
// ballot box never is, so no code of the ballot box can read who
// registered.
type Roll interface {
	// ImportRoll adds voters to the election's roll; ErrExists (and nothing
	// stored) if any voter is on it already.
	ImportRoll(ctx context.Context, election string, voters []RollEntry) error
	// RollSize returns the number of voters on the roll and how many were issued a credential.
	RollSize(ctx context.Context, election string) (voters, issued int64, err error)
	// IssueCredential checks that the voter may be issued a credential
	// (on the roll with this code, or, when Code is zero, registered by
	// digital ID: then the voter is added if absent), marks it issued and
	// appends the issuance entry, all in one transaction, and returns the
	// entry's index. ErrNotEligible if the voter is not on the roll or the
	// code is not theirs (checked first, so that a wrong code does not reveal
	// whether the voter was issued); ErrAlreadyIssued; ErrIssuedBefore for
	// the very same request again. It does not check the election's state:
	// the registrar does, before its batch (SPEC.md §15.5).
	IssueCredential(ctx context.Context, election string, req Issue) (int64, error)
	// ReissueCode replaces the one-time code and roll commitment of a voter
	// who was not issued a credential, keeps the old code's hash as revoked
	// (IssueCredential then answers ErrRevoked for it, with its voter), and
	// appends the entry req.Entry builds from the old commitment, all in one
	// transaction, returning the entry's index. ErrStateConflict unless the
	// election is in setup or open; ErrNotFound if the voter is not on the
	// roll by code (or was imported before roll commitments were kept);
	// ErrAlreadyIssued if the voter was issued a credential.
	ReissueCode(ctx context.Context, election string, req Reissue) (int64, error)
}

// Casts is the ballot box's part of the store (SPEC.md §15.4, §15.5): for
// each anonymous credential (by the hash of its key) its last counter and
// where that cast is on the board, the tracking codes of cast and spoiled
// ballots, and the index of their ciphertexts. Only the ballot box is
// given it; the registrar never is, so no code of the registrar can read
// which credential cast what.
type Casts interface {
	// CastBallots fails with ErrStateConflict, storing nothing, unless the
	// election is in StateOpen when the transaction runs, so no ballot can
	// follow the entry that closed the election. Otherwise it appends each
	// cast that [AcceptCasts] accepts, updates the counters and indexes the
	// tracking codes and ciphertexts, all in one transaction; the others
	// get the rule's error (ErrReplay, ErrSpoiledBallot,
	// ErrReusedCiphertext). Casts in one call are applied in order, so two
	// with the same credential and counter store one ballot. A returned
	// error means nothing of the batch was stored.
	CastBallots(ctx context.Context, election string, casts []Cast) ([]CastResult, error)
	// SpoilBallot appends a spoiled ballot, in one transaction with the
	// checks of [AcceptSpoil] and the index of its tracking code and
	// ciphertexts: ErrCastBallot if it was cast, ErrReplay if it was spoiled
	// already, ErrReusedCiphertext; ErrStateConflict unless the election
	// is open. It returns the entry's index.
	SpoilBallot(ctx context.Context, election string, sp Spoil) (int64, error)
	// LookupTracking returns the log index of the ballot with this tracking
	// code; ErrNotFound if there is none.
	LookupTracking(ctx context.Context, election string, tracking [32]byte) (int64, error)
	// LastCast returns the counter of the credential's last accepted cast
	// and that cast's log index; ErrNotFound if the credential never cast.
	// A device reads it to cast with the next counter (SPEC.md §15.4).
	LastCast(ctx context.Context, election string, credential [32]byte) (counter uint64, index int64, err error)
}

// Pending is the registrar's keeping of digital-ID sign-ins in progress
// (SPEC.md §15.6), shared by the front ends so that a sign-in started at
// one may return to another. A sign-in holds no identity.
type Pending interface {
	// PutPending keeps a digital-ID sign-in in progress (SPEC.md §15.6)
	// under key (a hash of its state) until expires, so that its callback
	// may reach any front end; it also removes the sign-ins expired by now.
	// ErrExists if key is kept already.
	PutPending(ctx context.Context, key [32]byte, data []byte, expires, now time.Time) error
	// TakePending returns and removes the sign-in kept under key: a
	// callback is single-use. ErrNotFound if there is none, or it expired
	// by now.
	TakePending(ctx context.Context, key [32]byte, now time.Time) ([]byte, error)
}

// Store is koe's storage, the union of the role interfaces, as each
// driver implements it. Implementations serialise appends to one log
// across every process that shares the database.
type Store interface {
	Elections
	Board
	Roll
	Casts
	Pending
	Staff
	Close() error
}

// LogHashes returns the hashes that appending entries to a log of size n
// stores, in storage-index order from tlog.StoredHashIndex(0, n): those of
// tlog.StoredHashes for entry n, then for entry n+1, and so on. r reads the
// hashes already stored; LogHashes reads at most once from it, the hashes
// of the complete subtrees of the tree of size n (the only stored hashes an
// append can need), so a backend can serve it with one query.
func LogHashes(n int64, entries [][]byte, r tlog.HashReader) ([]tlog.Hash, error) {
	if n < 0 {
		return nil, fmt.Errorf("store: negative tree size %d", n)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	start := tlog.StoredHashIndex(0, n)

	// The complete subtrees of the tree of size n: one at each level whose
	// bit is set in n.
	var peaks []int64
	for level := 62; level >= 0; level-- {
		if n>>level&1 == 1 {
			peaks = append(peaks, tlog.StoredHashIndex(level, n>>level-1))
		}
	}
	known := make(map[int64]tlog.Hash, len(peaks))
	if len(peaks) > 0 {
		hs, err := r.ReadHashes(peaks)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(peaks) {
			return nil, fmt.Errorf("store: read %d hashes, want %d", len(hs), len(peaks))
		}
		for i, x := range peaks {
			known[x] = hs[i]
		}
	}

	var added []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			switch h, ok := known[x]; {
			case ok:
				out[i] = h
			case x >= start && x-start < int64(len(added)):
				out[i] = added[x-start]
			default:
				// Unreachable if the peaks above are right; read it anyway.
				hs, err := r.ReadHashes([]int64{x})
				if err != nil {
					return nil, err
				}
				if len(hs) != 1 {
					return nil, fmt.Errorf("store: read %d hashes, want 1", len(hs))
				}
				out[i] = hs[0]
			}
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(n+int64(i), e, reader)
		if err != nil {
			return nil, err
		}
		added = append(added, hs...)
	}
	return added, nil
}

// SameBlinded reports whether a roll row's stored blinded-message hash is
// the request's (never for an empty or zero one).
func SameBlinded(stored []byte, req [32]byte) bool {
	return req != [32]byte{} && len(stored) == 32 && subtle.ConstantTimeCompare(stored, req[:]) == 1
}
