package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/monitor"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/tally"
)

// operator is a real koe server behind a dishonest operator's proxy,
// which may rewrite the encrypted tally it serves to the trustees.
type operator struct {
	real, url string
	admin     *client.Client
	mu        sync.Mutex
	doctor    func(body []byte) []byte // rewrites GET …/tally (or …doctorAt); nil: honest
	doctorAt  string                   // the path suffix doctor rewrites; "": /tally
	posted    int                      // decryption shares the operator received (and could keep)
}

const operatorToken = "trustee-test-administrator-token"

// newOperator starts a server whose board key is key (nil: a new one).
func newOperator(t *testing.T, key ed25519.PrivateKey) *operator {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	if key == nil {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: key, AdminToken: operatorToken,
		RegistrarBits: 2048, RegisterRate: 100, RegisterBurst: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	real := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { real.Close(); srv.Close() })
	o := &operator{real: real.URL, admin: client.New(real.URL, operatorToken)}
	target, _ := url.Parse(real.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		o.mu.Lock()
		doctor, at := o.doctor, o.doctorAt
		o.mu.Unlock()
		if at == "" {
			at = "/tally"
		}
		if doctor == nil || resp.Request.Method != "GET" || !strings.HasSuffix(resp.Request.URL.Path, at) {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body = doctor(body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/decryptions") {
			o.mu.Lock()
			o.posted++
			o.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	o.url = front.URL
	return o
}

func (o *operator) sharesPosted() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.posted
}

func (o *operator) setDoctor(d func([]byte) []byte) { o.setDoctorAt("", d) }

// setDoctorAt has the operator rewrite the GET responses whose path ends
// in suffix ("": /tally).
func (o *operator) setDoctorAt(suffix string, d func([]byte) []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.doctor, o.doctorAt = d, suffix
}

// serverElection is an election run on the operator's server to its tally,
// with its trustees' key files on disk.
type serverElection struct {
	id, dir, pass string
	opened        string // a file holding the checkpoint signed when the election opened
	manifest      []byte
	trustees      []*ceremony.Trustee
	tokens        []string
}

// tallied runs a referendum of three trustees (threshold 2) with the given
// privacy threshold, in which voters cast the answers, to its tally.
func (o *operator) tallied(t *testing.T, id string, privacy int, answers []string) *serverElection {
	t.Helper()
	var as []ballot.Answers
	for _, a := range answers {
		as = append(as, ballot.Answers{"plan": a})
	}
	return o.talliedExample(t, "referendum", id, privacy, as)
}

// talliedExample runs the example manifest, with three trustees
// (threshold 2) and the given privacy threshold, in which a voter casts
// each of answers, to its tally.
func (o *operator) talliedExample(t *testing.T, example, id string, privacy int, answers []ballot.Answers) *serverElection {
	t.Helper()
	ctx := context.Background()
	data, err := examples.Manifest(example)
	must(t, err)
	m, err := ballot.ParseManifest(data)
	must(t, err)
	m.ID, m.Trustees, m.Threshold, m.Privacy = id, 3, 2, &privacy
	manifest, err := json.MarshalIndent(m, "", "  ")
	must(t, err)
	var created api.Created
	must(t, o.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	manifest, err = demo.ServerManifest(ctx, o.real, id, manifest)
	must(t, err)
	trustees, err := demo.ServerCeremony(ctx, o.real, id, manifest, created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, o.admin, id, "T", len(answers))
	must(t, err)
	must(t, o.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	opened := o.checkpoint(t, id)
	voter := client.New(o.real, "")
	el, err := voter.Election(ctx, id)
	must(t, err)
	i := 0
	for vid, code := range codes {
		cred, err := voter.Register(ctx, el, vid, code)
		must(t, err)
		pt, err := el.E.Manifest.Plaintext(answers[i])
		must(t, err)
		env, _, _, err := client.Seal(el, cred, pt, 1)
		must(t, err)
		_, err = voter.Cast(ctx, id, env)
		must(t, err)
		i++
	}
	must(t, o.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	must(t, o.admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))

	se := &serverElection{id: id, dir: t.TempDir(), opened: opened, manifest: manifest, trustees: trustees, tokens: created.TrusteeTokens}
	se.pass = filepath.Join(se.dir, "pass")
	must(t, os.WriteFile(se.pass, []byte("a trustee's passphrase\n"), 0o600))
	for j, tr := range trustees {
		must(t, saveTrustee(filepath.Join(se.dir, fmt.Sprintf("t%d.key", j+1)), tr, []byte("a trustee's passphrase")))
		must(t, os.WriteFile(filepath.Join(se.dir, fmt.Sprintf("t%d.token", j+1)), []byte(created.TrusteeTokens[j]+"\n"), 0o600))
	}
	return se
}

// decrypt runs koe trustee decrypt for trustee j against the operator's
// front end, and returns its exit code and what it printed.
func (o *operator) decrypt(se *serverElection, j int, flags ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"trustee", "decrypt", "--server", o.url, "--election", se.id,
		"--token-file", filepath.Join(se.dir, fmt.Sprintf("t%d.token", j)),
		"--key", filepath.Join(se.dir, fmt.Sprintf("t%d.key", j)), "--passphrase-file", se.pass}, flags...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// checkpoint saves the election's latest signed checkpoint in a file.
func (o *operator) checkpoint(t *testing.T, id string) string {
	t.Helper()
	signed, err := client.New(o.real, "").Raw(context.Background(), "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
	must(t, err)
	name := filepath.Join(t.TempDir(), "checkpoint")
	must(t, os.WriteFile(name, signed, 0o644))
	return name
}

// sharesOnBoard counts the decryption shares in the server's record.
func (o *operator) sharesOnBoard(t *testing.T, id string) int {
	t.Helper()
	dir, err := client.New(o.real, "").FetchRecord(context.Background(), id)
	must(t, err)
	defer os.RemoveAll(dir)
	files, err := record.Indexed(filepath.Join(dir, record.DecryptDir), "trustee")
	must(t, err)
	return len(files)
}

// firstBallot returns the ciphertexts of the first counted ballot on the
// board, as the tally of that one ballot.
func (o *operator) firstBallot(t *testing.T, id string) []byte {
	t.Helper()
	dir, err := client.New(o.real, "").FetchRecord(context.Background(), id)
	must(t, err)
	defer os.RemoveAll(dir)
	e, _, err := record.LoadElection(dir)
	must(t, err)
	br, err := record.OpenBallots(dir, e.Style.Size())
	must(t, err)
	defer br.Close()
	raw, err := br.Next()
	must(t, err)
	cts, err := ballot.DecodeCiphertexts(e, raw)
	must(t, err)
	one := tally.NewAccumulator(e.Style)
	one.AddCiphertexts(cts)
	out, err := json.Marshal(one.Publish())
	must(t, err)
	return out
}

// TestTrusteeRefusesDoctoredServerTally: a dishonest operator serves the
// trustees a doctored tally — the options swapped, or one voter's ballot
// as the tally (crypto-audit H1), so as to keep the shares and decrypt
// that one vote — and the trustee, having verified the board itself,
// refuses and sends the operator no share; served the true tally, it
// decrypts.
func TestTrusteeRefusesDoctoredServerTally(t *testing.T) {
	o := newOperator(t, nil)
	se := o.tallied(t, "doctored-tally", 3, []string{"no", "yes", "yes"})
	single := o.firstBallot(t, se.id)
	for _, tc := range []struct {
		name   string
		doctor func([]byte) []byte
		want   string
	}{
		{"options swapped", func(body []byte) []byte {
			var pub tally.Encrypted
			must(t, json.Unmarshal(body, &pub))
			pub.Ciphertexts[0], pub.Ciphertexts[1] = pub.Ciphertexts[1], pub.Ciphertexts[0]
			out, _ := json.Marshal(&pub)
			return out
		}, "is not the homomorphic sum of the 3 counted ballots: it selection 1 is not the sum"},
		{"one ballot as the tally", func([]byte) []byte { return single }, "is not the homomorphic sum of the 3 counted ballots: it counts 1 ballots, the record holds 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o.setDoctor(tc.doctor)
			defer o.setDoctor(nil)
			code, stdout, stderr := o.decrypt(se, 1)
			if n := o.sharesPosted(); n != 0 {
				t.Fatalf("trustee 1 sent the operator %d decryption shares of a doctored tally (exit %d):\n%s%s", n, code, stdout, stderr)
			}
			if code == 0 {
				t.Fatalf("trustee 1 decrypted a doctored tally:\n%s", stdout)
			}
			if !strings.Contains(stderr, "koe: error: refusing to decrypt: the tally you are asked to decrypt (from "+o.url) || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "koe: hint: ") {
				t.Errorf("stderr:\n%s\nwant the refusal naming %q", stderr, tc.want)
			}
			if n := o.sharesOnBoard(t, se.id); n != 0 {
				t.Fatalf("%d shares on the board after a refusal", n)
			}
		})
	}
	code, stdout, stderr := o.decrypt(se, 1)
	if code != 0 || !strings.Contains(stdout, "verified the record up to the tally") {
		t.Fatalf("the honest tally: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := o.sharesOnBoard(t, se.id); n != 1 {
		t.Fatalf("%d shares on the board, want 1", n)
	}
}

// TestPrivacyThresholdOnServer: three ballots under a privacy threshold of
// four. The trustee refuses to decrypt; the server refuses a share that a
// trustee computed anyway, and refuses to publish.
func TestPrivacyThresholdOnServer(t *testing.T) {
	o := newOperator(t, nil)
	se := o.tallied(t, "too-few", 4, []string{"no", "yes", "yes"})
	code, stdout, stderr := o.decrypt(se, 2)
	if n := o.sharesPosted(); n != 0 {
		t.Fatalf("trustee 2 sent the operator %d decryption shares of a tally below the privacy threshold", n)
	}
	if code == 0 {
		t.Fatalf("trustee 2 decrypted a tally of 3 ballots under a privacy threshold of 4:\n%s", stdout)
	}
	if !strings.Contains(stderr, "koe: error: refusing to decrypt: 3 ballots were counted, fewer than the manifest's privacy threshold of 4") || !strings.Contains(stderr, "koe: hint: so few ballots would disclose") {
		t.Errorf("stderr:\n%s", stderr)
	}

	// A trustee that ignores the rule: its share is refused.
	ctx := context.Background()
	el, err := client.New(o.real, "").Election(ctx, se.id)
	must(t, err)
	pub, err := client.New(o.real, "").Tally(ctx, se.id)
	must(t, err)
	acc, err := tally.ParseEncrypted(pub, el.E.Style)
	must(t, err)
	h := ballot.Hash(se.manifest)
	tr, err := client.New(o.real, "").Transcript(ctx, se.id, ceremony.Params{N: 3, T: 2})
	must(t, err)
	_, err = se.trustees[1].Finish(h[:], tr)
	must(t, err)
	lax := *el.E
	m := *el.E.Manifest
	one := 1
	m.Privacy = &one
	lax.Manifest = &m
	share, err := tally.Decrypt(rand.Reader, &lax, acc, 2, se.trustees[1].Share())
	must(t, err)
	err = client.New(o.real, se.tokens[1]).PostDecryption(ctx, se.id, share)
	if !client.IsCode(err, api.CodeBelowPrivacyThreshold) || !strings.Contains(err.Error(), "fewer than the manifest's privacy threshold of 4") {
		t.Fatalf("posting a share below the privacy threshold: %v", err)
	}
	if n := o.sharesOnBoard(t, se.id); n != 0 {
		t.Fatalf("%d shares on the board", n)
	}
	if err := o.admin.Do(ctx, "POST", api.ElectionPath(se.id, "/publish"), "", nil, nil); !client.IsCode(err, api.CodeBelowPrivacyThreshold) {
		t.Fatalf("publishing below the privacy threshold: %v", err)
	}
}

// TestTrusteeRefusesForkedBoard: an operator runs two boards of the same
// election under the same key, one for the public and another for the
// trustees. A trustee given a checkpoint of the public board (from the
// site, an observer) refuses the other; given an earlier checkpoint of its
// own board, it decrypts.
func TestTrusteeRefusesForkedBoard(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	shown, public := newOperator(t, key), newOperator(t, key)
	const id = "forked-board"
	se := shown.tallied(t, id, 3, []string{"no", "yes", "yes"})
	public.tallied(t, id, 3, []string{"yes", "yes", "yes"})
	code, stdout, stderr := shown.decrypt(se, 1, "--checkpoint", public.checkpoint(t, id))
	if code == 0 || shown.sharesPosted() != 0 {
		t.Fatalf("trustee 1 decrypted a board that does not extend the public checkpoint:\n%s", stdout)
	}
	if !strings.Contains(stderr, "koe: error: refusing to decrypt: the board does not extend the checkpoint in") || !strings.Contains(stderr, "another view of the log") || !strings.Contains(stderr, "koe: hint: the server may be showing you another board") {
		t.Errorf("stderr:\n%s", stderr)
	}
	code, stdout, stderr = shown.decrypt(se, 1, "--checkpoint", se.opened)
	if code != 0 {
		t.Fatalf("with its own board's checkpoint at the opening: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestTrusteeComparesWithMonitor: a trustee given --monitor refuses to
// decrypt when the board the server shows is not of one history with the
// monitor's (the operator's other server process, same board key), and
// decrypts when the monitor follows the same board (SPEC.md §13.9).
func TestTrusteeComparesWithMonitor(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	shown, public := newOperator(t, key), newOperator(t, key)
	const id = "monitored-trustee"
	se := shown.tallied(t, id, 3, []string{"no", "yes", "yes"})
	public.tallied(t, id, 3, []string{"yes", "yes", "yes"})
	mirror := func(o *operator) string {
		mon, err := monitor.Open(ctx, monitor.Config{Server: o.real, Election: id, Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		must(t, err)
		must(t, mon.Poll(ctx))
		ts := httptest.NewServer(mon.Handler())
		t.Cleanup(ts.Close)
		return ts.URL
	}
	code, stdout, stderr := shown.decrypt(se, 1, "--monitor", mirror(public))
	if code == 0 || shown.sharesPosted() != 0 {
		t.Fatalf("trustee 1 decrypted a board the monitor holds another history of:\n%s", stdout)
	}
	if !strings.Contains(stderr, "are not one history") || !strings.Contains(stderr, "fork:") {
		t.Errorf("stderr:\n%s", stderr)
	}
	code, stdout, stderr = shown.decrypt(se, 1, "--monitor", mirror(shown))
	if code != 0 {
		t.Fatalf("with a monitor of the same board: exit %d\n%s%s", code, stdout, stderr)
	}
}
