// Package postgres implements [store.Store] on PostgreSQL with
// github.com/jackc/pgx/v5, for deployments where several koe front ends
// share one database.
//
// # Concurrency
//
// Every method that appends to an election's log first locks the election's
// row (SELECT … FOR NO KEY UPDATE) in its transaction. The row holds the
// log's head (tree_size), so appends to one log are serialised across every
// process that shares the database, while different elections' logs, and
// reads, proceed in parallel. Checks made after taking the lock (a
// credential's last counter, a tracking code, a voter's issued flag) cannot
// be raced by another appender, so READ COMMITTED is enough. Each
// transaction is durable on commit as far as the server is configured to be
// (synchronous_commit, which should stay on).
//
// # Schema (version 1)
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
//	staff_accounts (name, role, password, created, oidc_issuer, oidc_subject) -- console accounts; password is an argon2id hash
//	staff_sessions (id, account, expires)      -- console sessions; id is SHA-256 of the cookie's value
//	audit_log   (seq, time, actor, action, election, detail, outcome)
//
// Ballot secrecy is structural. The registrar's table (roll) and the ballot
// box's tables (credentials, tracking) have no column in common but the
// election id, and nothing in the database relates a voter to a credential:
// there is no foreign key, no shared sequence, no timestamp and no client
// address in any of them. The only record of time is the order of entries
// on the board itself.
//
// credentials.last_counter holds the uint64 counter's bits as a bigint;
// counters are only ever compared in Go, after converting back.
//
// # Connection URL
//
// Open takes a pgx connection string, a URL or key=value pairs. Tables live
// in the first schema of the search_path, which may be set in the URL
// (postgres://host/db?search_path=koe); the schema must exist.
package postgres

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/store"
)

// schema lists the migrations; schema version i is reached by applying
// schema[:i].
var schema = []string{
	// Version 1.
	`
CREATE TABLE elections (
	seq       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id        text   NOT NULL PRIMARY KEY,
	state     text   NOT NULL,
	manifest  bytea  NOT NULL,
	config    bytea  NOT NULL,
	tree_size bigint NOT NULL DEFAULT 0
);
CREATE TABLE log_entries (
	election text   NOT NULL,
	idx      bigint NOT NULL,
	data     bytea  NOT NULL,
	PRIMARY KEY (election, idx)
);
CREATE TABLE log_hashes (
	election text   NOT NULL,
	idx      bigint NOT NULL,
	hash     bytea  NOT NULL,
	PRIMARY KEY (election, idx)
);
CREATE TABLE checkpoints (
	election   text   NOT NULL PRIMARY KEY,
	size       bigint NOT NULL,
	checkpoint bytea  NOT NULL
);
CREATE TABLE roll (
	election text    NOT NULL,
	voter    bytea   NOT NULL,
	code     bytea   NOT NULL,
	issued   boolean NOT NULL,
	PRIMARY KEY (election, voter)
);
CREATE TABLE credentials (
	election     text   NOT NULL,
	credential   bytea  NOT NULL,
	last_counter bigint NOT NULL,
	log_index    bigint NOT NULL,
	PRIMARY KEY (election, credential)
);
CREATE TABLE tracking (
	election  text   NOT NULL,
	tracking  bytea  NOT NULL,
	log_index bigint NOT NULL,
	PRIMARY KEY (election, tracking)
);
`,
	// 2: the blinded message of each issuance, for retries.
	`ALTER TABLE roll ADD COLUMN blinded bytea`,
	// 3: digital-ID sign-ins in progress, shared by the front ends.
	`CREATE TABLE oidc_pending (
	key     bytea  NOT NULL PRIMARY KEY,
	data    bytea  NOT NULL,
	expires bigint NOT NULL
);
CREATE INDEX oidc_pending_expires ON oidc_pending (expires);`,
	// 4: the ballot box's index of spoiled ballots and of ciphertexts (A
	// components), for the cross-ballot rules of SPEC §15.4. credential is
	// NULL for a spoiled ballot's.
	`CREATE TABLE spoiled (
	election  text   NOT NULL,
	tracking  bytea  NOT NULL,
	log_index bigint NOT NULL,
	PRIMARY KEY (election, tracking)
);
CREATE TABLE ciphertexts (
	election   text  NOT NULL,
	a          bytea NOT NULL,
	credential bytea,
	PRIMARY KEY (election, a)
);`,
	// 5: re-issued letters (SPEC §15.3): each voter's roll commitment, and
	// the revoked codes' keyed hashes.
	`ALTER TABLE roll ADD COLUMN commitment bytea;
CREATE TABLE revoked (
	election text  NOT NULL,
	voter    bytea NOT NULL,
	code     bytea NOT NULL,
	PRIMARY KEY (election, voter, code)
);`,
	// 6: the console's staff accounts, their sessions and the audit log
	// (staff.go).
	`CREATE TABLE staff_accounts (
	name     text   NOT NULL PRIMARY KEY,
	role     text   NOT NULL,
	password bytea  NOT NULL,
	created  bigint NOT NULL
);
CREATE TABLE staff_sessions (
	id      bytea  NOT NULL PRIMARY KEY,
	account text   NOT NULL,
	expires bigint NOT NULL
);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires);
CREATE TABLE audit_log (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time     bigint NOT NULL,
	actor    text   NOT NULL,
	action   text   NOT NULL,
	election text   NOT NULL,
	detail   text   NOT NULL,
	outcome  text   NOT NULL
);`,
	// 7 (staff OIDC): a staff account's binding to a person at the
	// console's OpenID provider, unique when set.
	`ALTER TABLE staff_accounts ADD COLUMN oidc_issuer text NOT NULL DEFAULT '';
ALTER TABLE staff_accounts ADD COLUMN oidc_subject text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX staff_accounts_oidc ON staff_accounts (oidc_issuer, oidc_subject) WHERE oidc_subject <> '';`,
}

