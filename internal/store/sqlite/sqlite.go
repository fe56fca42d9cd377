// Package sqlite implements [store.Store] in one SQLite file, with the pure-Go
// driver modernc.org/sqlite. It is koe's embedded default.
//
// # Durability and concurrency
//
// The database runs in WAL mode with synchronous=FULL, so a transaction is on
// disk before its method returns and before any receipt is handed out. All
// writes go through one connection and begin with BEGIN IMMEDIATE, so they
// are serialised within the process and, through SQLite's own lock (waited
// for up to busy_timeout), across processes that open the same file. Reads
// use a separate pool of query-only connections and never wait for writers.
//
// # Schema (version 5)
//
//	schema_version (version)
//	elections   (seq, id, state, manifest, config, tree_size)
//	log_entries (election, idx, data)          -- the board: entry idx of the log
//	log_hashes  (election, idx, hash)          -- tlog stored hash at storage index idx
//	checkpoints (election, size, checkpoint)   -- latest signed checkpoint
//	roll        (election, voter, code, issued, blinded, commitment)
//	revoked     (election, voter, code)    -- codes revoked by a re-issue
//	credentials (election, credential, last_counter, log_index)
//	tracking    (election, tracking, log_index)
//	spoiled     (election, tracking, log_index)
//	ciphertexts (election, a, credential)      -- A components; credential NULL if spoiled
//	staff_accounts (name, role, password, created, oidc_issuer, oidc_subject) -- console accounts; password is an argon2id hash
//	staff_sessions (id, account, expires)      -- console sessions; id is SHA-256 of the cookie's value
//	audit_log   (seq, time, actor, action, election, detail, outcome)
//
// elections.tree_size is the head of the election's log: the number of
// entries, read and advanced in the write transaction that appends.
//
// Ballot secrecy is structural. The registrar's table (roll) and the ballot
// box's tables (credentials, tracking) have no column in common but the
// election id, and nothing in the database relates a voter to a credential:
// there is no foreign key, no shared sequence, no timestamp and no client
// address in any of them. The roll, credential and tracking tables are
// WITHOUT ROWID tables clustered on their keyed hashes, so not even the
// physical order of rows records the order in which voters were issued or
// credentials first cast. The only record of time is the order of entries
// on the board itself.
//
// credentials.last_counter holds the uint64 counter's bits as an int64;
// counters are only ever compared in Go, after converting back.
package sqlite

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/koe-vote/koe/internal/store"
)

