package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/koe-vote/koe/internal/keystore"
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
// CODES.csv VOTER" sets $VAR to a voter's one-time code.
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
			"keyfields": func(ts *testscript.TestScript, neg bool, args []string) {
				// keyfields KEY PASSFILE prints the trustee state sealed in
				// KEY, one field a line, values over 40 bytes replaced by their
				// length, so scripts can check which fields it keeps.
				sealed, err := os.ReadFile(ts.MkAbs(args[0]))
				ts.Check(err)
				pass, err := os.ReadFile(ts.MkAbs(args[1]))
				ts.Check(err)
				plain, err := keystore.Open(bytes.TrimRight(pass, "\r\n"), trusteeKind, sealed)
				ts.Check(err)
				var fields map[string]json.RawMessage
				ts.Check(json.Unmarshal(plain, &fields))
				for _, k := range slices.Sorted(maps.Keys(fields)) {
					v := fields[k]
					if len(v) > 40 {
						v = json.RawMessage(fmt.Sprintf("<%d bytes>", len(v)))
					}
					fmt.Fprintf(ts.Stdout(), "%q:%s\n", k, v)
				}
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