// migrationLock is the pg_advisory_xact_lock key that serialises schema
// migrations between processes ("koe/v2/schema" as an integer).
const migrationLock = 0x6b6f652f7631

// Store is a PostgreSQL-backed [store.Store].
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the URL, password included; don't.
		return nil, errors.New("postgres: cannot parse the connection URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var current *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
			return err
		}
		if current == nil {
			var path string
			if err := tx.QueryRow(ctx, `SHOW search_path`).Scan(&path); err != nil {
				return err
			}
			return fmt.Errorf("no schema of search_path %q exists: create it (CREATE SCHEMA …) or fix search_path in the URL", path)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if v > len(schema) {
			return fmt.Errorf("database schema version %d is newer than this koe's (%d): upgrade koe", v, len(schema))
		}
		if v == len(schema) {
			return nil
		}
		for ; v < len(schema); v++ {
			if _, err := tx.Exec(ctx, schema[v]); err != nil {
				return fmt.Errorf("migrating to schema version %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v)
		return err
	})
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx runs f in a transaction and commits it if f returns nil.
func (s *Store) tx(ctx context.Context, f func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, f)
}

// querier is what the pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// treeSize returns the size of the election's log, or store.ErrNotFound.
func treeSize(ctx context.Context, q querier, election string) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT tree_size FROM elections WHERE id = $1 AND state <> $2`, election, store.StateDeleted).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("election %q: %w", election, store.ErrNotFound)
	}
	return n, err
}

// lockLog locks the election's row, serialising appends to its log, and
// returns the log's size and the election's state.
func lockLog(ctx context.Context, tx pgx.Tx, election string) (n int64, state string, err error) {
	err = tx.QueryRow(ctx, `SELECT tree_size, state FROM elections WHERE id = $1 AND state <> $2 FOR NO KEY UPDATE`, election, store.StateDeleted).
		Scan(&n, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", fmt.Errorf("election %q: %w", election, store.ErrNotFound)
	}
	return n, state, err
}

// readHashes returns the hashes at indexes, in that order, or an error
// wrapping store.ErrNotFound if one is missing.
func readHashes(ctx context.Context, q querier, election string, indexes []int64) ([]tlog.Hash, error) {
	rows, err := q.Query(ctx, `SELECT idx, hash FROM log_hashes WHERE election = $1 AND idx = ANY($2)`, election, indexes)
	if err != nil {
		return nil, err
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	var x int64
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&x, &b}, func() error {
		if len(b) != tlog.HashSize {
			return fmt.Errorf("election %q: stored hash %d has %d bytes", election, x, len(b))
		}
		found[x] = tlog.Hash(b)
		return nil
	})
	if err != nil {
		return nil, err
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

// appendEntries appends entries to the election's log of size n, with
// their hashes, and advances the log head. The caller holds lockLog.
func appendEntries(ctx context.Context, tx pgx.Tx, election string, n int64, entries [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	hashes, err := store.LogHashes(n, entries, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return readHashes(ctx, tx, election, indexes)
	}))
	if err != nil {
		return fmt.Errorf("election %q: computing log hashes: %w", election, err)
	}
	idx := make([]int64, len(entries))
	data := make([][]byte, len(entries))
	for i, e := range entries {
		idx[i], data[i] = n+int64(i), nonNil(e)
	}
	hidx := make([]int64, len(hashes))
	hdata := make([][]byte, len(hashes))
	start := tlog.StoredHashIndex(0, n)
	for i := range hashes {
		hidx[i], hdata[i] = start+int64(i), hashes[i][:]
	}
	b := new(pgx.Batch)
	b.Queue(`INSERT INTO log_entries (election, idx, data) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])`,
		election, idx, data)
	b.Queue(`INSERT INTO log_hashes (election, idx, hash) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])`,
		election, hidx, hdata)
	b.Queue(`UPDATE elections SET tree_size = $1 WHERE id = $2`, n+int64(len(entries)), election)
	return tx.SendBatch(ctx, b).Close()
}

// CreateElection implements [store.Store].
func (s *Store) CreateElection(ctx context.Context, e store.Election) error {
	if e.ID == "" {
		return errors.New("postgres: empty election id")
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO elections (id, state, manifest, config) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, e.ID, e.State, nonNil(e.Manifest), nonNil(e.Config))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var state string
		if err := s.pool.QueryRow(ctx, `SELECT state FROM elections WHERE id = $1`, e.ID).Scan(&state); err == nil && state == store.StateDeleted {
			return fmt.Errorf("election %q: %w", e.ID, store.ErrDeleted)
		}
		return fmt.Errorf("election %q: %w", e.ID, store.ErrExists)
	}
	return nil
}

// Election implements [store.Store].
func (s *Store) Election(ctx context.Context, id string) (store.Election, error) {
	e := store.Election{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT state, manifest, config FROM elections WHERE id = $1 AND state <> $2`, id, store.StateDeleted).
		Scan(&e.State, &e.Manifest, &e.Config)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Election{}, fmt.Errorf("election %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Election{}, err
	}
	return e, nil
}