// schema lists the migrations; schema version i is reached by applying
// schema[:i].
var schema = []string{
	// Version 1.
	`
CREATE TABLE elections (
	seq       INTEGER PRIMARY KEY,
	id        TEXT    NOT NULL UNIQUE,
	state     TEXT    NOT NULL,
	manifest  BLOB    NOT NULL,
	config    BLOB    NOT NULL,
	tree_size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE log_entries (
	election TEXT    NOT NULL,
	idx      INTEGER NOT NULL,
	data     BLOB    NOT NULL,
	PRIMARY KEY (election, idx)
) WITHOUT ROWID;
CREATE TABLE log_hashes (
	election TEXT    NOT NULL,
	idx      INTEGER NOT NULL,
	hash     BLOB    NOT NULL,
	PRIMARY KEY (election, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
	election   TEXT    NOT NULL PRIMARY KEY,
	size       INTEGER NOT NULL,
	checkpoint BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE roll (
	election TEXT    NOT NULL,
	voter    BLOB    NOT NULL,
	code     BLOB    NOT NULL,
	issued   INTEGER NOT NULL,
	PRIMARY KEY (election, voter)
) WITHOUT ROWID;
CREATE TABLE credentials (
	election     TEXT    NOT NULL,
	credential   BLOB    NOT NULL,
	last_counter INTEGER NOT NULL,
	log_index    INTEGER NOT NULL,
	PRIMARY KEY (election, credential)
) WITHOUT ROWID;
CREATE TABLE tracking (
	election  TEXT    NOT NULL,
	tracking  BLOB    NOT NULL,
	log_index INTEGER NOT NULL,
	PRIMARY KEY (election, tracking)
) WITHOUT ROWID;
`,
	// 2: the blinded message of each issuance, for retries.
	`ALTER TABLE roll ADD COLUMN blinded BLOB`,
	// 3: digital-ID sign-ins in progress, shared by the front ends.
	`CREATE TABLE oidc_pending (
	key     BLOB    NOT NULL PRIMARY KEY,
	data    BLOB    NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oidc_pending_expires ON oidc_pending (expires);`,
	// 4: the ballot box's index of spoiled ballots and of ciphertexts (A
	// components), for the cross-ballot rules of SPEC §15.4. credential is
	// NULL for a spoiled ballot's.
	`CREATE TABLE spoiled (
	election  TEXT    NOT NULL,
	tracking  BLOB    NOT NULL,
	log_index INTEGER NOT NULL,
	PRIMARY KEY (election, tracking)
) WITHOUT ROWID;
CREATE TABLE ciphertexts (
	election   TEXT NOT NULL,
	a          BLOB NOT NULL,
	credential BLOB,
	PRIMARY KEY (election, a)
) WITHOUT ROWID;`,
	// 5: re-issued letters (SPEC §15.3): each voter's roll commitment, and
	// the revoked codes' keyed hashes.
	`ALTER TABLE roll ADD COLUMN commitment BLOB;
CREATE TABLE revoked (
	election TEXT NOT NULL,
	voter    BLOB NOT NULL,
	code     BLOB NOT NULL,
	PRIMARY KEY (election, voter, code)
) WITHOUT ROWID;`,
	// 6: the console's staff accounts, their sessions and the audit log
	// (staff.go).
	`CREATE TABLE staff_accounts (
	name     TEXT    NOT NULL PRIMARY KEY,
	role     TEXT    NOT NULL,
	password BLOB    NOT NULL,
	created  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE staff_sessions (
	id      BLOB    NOT NULL PRIMARY KEY,
	account TEXT    NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_expires ON staff_sessions (expires);
CREATE TABLE audit_log (
	seq      INTEGER PRIMARY KEY,
	time     INTEGER NOT NULL,
	actor    TEXT    NOT NULL,
	action   TEXT    NOT NULL,
	election TEXT    NOT NULL,
	detail   TEXT    NOT NULL,
	outcome  TEXT    NOT NULL
);`,
	// 7 (staff OIDC): a staff account's binding to a person at the
	// console's OpenID provider, unique when set.
	`ALTER TABLE staff_accounts ADD COLUMN oidc_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_accounts ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX staff_accounts_oidc ON staff_accounts (oidc_issuer, oidc_subject) WHERE oidc_subject != '';`,
}

// Store is a SQLite-backed [store.Store].
type Store struct {
	w *sql.DB // one connection; every write transaction
	r *sql.DB // query-only connections
}

var _ store.Store = (*Store)(nil)

// busyTimeout is how long, in milliseconds, a connection waits for another
// process's lock on the file.
const busyTimeout = 10000

// Open opens (creating if need be) the database at path and brings its
// schema up to date.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: unsupported database path %q (want a plain file name without '?')", path)
	}
	w, err := sql.Open("sqlite", fmt.Sprintf(
		"%s?_busy_timeout=%d&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate", path, busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %q: %w", path, err)
	}
	r, err := sql.Open("sqlite", fmt.Sprintf(
		"%s?_busy_timeout=%d&_synchronous=FULL&_query_only=1", path, busyTimeout))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: opening %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	return s, nil
}

// migrate creates or upgrades the schema.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if v > len(schema) {
			return fmt.Errorf("database schema version %d is newer than this koe's (%d): upgrade koe", v, len(schema))
		}
		for ; v < len(schema); v++ {
			if _, err := tx.ExecContext(ctx, schema[v]); err != nil {
				return fmt.Errorf("migrating to schema version %d: %w", v+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v)
		return err
	})
}

