// Command koe runs elections and surveys with ballot secrecy, encrypted
// counting and public verification. See README.md and SPEC.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/koe-vote/koe/internal/trusteeflow"
)

// hintError is an error with advice on how to fix it; the trustee
// steps, shared with the trustee page, make them too.
type hintError = trusteeflow.HintError

// withHint attaches a hint to err.
func withHint(err error, format string, args ...any) error {
	return trusteeflow.WithHint(err, format, args...)
}

// exitError carries an exit status without a message of its own (the
// command already printed what went wrong).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"election", "create an election, derive its key, publish its results", runElection},
		{"trustee", "a trustee's part: key ceremony and partial decryption", runTrustee},
		{"ballot", "encrypt a ballot, then cast it or spoil it (Benaloh challenge)", runBallot},
		{"tally", "add up the cast ballots while they are encrypted", runTally},
		{"verify", "re-check a whole election record", runVerify},
		{"serve", "run the ballot box, registrar and bulletin board server", runServe},
		{"admin", "the administrator's commands against a server", runAdmin},
		{"staff", "the console's staff accounts and its audit log, in the server's database", runStaff},
		{"vote", "register, encrypt and cast a ballot on a server", runVote},
		{"monitor", "follow a board, check every checkpoint and entry, keep a copy (a mirror)", runMonitor},
		{"voter", "a voter's checks: find your letter on the board's roll and issuances", runVoter},
		{"demo", "run a whole election locally and verify it", runDemo},
		{"bench", "measure encryption, verification and tallying", runBench},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "koe (声) — verifiable elections and surveys for cities")
	fmt.Fprintln(w, "\nUsage: koe COMMAND [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'koe COMMAND -h' for a command's arguments.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return report(c.run(args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "koe: error: unknown command %q\n", args[0])
	fmt.Fprintf(stderr, "koe: hint: run 'koe help' to list the commands\n")
	return 2
}

func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.code
	}
	fmt.Fprintf(stderr, "koe: error: %v\n", err)
	var h *hintError
	if errors.As(err, &h) {
		fmt.Fprintf(stderr, "koe: hint: %s\n", h.Hint)
	}
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a mistake in a command's arguments.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// subcommand dispatches "koe GROUP SUB ..." to one of subs.
func subcommand(group string, args []string, stdout, stderr io.Writer, subs []command) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stdout, "Usage: koe %s SUBCOMMAND [arguments]\n\nSubcommands:\n", group)
		for _, c := range subs {
			fmt.Fprintf(stdout, "  %-8s %s\n", c.name, c.summary)
		}
		if len(args) == 0 {
			return usagef("koe %s needs a subcommand", group)
		}
		return nil
	}
	var names []string
	for _, c := range subs {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
		names = append(names, c.name)
	}
	return withHint(usagef("unknown subcommand %q of koe %s", args[0], group), "koe %s takes one of: %s", group, strings.Join(names, ", "))
}

// newFlags returns a flag set that prints its usage to stderr and returns errors.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; positional arguments may come before or after them.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
