package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"koe": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script: each
// .txtar file is a session a person could type, with the output it must give.
//
// Each script gets $ADDR and $ADDR2, free loopback addresses for koe serve,
// and these commands: "waitfor URL" waits until the URL answers, "setcode
// VAR CODES.csv VOTER" sets $VAR to a voter's one-time code, "keyfields"
// shows which fields a trustee key file keeps, "relay" puts a cheating
// relay between a trustee and the server (scriptRelay), "doctortally
// RECORD swap|single" rewrites the record's tally.json as a dishonest
// operator would (crypto-audit H1): two selections swapped, or the first
// counted ballot's own ciphertexts presented as a tally of one ballot; and
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
			ln2, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				ln.Close()
				return err
			}
			env.Setenv("ADDR2", ln2.Addr().String())
			ln2.Close()
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
			"relay": scriptRelay,
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

// relay is an HTTP relay between a trustee and a koe server, which may
// tamper with what it relays back, as a server or network could.
type relay struct {
	mu     sync.Mutex
	target string
	mode   string
	srv    *httptest.Server
}

var (
	relaysMu sync.Mutex
	relays   = map[*testscript.TestScript]map[string]*relay{}
)

// Entries keep their length when the relay swaps two hex values of the
// same field, so the entry bundles still parse: only the hashes differ.
var (
	hpkeKeyField    = regexp.MustCompile(`"hpkePublicKey":\s*"([0-9a-f]+)"`)
	ciphertextField = regexp.MustCompile(`"ciphertext":\s*"([0-9a-f]+)"`)
)

// scriptRelay implements "relay VAR TARGET [MODE]": it starts a relay to
// TARGET and sets $VAR to its address, or, if $VAR's relay runs already,
// points it at TARGET. MODE is what the relay does to the answers to GET
// requests: "pass" (the default) nothing; "swap-hpke" swaps the first two
// HPKE public keys in each answer (announcements: two trustees' keys);
// "swap-ciphertext" swaps the last two share ciphertexts in each answer
// (the last dealing's shares for two trustees).
func scriptRelay(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: relay VAR TARGET [pass|swap-hpke|swap-ciphertext]")
	}
	mode := "pass"
	if len(args) == 3 {
		mode = args[2]
	}
	relaysMu.Lock()
	defer relaysMu.Unlock()
	if relays[ts] == nil {
		relays[ts] = map[string]*relay{}
	}
	r := relays[ts][args[0]]
	if r == nil {
		r = &relay{}
		r.srv = httptest.NewServer(r)
		relays[ts][args[0]] = r
		ts.Defer(func() {
			r.srv.Close()
			relaysMu.Lock()
			delete(relays, ts)
			relaysMu.Unlock()
		})
		ts.Setenv(args[0], strings.TrimPrefix(r.srv.URL, "http://"))
	}
	r.mu.Lock()
	r.target, r.mode = args[1], mode
	r.mu.Unlock()
}

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	target, mode := r.target, r.mode
	r.mu.Unlock()
	out, err := http.NewRequestWithContext(req.Context(), req.Method, target+req.URL.RequestURI(), req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if req.Method == http.MethodGet {
		switch mode {
		case "swap-hpke":
			body = swapMatches(hpkeKeyField, body, false)
		case "swap-ciphertext":
			body = swapMatches(ciphertextField, body, true)
		}
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// swapMatches swaps the first submatches of the first (or last) two
// matches of re, if they have the same length.
func swapMatches(re *regexp.Regexp, body []byte, last bool) []byte {
	m := re.FindAllSubmatchIndex(body, -1)
	if len(m) < 2 {
		return body
	}
	a, b := m[0][2:4], m[1][2:4]
	if last {
		a, b = m[len(m)-2][2:4], m[len(m)-1][2:4]
	}
	if a[1]-a[0] != b[1]-b[0] {
		return body
	}
	out := bytes.Clone(body)
	copy(out[a[0]:a[1]], body[b[0]:b[1]])
	copy(out[b[0]:b[1]], body[a[0]:a[1]])
	return out
}