// Close closes the database.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// write runs f in a write transaction (BEGIN IMMEDIATE) and commits it if f
// returns nil.
func (s *Store) write(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// treeSize returns the size of the election's log, or store.ErrNotFound.
func treeSize(ctx context.Context, q querier, election string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT tree_size FROM elections WHERE id = ? AND state <> ?`, election, store.StateDeleted).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("election %q: %w", election, store.ErrNotFound)
	}
	return n, err
}

// appendEntries appends entries to the election's log of size n, with
// their hashes, and advances the log head. It returns the new size.
func appendEntries(ctx context.Context, tx *sql.Tx, election string, n int64, entries [][]byte) (int64, error) {
	if len(entries) == 0 {
		return n, nil
	}
	hashes, err := store.LogHashes(n, entries, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return readHashesOrdered(ctx, tx, election, indexes)
	}))
	if err != nil {
		return 0, fmt.Errorf("election %q: computing log hashes: %w", election, err)
	}
	insE, err := tx.PrepareContext(ctx, `INSERT INTO log_entries (election, idx, data) VALUES (?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer insE.Close()
	for i, e := range entries {
		if e == nil {
			e = []byte{}
		}
		if _, err := insE.ExecContext(ctx, election, n+int64(i), e); err != nil {
			return 0, err
		}
	}
	insH, err := tx.PrepareContext(ctx, `INSERT INTO log_hashes (election, idx, hash) VALUES (?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer insH.Close()
	start := tlog.StoredHashIndex(0, n)
	for i, h := range hashes {
		if _, err := insH.ExecContext(ctx, election, start+int64(i), h[:]); err != nil {
			return 0, err
		}
	}
	n += int64(len(entries))
	if _, err := tx.ExecContext(ctx, `UPDATE elections SET tree_size = ? WHERE id = ?`, n, election); err != nil {
		return 0, err
	}
	return n, nil
}

// readHashesOrdered returns the hashes at indexes, in that order, or an
// error wrapping store.ErrNotFound if one is missing.
func readHashesOrdered(ctx context.Context, q querier, election string, indexes []int64) ([]tlog.Hash, error) {
	found := make(map[int64]tlog.Hash, len(indexes))
	const chunk = 500
	for rest := indexes; len(rest) > 0; {
		part := rest[:min(chunk, len(rest))]
		rest = rest[len(part):]
		args := make([]any, 0, 1+len(part))
		args = append(args, election)
		for _, x := range part {
			args = append(args, x)
		}
		rows, err := q.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE election = ? AND idx IN (?`+
			strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var x int64
			var b []byte
			if err := rows.Scan(&x, &b); err != nil {
				rows.Close()
				return nil, err
			}
			if len(b) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("election %q: stored hash %d has %d bytes", election, x, len(b))
			}
			found[x] = tlog.Hash(b)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("election %q: hash at storage index %d: %w", election, x, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

// CreateElection implements [store.Store].
func (s *Store) CreateElection(ctx context.Context, e store.Election) error {
	if e.ID == "" {
		return errors.New("sqlite: empty election id")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO elections (id, state, manifest, config) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, e.ID, e.State, nonNil(e.Manifest), nonNil(e.Config))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var state string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM elections WHERE id = ?`, e.ID).Scan(&state); err == nil && state == store.StateDeleted {
				return fmt.Errorf("election %q: %w", e.ID, store.ErrDeleted)
			}
			return fmt.Errorf("election %q: %w", e.ID, store.ErrExists)
		}
		return nil
	})
}

// Election implements [store.Store].
func (s *Store) Election(ctx context.Context, id string) (store.Election, error) {
	e := store.Election{ID: id}
	err := s.r.QueryRowContext(ctx, `SELECT state, manifest, config FROM elections WHERE id = ? AND state <> ?`, id, store.StateDeleted).
		Scan(&e.State, &e.Manifest, &e.Config)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Election{}, fmt.Errorf("election %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Election{}, err
	}
	return e, nil
}

// Elections implements [store.Store].
func (s *Store) Elections(ctx context.Context) ([]store.Election, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, state, manifest, config FROM elections WHERE state <> ? ORDER BY seq`, store.StateDeleted)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Election
	for rows.Next() {
		var e store.Election
		if err := rows.Scan(&e.ID, &e.State, &e.Manifest, &e.Config); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetState implements [store.Store].
func (s *Store) SetState(ctx context.Context, id, from, to string, entry []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var state string
		var n int64
		err := tx.QueryRowContext(ctx, `SELECT state, tree_size FROM elections WHERE id = ? AND state <> ?`, id, store.StateDeleted).Scan(&state, &n)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("election %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if state != from {
			return fmt.Errorf("election %q is %q, not %q: %w", id, state, from, store.ErrStateConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE elections SET state = ? WHERE id = ?`, to, id); err != nil {
			return err
		}
		if entry != nil {
			_, err = appendEntries(ctx, tx, id, n, [][]byte{entry})
		}
		return err
	})
}

// SetConfig implements [store.Store].
func (s *Store) SetConfig(ctx context.Context, id, state string, config []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT state FROM elections WHERE id = ? AND state <> ?`, id, store.StateDeleted).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("election %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur != state {
			return fmt.Errorf("election %q is %q, not %q: %w", id, cur, state, store.ErrStateConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE elections SET config = ? WHERE id = ?`, config, id)
		return err
	})
}

// SetManifest implements [store.Store].
func (s *Store) SetManifest(ctx context.Context, id, state string, size int64, manifest, entry []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		var n int64
		err := tx.QueryRowContext(ctx, `SELECT state, tree_size FROM elections WHERE id = ? AND state <> ?`, id, store.StateDeleted).Scan(&cur, &n)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("election %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur != state || n != size {
			return fmt.Errorf("election %q is %q with %d entries, not %q with %d: %w", id, cur, n, state, size, store.ErrStateConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE elections SET manifest = ? WHERE id = ?`, nonNil(manifest), id); err != nil {
			return err
		}
		_, err = appendEntries(ctx, tx, id, n, [][]byte{entry})
		return err
	})
}

// deletedTables are the tables of an election's data that DeleteElection
// empties of it.
var deletedTables = []string{"log_entries", "log_hashes", "checkpoints", "roll", "credentials", "tracking", "spoiled", "ciphertexts"}

// DeleteElection implements [store.Store].
func (s *Store) DeleteElection(ctx context.Context, id, state string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT state FROM elections WHERE id = ? AND state <> ?`, id, store.StateDeleted).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("election %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur != state {
			return fmt.Errorf("election %q is %q, not %q: %w", id, cur, state, store.ErrStateConflict)
		}
		for _, table := range deletedTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE election = ?`, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE elections SET state = ?, manifest = ?, config = ?, tree_size = 0 WHERE id = ?`,
			store.StateDeleted, []byte{}, []byte{}, id)
		return err
	})
}

// Append implements [store.Store].
func (s *Store) Append(ctx context.Context, election string, entries [][]byte) (int64, error) {
	var first int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		first = n
		_, err = appendEntries(ctx, tx, election, n, entries)
		return err
	})
	return first, err
}

// AppendAt implements [store.Store].
func (s *Store) AppendAt(ctx context.Context, election string, at int64, entries [][]byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		if n != at {
			return fmt.Errorf("election %q: %d entries, not %d: %w", election, n, at, store.ErrLogMoved)
		}
		_, err = appendEntries(ctx, tx, election, n, entries)
		return err
	})
}

// TreeSize implements [store.Store].
func (s *Store) TreeSize(ctx context.Context, election string) (int64, error) {
	return treeSize(ctx, s.r, election)
}

// ReadHashes implements [store.Store].
func (s *Store) ReadHashes(ctx context.Context, election string, indexes []int64) ([]tlog.Hash, error) {
	return readHashesOrdered(ctx, s.r, election, indexes)
}

// ReadEntries implements [store.Store].
func (s *Store) ReadEntries(ctx context.Context, election string, start, n int64) ([][]byte, error) {
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("election %q: bad entry range [%d, %d+%d)", election, start, start, n)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT idx, data FROM log_entries WHERE election = ? AND idx >= ? AND idx < ? ORDER BY idx`,
		election, start, start+n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]byte, 0, n)
	for rows.Next() {
		var x int64
		var b []byte
		if err := rows.Scan(&x, &b); err != nil {
			return nil, err
		}
		if x != start+int64(len(out)) {
			return nil, fmt.Errorf("election %q: entry %d: %w", election, start+int64(len(out)), store.ErrNotFound)
		}
		out = append(out, nonNil(b))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("election %q: entry %d: %w", election, start+int64(len(out)), store.ErrNotFound)
	}
	return out, nil
}

// ImportRoll implements [store.Store].
func (s *Store) ImportRoll(ctx context.Context, election string, voters []store.RollEntry) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := treeSize(ctx, tx, election); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO roll (election, voter, code, issued, commitment) VALUES (?, ?, ?, 0, ?)
			ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, v := range voters {
			res, err := ins.ExecContext(ctx, election, v.Voter[:], v.Code[:], commitmentValue(v.Commitment))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("election %q: a voter is already on the roll or listed twice: %w", election, store.ErrExists)
			}
		}
		return nil
	})
}

