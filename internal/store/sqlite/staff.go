package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/koe-vote/koe/internal/store"
)

// CreateAccount implements [store.Store].
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		// ON CONFLICT without a target also covers the OIDC binding's
		// unique index.
		res, err := tx.ExecContext(ctx, `INSERT INTO staff_accounts (name, role, password, created, oidc_issuer, oidc_subject)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			a.Name, a.Role, nonNil(a.Password), a.Created.UnixNano(), a.OIDCIssuer, a.OIDCSubject)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("account %q or its OpenID binding: %w", a.Name, store.ErrExists)
		}
		return nil
	})
}

// UpdateAccount implements [store.Store].
func (s *Store) UpdateAccount(ctx context.Context, a store.Account) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if a.OIDCSubject != "" {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT name FROM staff_accounts WHERE oidc_issuer = ? AND oidc_subject = ? AND name != ?`,
				a.OIDCIssuer, a.OIDCSubject, a.Name).Scan(&other)
			if err == nil {
				return fmt.Errorf("the OpenID binding of account %q: %w", other, store.ErrExists)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET role = ?, password = ?, oidc_issuer = ?, oidc_subject = ? WHERE name = ?`,
			a.Role, nonNil(a.Password), a.OIDCIssuer, a.OIDCSubject, a.Name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("account %q: %w", a.Name, store.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account = ?`, a.Name)
		return err
	})
}

// DeleteAccount implements [store.Store].
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_accounts WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("account %q: %w", name, store.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account = ?`, name)
		return err
	})
}

const accountColumns = `name, role, password, created, oidc_issuer, oidc_subject`

func scanAccount(row interface{ Scan(...any) error }) (store.Account, error) {
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
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM staff_accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	return a, err
}

// AccountByOIDC implements [store.Store].
func (s *Store) AccountByOIDC(ctx context.Context, issuer, subject string) (store.Account, error) {
	if subject == "" {
		return store.Account{}, fmt.Errorf("account of no OpenID subject: %w", store.ErrNotFound)
	}
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM staff_accounts
		WHERE oidc_issuer = ? AND oidc_subject = ?`, issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account of an OpenID subject: %w", store.ErrNotFound)
	}
	return a, err
}

// Accounts implements [store.Store].
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM staff_accounts ORDER BY name`)
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
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires <= ?`, now.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (id, account, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			se.ID[:], se.Account, se.Expires.UnixNano())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("session: %w", store.ErrExists)
		}
		return nil
	})
}

// Session implements [store.Store].
func (s *Store) Session(ctx context.Context, id [32]byte, now time.Time) (store.Session, error) {
	se := store.Session{ID: id}
	var expires int64
	err := s.r.QueryRowContext(ctx, `SELECT account, expires FROM staff_sessions WHERE id = ?`, id[:]).Scan(&se.Account, &expires)
	if errors.Is(err, sql.ErrNoRows) || err == nil && expires <= now.UnixNano() {
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
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id = ?`, id[:])
		return err
	})
}

// AppendAudit implements [store.Store].
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	var seq int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO audit_log (time, actor, action, election, detail, outcome)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
			e.Time.UnixNano(), e.Actor, e.Action, e.Election, e.Detail, e.Outcome).Scan(&seq)
	})
	return seq, err
}

// Audit implements [store.Store].
func (s *Store) Audit(ctx context.Context, before int64, n int) ([]store.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, time, actor, action, election, detail, outcome FROM audit_log
		WHERE seq < ? ORDER BY seq DESC LIMIT ?`, before, n)
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