// Elections implements [store.Store].
func (s *Store) Elections(ctx context.Context) ([]store.Election, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, state, manifest, config FROM elections WHERE state <> $1 ORDER BY seq`, store.StateDeleted)
	if err != nil {
		return nil, err
	}
	var out []store.Election
	var e store.Election
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.State, &e.Manifest, &e.Config}, func() error {
		out = append(out, e)
		e = store.Election{}
		return nil
	})
	return out, err
}

// SetState implements [store.Store].
func (s *Store) SetState(ctx context.Context, id, from, to string, entry []byte) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		n, state, err := lockLog(ctx, tx, id)
		if err != nil {
			return err
		}
		if state != from {
			return fmt.Errorf("election %q is %q, not %q: %w", id, state, from, store.ErrStateConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE elections SET state = $1 WHERE id = $2`, to, id); err != nil {
			return err
		}
		if entry == nil {
			return nil
		}
		return appendEntries(ctx, tx, id, n, [][]byte{entry})
	})
}

// SetConfig implements [store.Store].
func (s *Store) SetConfig(ctx context.Context, id, state string, config []byte) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, cur, err := lockLog(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != state {
			return fmt.Errorf("election %q is %q, not %q: %w", id, cur, state, store.ErrStateConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE elections SET config = $1 WHERE id = $2`, config, id)
		return err
	})
}

// SetManifest implements [store.Store].
func (s *Store) SetManifest(ctx context.Context, id, state string, size int64, manifest, entry []byte) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		n, cur, err := lockLog(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != state || n != size {
			return fmt.Errorf("election %q is %q with %d entries, not %q with %d: %w", id, cur, n, state, size, store.ErrStateConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE elections SET manifest = $1 WHERE id = $2`, nonNil(manifest), id); err != nil {
			return err
		}
		return appendEntries(ctx, tx, id, n, [][]byte{entry})
	})
}