// RollSize implements [store.Store].
func (s *Store) RollSize(ctx context.Context, election string) (voters, issued int64, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if _, err := treeSize(ctx, tx, election); err != nil {
		return 0, 0, err
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(issued), 0) FROM roll WHERE election = ?`, election).
		Scan(&voters, &issued)
	return voters, issued, err
}

// IssueCredential implements [store.Store].
func (s *Store) IssueCredential(ctx context.Context, election string, req store.Issue) (int64, error) {
	var index int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		var code, blinded []byte
		var issued bool
		err = tx.QueryRowContext(ctx, `SELECT code, issued, blinded FROM roll WHERE election = ? AND voter = ?`,
			election, req.Voter[:]).Scan(&code, &issued, &blinded)
		digital := req.Code == [32]byte{}
		switch {
		case errors.Is(err, sql.ErrNoRows) && digital:
			if _, err := tx.ExecContext(ctx, `INSERT INTO roll (election, voter, code, issued, blinded) VALUES (?, ?, ?, 1, ?)`,
				election, req.Voter[:], req.Code[:], req.Blinded[:]); err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("election %q: %w", election, store.ErrNotEligible)
		case err != nil:
			return err
		case !digital && subtle.ConstantTimeCompare(code, req.Code[:]) != 1:
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM revoked WHERE election = ? AND voter = ? AND code = ?`,
				election, req.Voter[:], req.Code[:]).Scan(&one)
			if err == nil {
				return fmt.Errorf("election %q: %w", election, store.ErrRevoked)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			return fmt.Errorf("election %q: %w", election, store.ErrNotEligible)
		case issued && store.SameBlinded(blinded, req.Blinded):
			return fmt.Errorf("election %q: %w", election, store.ErrIssuedBefore)
		case issued:
			return fmt.Errorf("election %q: %w", election, store.ErrAlreadyIssued)
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE roll SET issued = 1, blinded = ? WHERE election = ? AND voter = ?`,
				req.Blinded[:], election, req.Voter[:]); err != nil {
				return err
			}
		}
		index = n
		_, err = appendEntries(ctx, tx, election, n, [][]byte{req.Entry})
		return err
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// commitmentValue is a roll commitment as stored: NULL if zero (none kept).
func commitmentValue(c [32]byte) any {
	if c == [32]byte{} {
		return nil
	}
	return c[:]
}

// ReissueCode implements [store.Store].
func (s *Store) ReissueCode(ctx context.Context, election string, req store.Reissue) (int64, error) {
	var index int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM elections WHERE id = ?`, election).Scan(&state); err != nil {
			return err
		}
		if state != "setup" && state != store.StateOpen {
			return fmt.Errorf("election %q is %s: %w", election, state, store.ErrStateConflict)
		}
		var code, commitment []byte
		var issued bool
		err = tx.QueryRowContext(ctx, `SELECT code, issued, commitment FROM roll WHERE election = ? AND voter = ?`,
			election, req.Voter[:]).Scan(&code, &issued, &commitment)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("election %q: voter: %w", election, store.ErrNotFound)
		case err != nil:
			return err
		case issued:
			return fmt.Errorf("election %q: %w", election, store.ErrAlreadyIssued)
		case len(commitment) != 32 || bytes.Equal(code, make([]byte, 32)):
			return fmt.Errorf("election %q: the voter's roll commitment was not kept: %w", election, store.ErrNotFound)
		}
		entry, err := req.Entry([32]byte(commitment))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO revoked (election, voter, code) VALUES (?, ?, ?)`,
			election, req.Voter[:], code); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roll SET code = ?, commitment = ? WHERE election = ? AND voter = ?`,
			req.Code[:], req.Commitment[:], election, req.Voter[:]); err != nil {
			return err
		}
		index = n
		_, err = appendEntries(ctx, tx, election, n, [][]byte{entry})
		return err
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// CastBallots implements [store.Store].
func (s *Store) CastBallots(ctx context.Context, election string, casts []store.Cast) ([]store.CastResult, error) {
	var results []store.CastResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := openLog(ctx, tx, election)
		if err != nil {
			return err
		}
		st, err := newCastState(ctx, tx, election)
		if err != nil {
			return err
		}
		defer st.close()
		res, accepted, err := store.AcceptCasts(n, casts, st)
		if err != nil {
			return err
		}
		results = res
		if len(accepted) == 0 {
			return nil
		}
		entries := make([][]byte, len(accepted))
		for k, a := range accepted {
			entries[k] = casts[a.Cast].Entry
		}
		if _, err := appendEntries(ctx, tx, election, n, entries); err != nil {
			return err
		}
		putTrack, err := tx.PrepareContext(ctx, `INSERT INTO tracking (election, tracking, log_index) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer putTrack.Close()
		putCred, err := tx.PrepareContext(ctx, `INSERT INTO credentials (election, credential, last_counter, log_index)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (election, credential) DO UPDATE SET last_counter = excluded.last_counter, log_index = excluded.log_index`)
		if err != nil {
			return err
		}
		defer putCred.Close()
		for _, a := range accepted {
			c := &casts[a.Cast]
			if _, err := putTrack.ExecContext(ctx, election, c.Tracking[:], a.Index); err != nil {
				return err
			}
			if _, err := putCred.ExecContext(ctx, election, c.Credential[:], int64(c.Counter), a.Index); err != nil {
				return err
			}
			if err := putCiphertexts(ctx, tx, election, c.Ciphertexts, c.Credential[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// SpoilBallot implements [store.Store].
func (s *Store) SpoilBallot(ctx context.Context, election string, sp store.Spoil) (int64, error) {
	var index int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n, err := openLog(ctx, tx, election)
		if err != nil {
			return err
		}
		st, err := newCastState(ctx, tx, election)
		if err != nil {
			return err
		}
		defer st.close()
		if err := store.AcceptSpoil(sp, st); err != nil {
			return fmt.Errorf("election %q: %w", election, err)
		}
		if _, err := appendEntries(ctx, tx, election, n, [][]byte{sp.Entry}); err != nil {
			return err
		}
		index = n
		if _, err := tx.ExecContext(ctx, `INSERT INTO spoiled (election, tracking, log_index) VALUES (?, ?, ?)`,
			election, sp.Tracking[:], n); err != nil {
			return err
		}
		return putCiphertexts(ctx, tx, election, sp.Ciphertexts, nil)
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// openLog returns the election's tree size, or ErrStateConflict unless it
// is open.
func openLog(ctx context.Context, tx *sql.Tx, election string) (int64, error) {
	n, err := treeSize(ctx, tx, election)
	if err != nil {
		return 0, err
	}
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM elections WHERE id = ?`, election).Scan(&state); err != nil {
		return 0, err
	}
	if state != store.StateOpen {
		return 0, fmt.Errorf("election %q is %s: %w", election, state, store.ErrStateConflict)
	}
	return n, nil
}

