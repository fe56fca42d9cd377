package main

import (
	"encoding/csv"
	"fmt"
	"path/filepath"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"

	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"koe": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script: each
// .txtar file is a session a person could type, with the output it must give.
//
// Each script gets $ADDR, a free loopback address for koe serve, and two
// commands: "waitfor URL" waits until the URL answers, and "setcode VAR
// CODES.csv VOTER" sets $VAR to a voter's one-time code; "doctortally
// RECORD swap|single" rewrites the record's tally.json as a dishonest
// operator would (crypto-audit H1): two selections swapped, or the first
// counted ballot's own ciphertexts presented as a tally of one ballot;
// "truncatefile FILE" cuts its last byte.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			env.Setenv("ADDR", ln.Addr().String())
			return ln.Close()
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					if resp, err := http.Get(args[0]); err == nil {
						resp.Body.Close()
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not answer within 30s", args[0])
			},
			"doctortally": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: doctortally RECORD swap|single")
				}
				ts.Check(doctorTally(ts.MkAbs(args[0]), args[1]))
			},
			"truncatefile": func(ts *testscript.TestScript, neg bool, args []string) {
				name := ts.MkAbs(args[0])
				st, err := os.Stat(name)
				ts.Check(err)
				ts.Check(os.Truncate(name, st.Size()-1))
			},
			"setcode": func(ts *testscript.TestScript, neg bool, args []string) {
				f, err := os.Open(ts.MkAbs(args[1]))
				ts.Check(err)
				defer f.Close()
				rows, err := csv.NewReader(f).ReadAll()
				ts.Check(err)
				for _, r := range rows {
					if r[0] == args[2] {
						ts.Setenv(args[0], r[1])
						return
					}
				}
				ts.Fatalf("no voter %s in %s", args[2], args[1])
			},
		},
	})
}

// doctorTally rewrites dir's tally.json: "swap" exchanges the first two
// selections' ciphertexts, "single" replaces the tally by the first
// counted ballot alone.
func doctorTally(dir, how string) error {
	e, _, err := record.LoadElection(dir)
	if err != nil {
		return err
	}
	var pub tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &pub); err != nil {
		return err
	}
	switch how {
	case "swap":
		pub.Ciphertexts[0], pub.Ciphertexts[1] = pub.Ciphertexts[1], pub.Ciphertexts[0]
	case "single":
		br, err := record.OpenBallots(dir, e.Style.Size())
		if err != nil {
			return err
		}
		defer br.Close()
		raw, err := br.Next()
		if err != nil {
			return err
		}
		cts, err := ballot.DecodeCiphertexts(e, raw)
		if err != nil {
			return err
		}
		one := tally.NewAccumulator(e.Style)
		one.AddCiphertexts(cts)
		pub = *one.Publish()
	default:
		return fmt.Errorf("doctortally: %q, want swap or single", how)
	}
	return record.WriteJSON(filepath.Join(dir, record.Tally), &pub)
}
