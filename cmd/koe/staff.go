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
	"os"
	"path/filepath"
	"strings"
	"time"

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
	err = st.CreateAccount(ctx, store.Account{Name: name, Role: *role, Password: staff.HashPassword(password), Created: time.Now()})
	if errors.Is(err, store.ErrExists) {
		err = withHint(fmt.Errorf("an account %q exists already", name), "koe staff passwd %s sets its password", name)
	}
	if err := auditCLI(ctx, st, "staff-add", name+" "+*role, err); err != nil {
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
		fmt.Fprintf(stdout, "%s\t%s\tcreated %s\n", a.Name, a.Role, a.Created.UTC().Format(time.RFC3339))
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
