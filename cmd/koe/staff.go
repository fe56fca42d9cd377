package main

// koe staff: the console's named staff accounts (SPEC.md §15.8), kept in
// the server's database and changed here by whoever runs the server.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/koe-vote/koe/internal/staff"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres"
	"github.com/koe-vote/koe/internal/store/sqlite"
)

// cliActor names the command line in the audit log: no account name can
// hold a space.
const cliActor = "koe staff"

func runStaff(args []string, stdout, stderr io.Writer) error {
	return subcommand("staff", args, stdout, stderr, []command{
		{"add", "add an account: koe staff add NAME --role admin|observer", runStaffAdd},
		{"list", "list the accounts", runStaffList},
		{"passwd", "set an account's password", runStaffPasswd},
		{"oidc", "bind an account to a person at the staff's OpenID provider, or unbind it", runStaffOIDC},
		{"remove", "remove an account", runStaffRemove},
		{"audit", "print the audit log, newest first", runStaffAudit},
	})
}

// staffStore opens the server's database as koe serve does.
func staffStore(data, db string) (store.Store, error) {
	if db != "" {
		st, err := postgres.Open(context.Background(), db)
		return st, withHint(err, "check the URL; it is koe serve's --db")
	}
	if _, err := os.Stat(filepath.Join(data, "koe.db")); err != nil {
		return nil, withHint(fmt.Errorf("no database in %s", data), "give koe serve's --data (or --db) directory")
	}
	return sqlite.Open(filepath.Join(data, "koe.db"))
}

func staffFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *string, *string) {
	fs := newFlags(name, synopsis, stderr)
	data := fs.String("data", "koe-data", "koe serve's data directory (its SQLite database)")
	db := fs.String("db", "", "koe serve's PostgreSQL URL (postgres://…), instead of --data")
	return fs, data, db
}

// readPassword reads a new password: twice without echo from a terminal,
// or one line from stdin otherwise.
func readPassword(stderr io.Writer) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(stderr, "New password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(p1) != string(p2) {
		return "", errors.New("the two passwords differ")
	}
	return string(p1), nil
}

func newPassword(stderr io.Writer) (string, error) {
	p, err := readPassword(stderr)
	if err != nil {
		return "", err
	}
	if err := staff.CheckPasswordRules(p); err != nil {
		return "", withHint(err, "type the password when asked, or give it on stdin (one line)")
	}
	return p, nil
}

func auditCLI(ctx context.Context, st store.Store, action, detail string, err error) error {
	outcome := "ok"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	_, aerr := st.AppendAudit(ctx, store.AuditEntry{Time: time.Now(), Actor: cliActor, Action: action, Detail: detail, Outcome: outcome})
	return errors.Join(err, aerr)
}

func oneName(rest []string, what string) (string, error) {
	if len(rest) != 1 {
		return "", usagef("koe staff %s takes one account name", what)
	}
	if err := staff.CheckName(rest[0]); err != nil {
		return "", usagef("%v", err)
	}
	return rest[0], nil
}