// putCiphertexts indexes a ballot's A components under its credential
// (nil for a spoiled ballot); a re-vote may repeat its own.
func putCiphertexts(ctx context.Context, tx *sql.Tx, election string, as [][32]byte, credential []byte) error {
	for _, a := range as {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ciphertexts (election, a, credential) VALUES (?, ?, ?)
			ON CONFLICT (election, a) DO NOTHING`, election, a[:], credential); err != nil {
			return err
		}
	}
	return nil
}

// castState answers [store.CastState] from the ballot box's tables inside
// a write transaction.
type castState struct {
	ctx                          context.Context
	election                     string
	cred, track, spoiled, cipher *sql.Stmt
}

func newCastState(ctx context.Context, tx *sql.Tx, election string) (*castState, error) {
	st := &castState{ctx: ctx, election: election}
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.cred, `SELECT last_counter FROM credentials WHERE election = ? AND credential = ?`},
		{&st.track, `SELECT 1 FROM tracking WHERE election = ? AND tracking = ?`},
		{&st.spoiled, `SELECT 1 FROM spoiled WHERE election = ? AND tracking = ?`},
		{&st.cipher, `SELECT credential FROM ciphertexts WHERE election = ? AND a = ?`},
	} {
		stmt, err := tx.PrepareContext(ctx, q.sql)
		if err != nil {
			st.close()
			return nil, err
		}
		*q.dst = stmt
	}
	return st, nil
}

func (st *castState) close() {
	for _, s := range []*sql.Stmt{st.cred, st.track, st.spoiled, st.cipher} {
		if s != nil {
			s.Close()
		}
	}
}

func (st *castState) LastCounter(credential [32]byte) (uint64, bool, error) {
	var last int64
	err := st.cred.QueryRowContext(st.ctx, st.election, credential[:]).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return uint64(last), err == nil, err
}

func (st *castState) Tracking(tracking [32]byte) (store.TrackingState, error) {
	for _, q := range []struct {
		stmt *sql.Stmt
		ts   store.TrackingState
	}{{st.track, store.TrackingCast}, {st.spoiled, store.TrackingSpoiled}} {
		var one int
		err := q.stmt.QueryRowContext(st.ctx, st.election, tracking[:]).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, err
		default:
			return q.ts, nil
		}
	}
	return store.TrackingUnknown, nil
}

func (st *castState) Ciphertext(a [32]byte) ([32]byte, bool, bool, error) {
	var cred []byte
	err := st.cipher.QueryRowContext(st.ctx, st.election, a[:]).Scan(&cred)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return [32]byte{}, false, false, nil
	case err != nil:
		return [32]byte{}, false, false, err
	case cred == nil:
		return [32]byte{}, true, true, nil
	case len(cred) != 32:
		return [32]byte{}, false, false, fmt.Errorf("ciphertext index: credential of %d bytes", len(cred))
	}
	return [32]byte(cred), false, true, nil
}

// LookupTracking implements [store.Store].
func (s *Store) LookupTracking(ctx context.Context, election string, tracking [32]byte) (int64, error) {
	var index int64
	err := s.r.QueryRowContext(ctx, `SELECT log_index FROM tracking WHERE election = ? AND tracking = ?`,
		election, tracking[:]).Scan(&index)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("election %q: tracking code %x: %w", election, tracking[:], store.ErrNotFound)
	}
	return index, err
}

// LastCast implements [store.Store].
func (s *Store) LastCast(ctx context.Context, election string, credential [32]byte) (uint64, int64, error) {
	var last, index int64
	err := s.r.QueryRowContext(ctx, `SELECT last_counter, log_index FROM credentials WHERE election = ? AND credential = ?`,
		election, credential[:]).Scan(&last, &index)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("election %q: credential %x has not cast: %w", election, credential[:], store.ErrNotFound)
	}
	return uint64(last), index, err
}

// SaveCheckpoint implements [store.Store].
func (s *Store) SaveCheckpoint(ctx context.Context, election string, size int64, checkpoint []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		if size < 0 || size > n {
			return fmt.Errorf("election %q: checkpoint of size %d for a log of size %d", election, size, n)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO checkpoints (election, size, checkpoint) VALUES (?, ?, ?)
			ON CONFLICT (election) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint
			WHERE excluded.size >= checkpoints.size`, election, size, nonNil(checkpoint))
		return err
	})
}