// deletedTables are the tables of an election's data that DeleteElection
// empties of it.
var deletedTables = []string{"log_entries", "log_hashes", "checkpoints", "roll", "credentials", "tracking", "spoiled", "ciphertexts"}

// DeleteElection implements [store.Store].
func (s *Store) DeleteElection(ctx context.Context, id, state string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, cur, err := lockLog(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != state {
			return fmt.Errorf("election %q is %q, not %q: %w", id, cur, state, store.ErrStateConflict)
		}
		for _, table := range deletedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE election = $1`, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE elections SET state = $1, manifest = $2, config = $3, tree_size = 0 WHERE id = $4`,
			store.StateDeleted, []byte{}, []byte{}, id)
		return err
	})
}

// Append implements [store.Store].
func (s *Store) Append(ctx context.Context, election string, entries [][]byte) (int64, error) {
	if len(entries) == 0 {
		return treeSize(ctx, s.pool, election)
	}
	var first int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n, _, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		first = n
		return appendEntries(ctx, tx, election, n, entries)
	})
	return first, err
}

// AppendAt implements [store.Store].
func (s *Store) AppendAt(ctx context.Context, election string, at int64, entries [][]byte) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		n, _, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		if n != at {
			return fmt.Errorf("election %q: %d entries, not %d: %w", election, n, at, store.ErrLogMoved)
		}
		if len(entries) == 0 {
			return nil
		}
		return appendEntries(ctx, tx, election, n, entries)
	})
}

// TreeSize implements [store.Store].
func (s *Store) TreeSize(ctx context.Context, election string) (int64, error) {
	return treeSize(ctx, s.pool, election)
}

// ReadHashes implements [store.Store].
func (s *Store) ReadHashes(ctx context.Context, election string, indexes []int64) ([]tlog.Hash, error) {
	return readHashes(ctx, s.pool, election, indexes)
}

// ReadEntries implements [store.Store].
func (s *Store) ReadEntries(ctx context.Context, election string, start, n int64) ([][]byte, error) {
	if start < 0 || n < 0 {
		return nil, fmt.Errorf("election %q: bad entry range [%d, %d+%d)", election, start, start, n)
	}
	rows, err := s.pool.Query(ctx, `SELECT idx, data FROM log_entries WHERE election = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`,
		election, start, start+n)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	var x int64
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&x, &b}, func() error {
		if x != start+int64(len(out)) {
			return fmt.Errorf("election %q: entry %d: %w", election, start+int64(len(out)), store.ErrNotFound)
		}
		out = append(out, nonNil(b))
		b = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("election %q: entry %d: %w", election, start+int64(len(out)), store.ErrNotFound)
	}
	return out, nil
}

// ImportRoll implements [store.Store].
func (s *Store) ImportRoll(ctx context.Context, election string, voters []store.RollEntry) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := treeSize(ctx, tx, election); err != nil {
			return err
		}
		const chunk = 10000
		for rest := voters; len(rest) > 0; {
			part := rest[:min(chunk, len(rest))]
			rest = rest[len(part):]
			vs := make([][]byte, len(part))
			cs := make([][]byte, len(part))
			ms := make([][]byte, len(part))
			for i := range part {
				vs[i], cs[i] = part[i].Voter[:], part[i].Code[:]
				if part[i].Commitment != [32]byte{} {
					ms[i] = part[i].Commitment[:]
				}
			}
			tag, err := tx.Exec(ctx, `INSERT INTO roll (election, voter, code, issued, commitment)
				SELECT $1, v, c, false, m FROM unnest($2::bytea[], $3::bytea[], $4::bytea[]) AS u(v, c, m)
				ON CONFLICT DO NOTHING`, election, vs, cs, ms)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != int64(len(part)) {
				return fmt.Errorf("election %q: %d voters already on the roll or listed twice: %w",
					election, int64(len(part))-tag.RowsAffected(), store.ErrExists)
			}
		}
		return nil
	})
}