func runStaffAdd(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff add", "koe staff add NAME --role admin|observer [--data DIR | --db URL] (the password on the terminal or stdin)", stderr)
	role := fs.String("role", "", "the account's role: admin (everything) or observer (reads the console only)")
	issuer := fs.String("oidc-issuer", "", "with --oidc-subject: the staff's OpenID provider, its issuer URL exactly as in koe serve's --staff-oidc file")
	subject := fs.String("oidc-subject", "", "bind the account to this person (their \"sub\") at the provider; the account then has no password unless --password is given")
	withPassword := fs.Bool("password", false, "with --oidc-subject: also give the account a password")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName(rest, "add")
	if err != nil {
		return err
	}
	if !staff.ValidRole(*role) {
		return usagef("--role must be admin or observer")
	}
	if err := checkBinding(*issuer, *subject); err != nil {
		return err
	}
	if *withPassword && *subject == "" {
		return usagef("--password is only with --oidc-subject (an account without one always has a password)")
	}
	a := store.Account{Name: name, Role: *role, Created: time.Now(), OIDCIssuer: *issuer, OIDCSubject: *subject}
	if *subject == "" || *withPassword {
		password, err := newPassword(stderr)
		if err != nil {
			return err
		}
		a.Password = staff.HashPassword(password)
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	err = st.CreateAccount(ctx, a)
	if errors.Is(err, store.ErrExists) && *subject == "" {
		err = withHint(fmt.Errorf("an account %q exists already", name), "koe staff passwd %s sets its password", name)
	} else if errors.Is(err, store.ErrExists) {
		err = withHint(fmt.Errorf("an account %q, or one bound to that OpenID subject, exists already", name), "koe staff list shows the accounts and their bindings")
	}
	detail := name + " " + *role
	if *subject != "" {
		detail += " oidc"
	}
	if err := auditCLI(ctx, st, "staff-add", detail, err); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Account %s added (%s). It signs in at /admin.\n", name, *role)
	if *role == store.RoleAdmin {
		fmt.Fprintln(stdout, "The administrator's token no longer signs in to the console; it still works for the API (koe admin).")
	}
	return nil
}

func runStaffPasswd(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff passwd", "koe staff passwd NAME [--data DIR | --db URL] (the password on the terminal or stdin)", stderr)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName(rest, "passwd")
	if err != nil {
		return err
	}
	password, err := newPassword(stderr)
	if err != nil {
		return err
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	a, err := st.Account(ctx, name)
	if err == nil {
		a.Password = staff.HashPassword(password)
		err = st.UpdateAccount(ctx, a)
	}
	if err := auditCLI(ctx, st, "staff-password", name, noAccount(err, name)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The password of %s was changed; its sessions ended.\n", name)
	return nil
}

// checkBinding checks an OpenID binding given on the command line: both
// or neither, an absolute http(s) issuer URL, and a subject of at most 255
// characters (OpenID Connect Core §2).
func checkBinding(issuer, subject string) error {
	if (issuer == "") != (subject == "") {
		return usagef("--oidc-issuer and --oidc-subject go together")
	}
	if issuer == "" {
		return nil
	}
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usagef("--oidc-issuer %q is not an issuer URL (https://…, exactly as in the --staff-oidc file)", issuer)
	}
	if len(subject) > 255 || !utf8.ValidString(subject) || strings.TrimSpace(subject) != subject || strings.ContainsAny(subject, "\x00\r\n\t") {
		return usagef("--oidc-subject must be the provider's \"sub\": at most 255 characters, without spaces around it")
	}
	return nil
}

func runStaffOIDC(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff oidc", "koe staff oidc NAME --oidc-issuer URL --oidc-subject SUB | --clear [--data DIR | --db URL]", stderr)
	issuer := fs.String("oidc-issuer", "", "the staff's OpenID provider, its issuer URL exactly as in koe serve's --staff-oidc file")
	subject := fs.String("oidc-subject", "", "the person's \"sub\" at the provider (the console's sign-in page shows it to a person with no account)")
	clear := fs.Bool("clear", false, "unbind the account (it then signs in with its password only)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName(rest, "oidc")
	if err != nil {
		return err
	}
	if *clear == (*subject != "") {
		return usagef("give either --oidc-issuer and --oidc-subject, or --clear")
	}
	if err := checkBinding(*issuer, *subject); err != nil {
		return err
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	a, err := st.Account(ctx, name)
	if err == nil {
		if *clear && len(a.Password) == 0 {
			err = withHint(fmt.Errorf("account %q has no password: unbound, it could not sign in", name), "koe staff passwd %s gives it one first, or koe staff remove %s", name, name)
		} else {
			a.OIDCIssuer, a.OIDCSubject = *issuer, *subject
			err = st.UpdateAccount(ctx, a)
		}
	}
	if errors.Is(err, store.ErrExists) {
		err = withHint(errors.New("another account is bound to that OpenID subject"), "koe staff list shows the bindings")
	}
	action := "staff-oidc"
	if *clear {
		action = "staff-oidc-clear"
	}
	if err := auditCLI(ctx, st, action, name, noAccount(err, name)); err != nil {
		return err
	}
	if *clear {
		fmt.Fprintf(stdout, "Account %s is bound to no OpenID subject now; its sessions ended.\n", name)
	} else {
		fmt.Fprintf(stdout, "Account %s is bound to %s at %s; its sessions ended.\n", name, *subject, *issuer)
	}
	return nil
}

func noAccount(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return withHint(fmt.Errorf("there is no account %q", name), "koe staff list shows the accounts")
	}
	return err
}

func runStaffRemove(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff remove", "koe staff remove NAME [--data DIR | --db URL]", stderr)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName(rest, "remove")
	if err != nil {
		return err
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	err = noAccount(st.DeleteAccount(ctx, name), name)
	if err := auditCLI(ctx, st, "staff-delete", name, err); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Account %s removed; its sessions ended.\n", name)
	return nil
}

func runStaffList(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff list", "koe staff list [--data DIR | --db URL]", stderr)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := st.Accounts(context.Background())
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(stdout, "No accounts: the administrator's token signs in to the console.")
	}
	for _, a := range as {
		how := "password"
		switch {
		case a.OIDCSubject != "" && len(a.Password) == 0:
			how = "oidc " + a.OIDCSubject + " at " + a.OIDCIssuer
		case a.OIDCSubject != "":
			how = "password, oidc " + a.OIDCSubject + " at " + a.OIDCIssuer
		}
		fmt.Fprintf(stdout, "%s\t%s\tcreated %s\t%s\n", a.Name, a.Role, a.Created.UTC().Format(time.RFC3339), how)
	}
	return nil
}

func runStaffAudit(args []string, stdout, stderr io.Writer) error {
	fs, data, db := staffFlags("koe staff audit", "koe staff audit [-n N] [--data DIR | --db URL]", stderr)
	n := fs.Int("n", 100, "how many entries, newest first")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return usagef("-n must be at least 1")
	}
	st, err := staffStore(*data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	es, err := st.Audit(context.Background(), 0, *n)
	if err != nil {
		return err
	}
	for _, e := range es {
		actor := e.Actor
		if actor == "" {
			actor = "(admin token)"
		}
		fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), actor, e.Action,
			orDash(e.Election), orDash(e.Detail), e.Outcome)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