// Checkpoint implements [store.Store].
func (s *Store) Checkpoint(ctx context.Context, election string) ([]byte, error) {
	var c []byte
	err := s.r.QueryRowContext(ctx, `SELECT checkpoint FROM checkpoints WHERE election = ?`, election).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("election %q: checkpoint: %w", election, store.ErrNotFound)
	}
	return c, err
}

// TableColumns returns the columns of one of the store's tables, from the
// catalog (PRAGMA table_info), so tests can check the schema's promises.
func (s *Store) TableColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols = append(cols, name)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %q: %w", table, store.ErrNotFound)
	}
	return cols, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// PutPending implements [store.Store].
func (s *Store) PutPending(ctx context.Context, key [32]byte, data []byte, expires, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_pending WHERE expires <= ?`, now.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO oidc_pending (key, data, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			key[:], data, expires.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("pending sign-in: %w", store.ErrExists)
		}
		return nil
	})
}

// TakePending implements [store.Store].
func (s *Store) TakePending(ctx context.Context, key [32]byte, now time.Time) ([]byte, error) {
	var data []byte
	var expires int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM oidc_pending WHERE key = ? RETURNING data, expires`, key[:]).Scan(&data, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pending sign-in: %w", store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if expires <= now.UnixNano() {
		return nil, fmt.Errorf("pending sign-in expired: %w", store.ErrNotFound)
	}
	return data, nil
}
