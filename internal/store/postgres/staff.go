package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koe-vote/koe/internal/store"
)

// CreateAccount implements [store.Store].
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	// ON CONFLICT without a target also covers the OIDC binding's unique
	// index.
	tag, err := s.pool.Exec(ctx, `INSERT INTO staff_accounts (name, role, password, created, oidc_issuer, oidc_subject)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		a.Name, a.Role, nonNil(a.Password), a.Created.UnixNano(), a.OIDCIssuer, a.OIDCSubject)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %q or its OpenID binding: %w", a.Name, store.ErrExists)
	}
	return nil
}

// UpdateAccount implements [store.Store].
func (s *Store) UpdateAccount(ctx context.Context, a store.Account) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if a.OIDCSubject != "" {
			var other string
			err := tx.QueryRow(ctx, `SELECT name FROM staff_accounts WHERE oidc_issuer = $1 AND oidc_subject = $2 AND name <> $3`,
				a.OIDCIssuer, a.OIDCSubject, a.Name).Scan(&other)
			if err == nil {
				return fmt.Errorf("the OpenID binding of account %q: %w", other, store.ErrExists)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE staff_accounts SET role = $1, password = $2, oidc_issuer = $3, oidc_subject = $4 WHERE name = $5`,
			a.Role, nonNil(a.Password), a.OIDCIssuer, a.OIDCSubject, a.Name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("account %q: %w", a.Name, store.ErrNotFound)
		}
		_, err = tx.Exec(ctx, `DELETE FROM staff_sessions WHERE account = $1`, a.Name)
		return err
	})
}

// DeleteAccount implements [store.Store].
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM staff_accounts WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("account %q: %w", name, store.ErrNotFound)
		}
		_, err = tx.Exec(ctx, `DELETE FROM staff_sessions WHERE account = $1`, name)
		return err
	})
}

const accountColumns = `name, role, password, created, oidc_issuer, oidc_subject`

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	var created int64
	if err := row.Scan(&a.Name, &a.Role, &a.Password, &created, &a.OIDCIssuer, &a.OIDCSubject); err != nil {
		return store.Account{}, err
	}
	a.Created = time.Unix(0, created)
	return a, nil
}

// Account implements [store.Store].
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM staff_accounts WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	return a, err
}

// AccountByOIDC implements [store.Store].
func (s *Store) AccountByOIDC(ctx context.Context, issuer, subject string) (store.Account, error) {
	if subject == "" {
		return store.Account{}, fmt.Errorf("account of no OpenID subject: %w", store.ErrNotFound)
	}
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM staff_accounts
		WHERE oidc_issuer = $1 AND oidc_subject = $2`, issuer, subject))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account of an OpenID subject: %w", store.ErrNotFound)
	}
	return a, err
}

// Accounts implements [store.Store].
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM staff_accounts ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutSession implements [store.Store].
func (s *Store) PutSession(ctx context.Context, se store.Session, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE expires <= $1`, now.UnixNano()); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO staff_sessions (id, account, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			se.ID[:], se.Account, se.Expires.UnixNano())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("session: %w", store.ErrExists)
		}
		return nil
	})
}

// Session implements [store.Store].
func (s *Store) Session(ctx context.Context, id [32]byte, now time.Time) (store.Session, error) {
	se := store.Session{ID: id}
	var expires int64
	err := s.pool.QueryRow(ctx, `SELECT account, expires FROM staff_sessions WHERE id = $1`, id[:]).Scan(&se.Account, &expires)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && expires <= now.UnixNano() {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, err
	}
	se.Expires = time.Unix(0, expires)
	return se, nil
}

// DeleteSession implements [store.Store].
func (s *Store) DeleteSession(ctx context.Context, id [32]byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE id = $1`, id[:])
	return err
}

// AppendAudit implements [store.Store].
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_log (time, actor, action, election, detail, outcome)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
		e.Time.UnixNano(), e.Actor, e.Action, e.Election, e.Detail, e.Outcome).Scan(&seq)
	return seq, err
}

// Audit implements [store.Store].
func (s *Store) Audit(ctx context.Context, before int64, n int) ([]store.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, time, actor, action, election, detail, outcome FROM audit_log
		WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Election, &e.Detail, &e.Outcome); err != nil {
			return nil, err
		}
		e.Time = time.Unix(0, t)
		out = append(out, e)
	}
	return out, rows.Err()
}
