package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
)

// runVote is a voter's booth on the command line: register (once) for an
// anonymous credential, encrypt on this machine, cast, and check the receipt.
func runVote(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe vote", "koe vote --server URL --election ID --credential FILE [--voter ID --code CODE] (--answer Q=V ... | --answers JSON) [--spoil] [--save-receipt FILE]", stderr)
	srv := fs.String("server", "http://127.0.0.1:8080", "the koe server")
	id := fs.String("election", "", "the election id")
	credFile := fs.String("credential", "", "file keeping your anonymous credential (made at registration; keep it to vote again)")
	voter := fs.String("voter", "", "your voter id (to register, the first time)")
	code := fs.String("code", "", "the one-time code from your letter (to register)")
	answersJSON := fs.String("answers", "", `answers as JSON, e.g. '{"plan":"yes"}'`)
	var pairs multiFlag
	fs.Var(&pairs, "answer", "one answer as QUESTION=VALUE (repeatable)")
	counter := fs.Uint64("counter", 0, "the cast's counter (default: read from the board, the credential's last counter plus one)")
	saveReceipt := fs.String("save-receipt", "", "save the ballot's receipt in this file, as the booth does, to check later with koe verify --receipt")
	spoil := fs.Bool("spoil", false, "challenge the encryption: publish the opened ballot instead of casting it")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" || *credFile == "" {
		return usagef("koe vote needs --election ID and --credential FILE")
	}
	ctx := context.Background()
	c := client.New(*srv, "")
	el, err := c.Election(ctx, *id)
	if err != nil {
		return err
	}
	cred, err := loadOrRegister(ctx, c, el, *credFile, *voter, *code, stdout)
	if err != nil {
		return err
	}
	a, err := answersFrom(*answersJSON, pairs, el.E.Manifest)
	if err != nil {
		return err
	}
	pt, err := el.E.Manifest.Plaintext(a)
	if err != nil {
		return err
	}
	if *counter == 0 && !*spoil {
		if *counter, err = c.NextCounter(ctx, el, cred); err != nil {
			return err
		}
	}
	env, b, nonces, err := client.Seal(el, cred, pt, *counter)
	if err != nil {
		return err
	}
	if *spoil {
		if err := c.Spoil(ctx, el.ID, ballot.Spoil(b, pt, nonces)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Ballot %s opened and published; it will not be counted.\nIt encrypted: %s\n", ballot.FormatTrackingCode(b.TrackingCode()), formatAnswers(el.E.Manifest.Answers(pt)))
		return nil
	}
	r, err := c.Cast(ctx, el.ID, env)
	if err != nil {
		return err
	}
	if err := c.VerifyCast(ctx, el, env, r); err != nil {
		return fmt.Errorf("the server's receipt does not check out: %w", err)
	}
	fmt.Fprintf(stdout, "Ballot cast. Tracking code:\n  %s\nIts receipt (board entry %d) checks against the board's signed checkpoint.\n", r.TrackingCode, r.Receipt.Index)
	if *saveReceipt != "" {
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*saveReceipt, append(data, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Receipt saved in %s: check it against the final board with koe verify --receipt %s.\n", *saveReceipt, *saveReceipt)
	}
	return nil
}

func loadOrRegister(ctx context.Context, c *client.Client, el *client.Election, file, voter, code string, stdout io.Writer) (*credential.Credential, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		cred, err := credential.UnmarshalPrivate(el.Registrar, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := cred.Verify(el.Registrar, el.E.Context); err != nil {
			return nil, withHint(fmt.Errorf("%s: %w", file, err), "this credential is for another election")
		}
		return cred, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if voter == "" || code == "" {
		return nil, withHint(errors.New("no credential yet"), "register once with --voter ID --code CODE (from your letter)")
	}
	cred, err := c.Register(ctx, el, voter, code)
	if err != nil {
		return nil, err
	}
	secret, err := cred.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	if err := writePrivate(file, secret); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Registered: your anonymous credential is in %s (keep it to vote again; it does not say who you are).\n", file)
	if c, err := credential.RollCommitment(el.ID, voter, code); err == nil {
		fmt.Fprintf(stdout, "Registration receipt: the board's issuance entry names your roll commitment %x (check it with koe voter check-roll).\n", c)
	}
	return cred, nil
}
