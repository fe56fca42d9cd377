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
