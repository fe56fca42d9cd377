package store

import (
	"context"
	"time"
)

// Staff roles (SPEC.md §15.8).
const (
	RoleAdmin    = "admin"    // everything the console does
	RoleObserver = "observer" // reads the console; acts on nothing
)

// Account is a named member of staff who signs in to the console
// (SPEC.md §15.8).
type Account struct {
	Name string
	Role string // RoleAdmin or RoleObserver
	// Password is the password's encoded argon2id hash (internal/staff),
	// never the password.
	Password []byte
	Created  time.Time
	// OIDCIssuer and OIDCSubject bind the account to one person at the
	// console's OpenID provider (its issuer URL and that person's "sub"):
	// that person signs in as this account. Both "" for an account that
	// signs in with its password only; an account bound this way may have
	// no password (an empty Password, which no password matches).
	OIDCIssuer, OIDCSubject string
}

// Session is a console session kept on the server.
type Session struct {
	ID      [32]byte // SHA-256 of the random value in the browser's cookie
	Account string   // the account signed in; "" for the administrator's token
	Expires time.Time
}

// AuditEntry is one line of the audit log of administrative actions. It
// names who did what to which election, when, and how it ended; it never
// holds a secret, a voter id or a code.
type AuditEntry struct {
	Seq      int64 // its place in the log, from 1, given by AppendAudit
	Time     time.Time
	Actor    string // the account's name; "" for the administrator's token
	Action   string // e.g. "close", "roll", "staff-add"
	Election string // the election acted on, or ""
	Detail   string // what was acted on besides (an account's name, a role)
	Outcome  string // "ok", or why the action failed
}

// Staff is the console's part of the store: the staff's accounts, their
// sessions and the audit log. The audit log is append-only: nothing in
// this interface changes or removes an entry.
type Staff interface {
	// CreateAccount adds an account; ErrExists if the name is taken.
	CreateAccount(ctx context.Context, a Account) error
	// UpdateAccount replaces an account's role and password hash and ends
	// its sessions; ErrNotFound if there is none.
	UpdateAccount(ctx context.Context, a Account) error
	// DeleteAccount removes an account and its sessions; ErrNotFound if
	// there is none.
	DeleteAccount(ctx context.Context, name string) error
	// Account returns one account; ErrNotFound if there is none.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts lists every account, by name.
	Accounts(ctx context.Context) ([]Account, error)
	// AccountByOIDC returns the account bound to subject at issuer;
	// ErrNotFound if there is none. (CreateAccount and UpdateAccount
	// return ErrExists for a binding that another account has.)
	AccountByOIDC(ctx context.Context, issuer, subject string) (Account, error)

	// PutSession keeps a session and removes those expired by now;
	// ErrExists if its id is kept already.
	PutSession(ctx context.Context, s Session, now time.Time) error
	// Session returns the session with this id; ErrNotFound if there is
	// none or it expired by now.
	Session(ctx context.Context, id [32]byte, now time.Time) (Session, error)
	// DeleteSession ends a session (nil if there is none).
	DeleteSession(ctx context.Context, id [32]byte) error

	// AppendAudit appends an entry to the audit log and returns its Seq.
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	// Audit returns at most n entries with Seq below before (before ≤ 0:
	// from the newest), newest first.
	Audit(ctx context.Context, before int64, n int) ([]AuditEntry, error)
}

type auditedKey struct{}

// Audited marks a request's context as recorded in the audit log already:
// the console records each of its actions itself, with the account that
// acted, and marks the API requests it makes in process for it, so that
// the API does not record them a second time as the administrator's
// token's. A context is the only carrier: no request from the network can
// set it.
func Audited(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditedKey{}, true)
}

// IsAudited reports whether ctx was marked by Audited.
func IsAudited(ctx context.Context) bool {
	v, _ := ctx.Value(auditedKey{}).(bool)
	return v
}
