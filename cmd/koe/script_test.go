package main

import (
	"encoding/csv"
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