// RollSize implements [store.Store].
func (s *Store) RollSize(ctx context.Context, election string) (voters, issued int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(r.voter), count(r.voter) FILTER (WHERE r.issued)
		FROM elections e LEFT JOIN roll r ON r.election = e.id
		WHERE e.id = $1 AND e.state <> $2 GROUP BY e.id`, election, store.StateDeleted).Scan(&voters, &issued)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("election %q: %w", election, store.ErrNotFound)
	}
	if err != nil {
		return 0, 0, err
	}
	return voters, issued, nil
}

// IssueCredential implements [store.Store].
func (s *Store) IssueCredential(ctx context.Context, election string, req store.Issue) (int64, error) {
	var index int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n, _, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		digital := req.Code == [32]byte{}
		if digital {
			tag, err := tx.Exec(ctx, `INSERT INTO roll (election, voter, code, issued, blinded) VALUES ($1, $2, $3, true, $4)
				ON CONFLICT DO NOTHING`, election, req.Voter[:], req.Code[:], req.Blinded[:])
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				index = n
				return appendEntries(ctx, tx, election, n, [][]byte{req.Entry})
			}
		}
		var code, blinded []byte
		var issued bool
		err = tx.QueryRow(ctx, `SELECT code, issued, blinded FROM roll WHERE election = $1 AND voter = $2 FOR UPDATE`,
			election, req.Voter[:]).Scan(&code, &issued, &blinded)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("election %q: %w", election, store.ErrNotEligible)
		case err != nil:
			return err
		case !digital && subtle.ConstantTimeCompare(code, req.Code[:]) != 1:
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM revoked WHERE election = $1 AND voter = $2 AND code = $3`,
				election, req.Voter[:], req.Code[:]).Scan(&one)
			if err == nil {
				return fmt.Errorf("election %q: %w", election, store.ErrRevoked)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return fmt.Errorf("election %q: %w", election, store.ErrNotEligible)
		case issued && store.SameBlinded(blinded, req.Blinded):
			return fmt.Errorf("election %q: %w", election, store.ErrIssuedBefore)
		case issued:
			return fmt.Errorf("election %q: %w", election, store.ErrAlreadyIssued)
		}
		if _, err := tx.Exec(ctx, `UPDATE roll SET issued = true, blinded = $3 WHERE election = $1 AND voter = $2`,
			election, req.Voter[:], req.Blinded[:]); err != nil {
			return err
		}
		index = n
		return appendEntries(ctx, tx, election, n, [][]byte{req.Entry})
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// ReissueCode implements [store.Store].
func (s *Store) ReissueCode(ctx context.Context, election string, req store.Reissue) (int64, error) {
	var index int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n, state, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		if state != "setup" && state != store.StateOpen {
			return fmt.Errorf("election %q is %s: %w", election, state, store.ErrStateConflict)
		}
		var code, commitment []byte
		var issued bool
		err = tx.QueryRow(ctx, `SELECT code, issued, commitment FROM roll WHERE election = $1 AND voter = $2 FOR UPDATE`,
			election, req.Voter[:]).Scan(&code, &issued, &commitment)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
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
		if _, err := tx.Exec(ctx, `INSERT INTO revoked (election, voter, code) VALUES ($1, $2, $3)`,
			election, req.Voter[:], code); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE roll SET code = $3, commitment = $4 WHERE election = $1 AND voter = $2`,
			election, req.Voter[:], req.Code[:], req.Commitment[:]); err != nil {
			return err
		}
		index = n
		return appendEntries(ctx, tx, election, n, [][]byte{entry})
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// CastBallots implements [store.Store].
func (s *Store) CastBallots(ctx context.Context, election string, casts []store.Cast) ([]store.CastResult, error) {
	var results []store.CastResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n, state, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		if state != store.StateOpen {
			return fmt.Errorf("election %q is %s: %w", election, state, store.ErrStateConflict)
		}
		if len(casts) == 0 {
			results = []store.CastResult{}
			return nil
		}
		st := newCastState()
		for i := range casts {
			st.want(&casts[i].Credential, &casts[i].Tracking, casts[i].Ciphertexts)
		}
		if err := st.load(ctx, tx, election); err != nil {
			return err
		}
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
		if err := appendEntries(ctx, tx, election, n, entries); err != nil {
			return err
		}
		// The last accepted cast of each credential sets its row.
		var tIDs, cIDs, aIDs, aCreds [][]byte
		var tIdx, cIdx, cLast []int64
		latest := map[[32]byte]int{}
		for k, a := range accepted {
			latest[casts[a.Cast].Credential] = k
		}
		for k, a := range accepted {
			c := &casts[a.Cast]
			tIDs, tIdx = append(tIDs, c.Tracking[:]), append(tIdx, a.Index)
			if latest[c.Credential] == k {
				cIDs, cLast, cIdx = append(cIDs, c.Credential[:]), append(cLast, int64(c.Counter)), append(cIdx, a.Index)
			}
			for _, x := range c.Ciphertexts {
				aIDs, aCreds = append(aIDs, bytes.Clone(x[:])), append(aCreds, c.Credential[:])
			}
		}
		b := new(pgx.Batch)
		b.Queue(`INSERT INTO tracking (election, tracking, log_index) SELECT $1, * FROM unnest($2::bytea[], $3::bigint[])`,
			election, tIDs, tIdx)
		b.Queue(`INSERT INTO credentials (election, credential, last_counter, log_index)
			SELECT $1, * FROM unnest($2::bytea[], $3::bigint[], $4::bigint[])
			ON CONFLICT (election, credential) DO UPDATE SET last_counter = excluded.last_counter, log_index = excluded.log_index`,
			election, cIDs, cLast, cIdx)
		b.Queue(`INSERT INTO ciphertexts (election, a, credential) SELECT $1, * FROM unnest($2::bytea[], $3::bytea[])
			ON CONFLICT (election, a) DO NOTHING`, election, aIDs, aCreds)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// SpoilBallot implements [store.Store].
func (s *Store) SpoilBallot(ctx context.Context, election string, sp store.Spoil) (int64, error) {
	var index int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n, state, err := lockLog(ctx, tx, election)
		if err != nil {
			return err
		}
		if state != store.StateOpen {
			return fmt.Errorf("election %q is %s: %w", election, state, store.ErrStateConflict)
		}
		st := newCastState()
		st.want(nil, &sp.Tracking, sp.Ciphertexts)
		if err := st.load(ctx, tx, election); err != nil {
			return err
		}
		if err := store.AcceptSpoil(sp, st); err != nil {
			return fmt.Errorf("election %q: %w", election, err)
		}
		if err := appendEntries(ctx, tx, election, n, [][]byte{sp.Entry}); err != nil {
			return err
		}
		index = n
		aIDs := make([][]byte, len(sp.Ciphertexts))
		for k := range sp.Ciphertexts {
			aIDs[k] = sp.Ciphertexts[k][:]
		}
		b := new(pgx.Batch)
		b.Queue(`INSERT INTO spoiled (election, tracking, log_index) VALUES ($1, $2, $3)`, election, sp.Tracking[:], n)
		b.Queue(`INSERT INTO ciphertexts (election, a, credential) SELECT $1, a, NULL::bytea FROM unnest($2::bytea[]) AS a
			ON CONFLICT (election, a) DO NOTHING`, election, aIDs)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, err
	}
	return index, nil
}

// castState answers [store.CastState] from rows read in one round trip,
// under the election's row lock, for the values a batch names.
type castState struct {
	credIDs, trackIDs, aIDs [][]byte
	last                    map[[32]byte]uint64
	tracking                map[[32]byte]store.TrackingState
	cipher                  map[[32]byte][]byte // A → credential, nil for a spoiled ballot
}

func newCastState() *castState {
	return &castState{last: map[[32]byte]uint64{}, tracking: map[[32]byte]store.TrackingState{}, cipher: map[[32]byte][]byte{}}
}

func (st *castState) want(credential, tracking *[32]byte, as [][32]byte) {
	if credential != nil {
		st.credIDs = append(st.credIDs, credential[:])
	}
	st.trackIDs = append(st.trackIDs, tracking[:])
	for k := range as {
		st.aIDs = append(st.aIDs, as[k][:])
	}
}

func (st *castState) load(ctx context.Context, tx pgx.Tx, election string) error {
	b := new(pgx.Batch)
	b.Queue(`SELECT credential, last_counter FROM credentials WHERE election = $1 AND credential = ANY($2)`,
		election, st.credIDs).Query(func(rows pgx.Rows) error {
		var id []byte
		var last int64
		_, err := pgx.ForEachRow(rows, []any{&id, &last}, func() error {
			st.last[[32]byte(id)] = uint64(last)
			return nil
		})
		return err
	})
	for _, q := range []struct {
		table string
		ts    store.TrackingState
	}{{"tracking", store.TrackingCast}, {"spoiled", store.TrackingSpoiled}} {
		b.Queue(`SELECT tracking FROM `+q.table+` WHERE election = $1 AND tracking = ANY($2)`,
			election, st.trackIDs).Query(func(rows pgx.Rows) error {
			var id []byte
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
				st.tracking[[32]byte(id)] = q.ts
				return nil
			})
			return err
		})
	}
	b.Queue(`SELECT a, credential FROM ciphertexts WHERE election = $1 AND a = ANY($2)`,
		election, st.aIDs).Query(func(rows pgx.Rows) error {
		var a, cred []byte
		_, err := pgx.ForEachRow(rows, []any{&a, &cred}, func() error {
			if len(a) != 32 || cred != nil && len(cred) != 32 {
				return fmt.Errorf("election %q: malformed ciphertext index row", election)
			}
			st.cipher[[32]byte(a)] = bytes.Clone(cred)
			return nil
		})
		return err
	})
	return tx.SendBatch(ctx, b).Close()
}

func (st *castState) LastCounter(credential [32]byte) (uint64, bool, error) {
	last, ok := st.last[credential]
	return last, ok, nil
}

func (st *castState) Tracking(tracking [32]byte) (store.TrackingState, error) {
	return st.tracking[tracking], nil
}

func (st *castState) Ciphertext(a [32]byte) ([32]byte, bool, bool, error) {
	cred, ok := st.cipher[a]
	switch {
	case !ok:
		return [32]byte{}, false, false, nil
	case cred == nil:
		return [32]byte{}, true, true, nil
	}
	return [32]byte(cred), false, true, nil
}

// LookupTracking implements [store.Store].
func (s *Store) LookupTracking(ctx context.Context, election string, tracking [32]byte) (int64, error) {
	var index int64
	err := s.pool.QueryRow(ctx, `SELECT log_index FROM tracking WHERE election = $1 AND tracking = $2`,
		election, tracking[:]).Scan(&index)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("election %q: tracking code %x: %w", election, tracking[:], store.ErrNotFound)
	}
	return index, err
}

// LastCast implements [store.Store].
func (s *Store) LastCast(ctx context.Context, election string, credential [32]byte) (uint64, int64, error) {
	var last, index int64
	err := s.pool.QueryRow(ctx, `SELECT last_counter, log_index FROM credentials WHERE election = $1 AND credential = $2`,
		election, credential[:]).Scan(&last, &index)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("election %q: credential %x has not cast: %w", election, credential[:], store.ErrNotFound)
	}
	return uint64(last), index, err
}

// SaveCheckpoint implements [store.Store].
func (s *Store) SaveCheckpoint(ctx context.Context, election string, size int64, checkpoint []byte) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		n, err := treeSize(ctx, tx, election)
		if err != nil {
			return err
		}
		if size < 0 || size > n {
			return fmt.Errorf("election %q: checkpoint of size %d for a log of size %d", election, size, n)
		}
		_, err = tx.Exec(ctx, `INSERT INTO checkpoints (election, size, checkpoint) VALUES ($1, $2, $3)
			ON CONFLICT (election) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint
			WHERE excluded.size >= checkpoints.size`, election, size, nonNil(checkpoint))
		return err
	})
}

// Checkpoint implements [store.Store].
func (s *Store) Checkpoint(ctx context.Context, election string) ([]byte, error) {
	var c []byte
	err := s.pool.QueryRow(ctx, `SELECT checkpoint FROM checkpoints WHERE election = $1`, election).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("election %q: checkpoint: %w", election, store.ErrNotFound)
	}
	return c, err
}

// TableColumns returns the columns of one of the store's tables, from the
// catalog (information_schema.columns), so tests can check the schema's
// promises.
func (s *Store) TableColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
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
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_pending WHERE expires <= $1`, now.UnixNano()); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO oidc_pending (key, data, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			key[:], data, expires.UnixNano())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pending sign-in: %w", store.ErrExists)
		}
		return nil
	})
}

// TakePending implements [store.Store].
func (s *Store) TakePending(ctx context.Context, key [32]byte, now time.Time) ([]byte, error) {
	var data []byte
	var expires int64
	err := s.pool.QueryRow(ctx, `DELETE FROM oidc_pending WHERE key = $1 RETURNING data, expires`, key[:]).Scan(&data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pending sign-in: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if expires <= now.UnixNano() {
		return nil, fmt.Errorf("pending sign-in expired: %w", store.ErrNotFound)
	}
	return data, nil
}
