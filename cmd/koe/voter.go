package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/koe-vote/koe/internal/client"
)

func runVoter(args []string, stdout, stderr io.Writer) error {
	return subcommand("voter", args, stdout, stderr, []command{
		{"check-roll", "find your letter on the board: on the roll, and who was issued a credential in your name", voterCheckRoll},
	})
}

// voterCheckRoll recomputes the voter's roll commitment from their letter
// and looks for it on the board (SPEC.md §15.3): on the roll published at
// open, and in the credential-issued entries. Nothing of the letter leaves
// the machine but the commitment, and not even that: the whole board is
// read.
func voterCheckRoll(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe voter check-roll", "koe voter check-roll --server URL --election ID --voter ID --code CODE [--registered | --abstained]", stderr)
	srv := fs.String("server", "http://127.0.0.1:8080", "the koe server")
	id := fs.String("election", "", "the election id")
	voter := fs.String("voter", "", "your voter id, from your letter")
	code := fs.String("code", "", "the one-time code from your letter")
	registered := fs.Bool("registered", false, "you registered: exactly one issuance must name you")
	abstained := fs.Bool("abstained", false, "you did not register: no issuance may name you")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" || *voter == "" || *code == "" {
		return usagef("koe voter check-roll needs --election ID, --voter ID and --code CODE (from your letter)")
	}
	if *registered && *abstained {
		return usagef("--registered and --abstained exclude each other")
	}
	ctx := context.Background()
	c := client.New(*srv, "")
	el, err := c.Election(ctx, *id)
	if err != nil {
		return err
	}
	rc, err := c.CheckRoll(ctx, el, *voter, *code)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Read the board of %s: %d entries, under its signed checkpoint.\n", *id, rc.Size)
	fmt.Fprintf(stdout, "Your roll commitment (from your letter): %x\n", rc.Commitment)
	if !rc.Open {
		fmt.Fprintln(stdout, "The election has not opened yet: the roll is not final.")
	}
	var problems []string
	if rc.OnRoll {
		fmt.Fprintln(stdout, "On the roll: yes, published before the election opened.")
	} else {
		fmt.Fprintln(stdout, "On the roll: NO — the roll on the board does not list this letter.")
		problems = append(problems, "this letter is not on the roll (check the voter id and code; if they are right, report it to the election's administrator)")
	}
	if len(rc.Revoked) > 0 {
		fmt.Fprintf(stdout, "Revoked: yes — board entry %d records that a new letter replaced this one; this code no longer registers.\n", rc.Revoked[0])
		problems = append(problems, fmt.Sprintf("this letter's code was revoked by a re-issue (board entry %d): use your newest letter; if you never asked for a new one, report it to the election's administrator", rc.Revoked[0]))
	}
	switch len(rc.Issued) {
	case 0:
		fmt.Fprintln(stdout, "Credentials issued in your name: none.")
		if *registered {
			problems = append(problems, "you registered, but no issuance entry names you: the registrar did not record your registration")
		}
	case 1:
		fmt.Fprintf(stdout, "Credentials issued in your name: one (board entry %d).\n", rc.Issued[0])
		if *abstained {
			problems = append(problems, fmt.Sprintf("you did not register, but board entry %d records a credential issued in your name", rc.Issued[0]))
		}
	default:
		fmt.Fprintf(stdout, "Credentials issued in your name: %d (board entries %v).\n", len(rc.Issued), rc.Issued)
		problems = append(problems, "more than one credential was recorded in your name")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "koe: problem: %s\n", p)
		}
		return withHint(errors.New("the board does not match your letter"), "keep this output and your letter, and report it to the election's observers")
	}
	if !*registered && !*abstained && len(rc.Issued) == 1 {
		fmt.Fprintln(stdout, "If you did not register yourself, someone else was issued a credential in your name: report it.")
	}
	return nil
}
