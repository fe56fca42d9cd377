package server_test

import (
	"net/url"

	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	tclient "github.com/transparency-dev/tessera/client"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/postgres/pgtest"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

const adminToken = "test-admin-token"

type harness struct {
	t        *testing.T
	url      string
	admin    *client.Client
	verifier note.Verifier
}

func start(t *testing.T, st store.Store) *harness {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000,
		CastRate: 1000, CastBurst: 1000, SpoilRate: 1000, SpoilBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &harness{t: t, url: ts.URL, admin: client.New(ts.URL, adminToken)}
}

func sqliteStore(t *testing.T) store.Store {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func postgresStore(t *testing.T) store.Store {
	return pgtest.Open(t)
}

func TestElectionOverHTTP(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{{"sqlite", sqliteStore}, {"postgres", postgresStore}} {
		t.Run(b.name, func(t *testing.T) { runElection(t, start(t, b.open(t))) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !client.IsCode(err, code) {
		t.Fatalf("got %v, want error %q", err, code)
	}
}

func runElection(t *testing.T, h *harness) {
	ctx := context.Background()
	manifest, _ := examples.Manifest("survey") // 5 trustees, threshold 3
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created))
	id := created.ID
	manifest = serverManifest(t, h.url, id, manifest)
	verifier, err := note.NewVerifier(created.BoardKey)
	must(t, err)
	h.verifier = verifier
	if len(created.TrusteeTokens) != 5 || created.State != api.StateSetup {
		t.Fatalf("created: %+v", created)
	}
	wantCode(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, nil), "exists")
	if !bytes.Contains(manifest, []byte(`"board":{"key":`+strconv.Quote(created.BoardKey)+`}`)) {
		t.Fatalf("the server did not fill in its board key:\n%s", manifest)
	}
	wantCode(t, client.New(h.url, "wrong").Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, nil), "unauthorized")

	// The key ceremony, each trustee talking to the server with its token.
	p := ceremony.Params{N: 5, T: 3}
	h0 := ballot.Hash(manifest)
	trustees := make([]*ceremony.Trustee, 5)
	tc := make([]*client.Client, 5)
	for j := 1; j <= 5; j++ {
		tc[j-1] = client.New(h.url, created.TrusteeTokens[j-1])
		tr, ann, err := ceremony.NewTrustee(rand.Reader, p, h0[:], j, fmt.Sprintf("trustee %d", j))
		must(t, err)
		trustees[j-1] = tr
		must(t, tc[j-1].PostCeremony(ctx, id, ceremony.RoundAnnounce, ann))
	}
	wantCode(t, tc[0].PostCeremony(ctx, id, ceremony.RoundAnnounce, json.RawMessage(`{}`)), "invalid-message")
	transcript := func() *ceremony.Transcript {
		tr, err := h.admin.Transcript(ctx, id, p)
		must(t, err)
		return tr
	}
	wantCode(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil), "ceremony-incomplete")
	for i, tr := range trustees {
		d, err := tr.Deal(rand.Reader, h0[:], transcript().Announcements)
		must(t, err)
		must(t, tc[i].PostCeremony(ctx, id, ceremony.RoundDeal, d))
	}
	for i, tr := range trustees {
		cur := transcript()
		v, err := tr.Receive(h0[:], cur.Announcements, cur.Dealings)
		must(t, err)
		must(t, tc[i].PostCeremony(ctx, id, ceremony.RoundVerdict, v))
	}
	for i, tr := range trustees {
		cur := transcript()
		rs, err := tr.Respond(h0[:], cur.Announcements, cur.Verdicts)
		must(t, err)
		if rs == nil {
			rs = []ceremony.Response{}
		}
		must(t, tc[i].PostCeremony(ctx, id, ceremony.RoundRespond, rs))
	}

	// The voter roll: 120 voters, one-time codes back as CSV.
	var roll strings.Builder
	roll.WriteString("voter_id\n")
	for i := range 120 {
		fmt.Fprintf(&roll, "R9-%04d\n", i)
	}
	raw, err := h.admin.Raw(ctx, "POST", api.ElectionPath(id, "/roll"), "text/csv", []byte(roll.String()))
	must(t, err)
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	must(t, err)
	if len(rows) != 121 || rows[0][1] != "code" {
		t.Fatalf("codes CSV has %d rows", len(rows))
	}
	codes := map[string]string{}
	for _, r := range rows[1:] {
		codes[r[0]] = r[1]
	}
	voter := client.New(h.url, "")
	wantCode(t, voter.JSON(ctx, "POST", api.ElectionPath(id, "/register"), map[string]any{"voter": "R9-0000", "code": codes["R9-0000"], "blinded": []byte{1}}, nil), "not-open")

	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	el, err := voter.Election(ctx, id)
	must(t, err)

	// 110 voters register and cast; 10 of them vote again; one spoils first.
	type cast struct {
		cred    *credential.Credential
		pt      ballot.Plaintext
		receipt *client.Receipt
	}
	answers := func(i int) ballot.Plaintext {
		a := ballot.Answers{"age": []string{"20s", "30s", "40s", "60s"}[i%4], "fields": []any{"health", []string{"digital", "education"}[i%2]},
			"science-city": float64(1 + i%5), "internet-voting": []string{"for", "against", "dont-know"}[i%3]}
		pt, err := el.E.Manifest.Plaintext(a)
		must(t, err)
		return pt
	}
	casts := make([]cast, 110)
	var wg sync.WaitGroup
	errs := make([]error, len(casts))
	for i := range casts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vid := fmt.Sprintf("R9-%04d", i)
			cred, err := voter.Register(ctx, el, vid, codes[vid])
			if err != nil {
				errs[i] = err
				return
			}
			pt := answers(i)
			env, _, _, err := client.Seal(el, cred, pt, 1)
			if err != nil {
				errs[i] = err
				return
			}
			r, err := voter.Cast(ctx, id, env)
			casts[i] = cast{cred: cred, pt: pt, receipt: r}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("voter %d: %v", i, err)
		}
	}
	// Re-votes: the last ballot counts.
	for i := range 10 {
		pt := answers(i + 1)
		env, _, _, err := client.Seal(el, casts[i].cred, pt, 2)
		must(t, err)
		r, err := voter.Cast(ctx, id, env)
		must(t, err)
		casts[i].pt, casts[i].receipt = pt, r
	}
	// A Benaloh challenge.
	challenged, sb, nonces, err := client.Seal(el, casts[20].cred, answers(3), 2)
	must(t, err)
	must(t, voter.Spoil(ctx, id, ballot.Spoil(sb, answers(3), nonces)))
	// A ballot cast and then challenged.
	castEnv, cb, castNonces, err := client.Seal(el, casts[21].cred, answers(4), 2)
	must(t, err)

	// Rejections, each storing nothing.
	sizeBefore := treeSize(t, h, id)
	// The challenged ballot cast after all (abuse-test C-1): its nonces
	// are public, so the record would fail verification.
	_, err = voter.Cast(ctx, id, challenged)
	wantCode(t, err, "spoiled")
	err = voter.Spoil(ctx, id, ballot.Spoil(sb, answers(3), nonces))
	wantCode(t, err, "spoiled")
	sizeBefore = treeSize(t, h, id)
	r21, err := voter.Cast(ctx, id, castEnv)
	must(t, err)
	casts[21].pt, casts[21].receipt = answers(4), r21
	sizeBefore++
	err = voter.Spoil(ctx, id, ballot.Spoil(cb, answers(4), castNonces))
	wantCode(t, err, "cast")
	cred0 := casts[0].cred
	env, _, _, _ := client.Seal(el, cred0, answers(0), 2) // counter 2 was used: replay
	_, err = voter.Cast(ctx, id, env)
	wantCode(t, err, "replay")
	vid := "R9-0000"
	_, err = voter.Register(ctx, el, vid, codes[vid])
	wantCode(t, err, "already-registered")
	_, err = voter.Register(ctx, el, "R9-0119", "AAAA-BBBB-CCCC-DDDD")
	wantCode(t, err, "not-eligible")
	_, err = voter.Register(ctx, el, "nobody", codes["R9-0119"])
	wantCode(t, err, "not-eligible")
	forged := *env
	forged.Counter = 9
	forged.Credential = bytes.Clone(env.Credential)
	forged.Credential[len(forged.Credential)-1] ^= 1
	_, err = voter.Cast(ctx, id, &forged)
	wantCode(t, err, "invalid-credential")
	noCred := *env
	noCred.Credential = nil // encodes as null, which no decoder accepts
	_, err = voter.Cast(ctx, id, &noCred)
	wantCode(t, err, "malformed")
	noCred.Credential = []byte{}
	_, err = voter.Cast(ctx, id, &noCred)
	wantCode(t, err, "invalid-credential")
	badSig, _, _, _ := client.Seal(el, cred0, answers(0), 7)
	badSig.Counter = 8 // signed for 7
	_, err = voter.Cast(ctx, id, badSig)
	wantCode(t, err, "invalid-signature")
	badProof, _, _, _ := client.Seal(el, cred0, answers(0), 10)
	badProof.Ballot = bytes.Clone(badProof.Ballot)
	badProof.Ballot[ballot.HeaderSize+64+70] ^= 1 // a challenge share of the first range proof
	badProof.Signature = cred0.SignCast(el.E.Context, ballot.TrackingCode(badProof.Ballot), 10)
	_, err = voter.Cast(ctx, id, badProof)
	wantCode(t, err, "invalid-ballot")
	_, err = voter.Raw(ctx, "POST", api.ElectionPath(id, "/ballots"), "application/json", []byte(`{"ballot":"AAAA","extra":1}`))
	wantCode(t, err, "malformed")
	_, err = voter.Raw(ctx, "POST", api.ElectionPath(id, "/ballots"), "application/json", bytes.Repeat([]byte("x"), 300<<10))
	wantCode(t, err, "too-large")
	if n := treeSize(t, h, id); n != sizeBefore {
		t.Fatalf("rejected requests changed the board: %d entries, was %d", n, sizeBefore)
	}

	// A registration retried after its answer was lost: the same request
	// gets the same blind signature, and one issuance is recorded; another
	// blinded message with the same code is refused.
	pending, blinded, err := credential.Request(rand.Reader, el.Registrar, el.E.Context)
	must(t, err)
	register := map[string]any{"voter": "R9-0118", "code": codes["R9-0118"], "blinded": blinded}
	var first, again api.RegisterResponse
	must(t, voter.JSON(ctx, "POST", api.ElectionPath(id, "/register"), register, &first))
	must(t, voter.JSON(ctx, "POST", api.ElectionPath(id, "/register"), register, &again))
	if !bytes.Equal(first.BlindSignature, again.BlindSignature) {
		t.Fatal("the retried registration got another blind signature")
	}
	if _, err := pending.Finalize(again.BlindSignature); err != nil {
		t.Fatalf("the retried registration's credential: %v", err)
	}
	if n := treeSize(t, h, id); n != sizeBefore+1 {
		t.Fatalf("a registration and its retry added %d entries, want 1", n-sizeBefore)
	}
	_, other, err := credential.Request(rand.Reader, el.Registrar, el.E.Context)
	must(t, err)
	register["blinded"] = other
	wantCode(t, voter.JSON(ctx, "POST", api.ElectionPath(id, "/register"), register, nil), "already-registered")

	// 50 concurrent casts with one credential and one counter: one is stored.
	cred := casts[50].cred
	same, _, _, err := client.Seal(el, cred, answers(9), 2)
	must(t, err)
	var replayed sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for range 50 {
		replayed.Add(1)
		go func() {
			defer replayed.Done()
			_, err := voter.Cast(ctx, id, same)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				outcomes["ok"]++
			case client.IsCode(err, api.CodeReplay):
				outcomes["replay"]++
			default:
				outcomes[err.Error()]++
			}
		}()
	}
	replayed.Wait()
	if outcomes["ok"] != 1 || outcomes["replay"] != 49 {
		t.Fatalf("50 concurrent casts: %v", outcomes)
	}
	casts[50].pt = answers(9)

	// Receipts verify against the board's key, now and against a later checkpoint.
	r0 := casts[0].receipt
	entry := boardEntry(t, h, id, r0.Receipt.Index)
	must(t, board.VerifyReceipt(r0.Receipt, entry, h.verifier))
	later, err := voter.CheckReceipt(ctx, id, r0.TrackingCode)
	must(t, err)
	must(t, board.VerifyReceipt(later.Receipt, entry, h.verifier))

	// Close: no more ballots.
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/close"), "", nil, nil))
	late, _, _, _ := client.Seal(el, casts[60].cred, answers(1), 2)
	_, err = voter.Cast(ctx, id, late)
	wantCode(t, err, "closed")

	// An auditor can verify the election while it is in progress.
	mid := verify.Record(downloadRecord(t, h, id), verify.Options{})
	if !mid.OK() || !mid.InProgress || mid.Ballots != 110 {
		t.Fatalf("record before the tally: ok %v, in progress %v, %d ballots: %+v", mid.OK(), mid.InProgress, mid.Ballots, mid.Failures())
	}

	// Tally; trustees 2 and 4 are absent.
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/tally"), "", nil, nil))
	pub, err := voter.Tally(ctx, id)
	must(t, err)
	acc, err := tally.ParseEncrypted(pub, el.E.Style)
	must(t, err)
	if acc.Ballots != 110 {
		t.Fatalf("tally of %d ballots, want 110", acc.Ballots)
	}
	for _, j := range []int{1, 3, 5} {
		tr := trustees[j-1]
		_, err := tr.Finish(h0[:], transcript())
		must(t, err)
		share, err := tally.Decrypt(rand.Reader, el.E, acc, j, tr.Share())
		must(t, err)
		if j == 1 {
			bad := *share
			bad.Partials = append([]tally.Partial(nil), share.Partials...)
			bad.Partials[0].D = bad.Partials[1].D
			wantCode(t, tc[0].PostDecryption(ctx, id, &bad), "invalid-share")
		}
		must(t, tc[j-1].PostDecryption(ctx, id, share))
	}
	var results tally.Results
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, &results))

	// The results are what the voters chose, counting only their last ballots.
	want := make([]uint64, el.E.Style.Selections())
	for _, c := range casts {
		k := 0
		for _, q := range c.pt {
			for _, v := range q {
				want[k] += v
				k++
			}
		}
	}
	got := tally.ResultsOf(el.E.Manifest, 110, want)
	if g, w := mustJSON(results), mustJSON(got); g != w {
		t.Fatalf("results\n%s\nwant\n%s", g, w)
	}

	// With tessera's standard tlog-tiles client, over HTTP: the first
	// voter's receipt is included in the latest checkpoint, which is
	// consistent with the one the receipt was given.
	tesseraCheck(t, h, id, r0.Receipt, entry)

	// The downloaded record passes the verifier.
	dir := downloadRecord(t, h, id)
	rep := verify.Record(dir, verify.Options{})
	if !rep.OK() {
		t.Fatalf("the record does not verify: %+v", rep.Failures())
	}
	if rep.Ballots != 110 || len(rep.Spoiled) != 1 {
		t.Fatalf("verified %d ballots, %d spoiled", rep.Ballots, len(rep.Spoiled))
	}
	boardChecks := 0
	for _, c := range rep.Checks {
		if c.What == "board" {
			boardChecks++
		}
	}
	if boardChecks != 5 {
		t.Fatalf("%d board checks passed, want 5: %+v", boardChecks, rep.Checks)
	}
	if len(rep.Trusted) == 0 || !strings.Contains(rep.Trusted[0], "registrar checked each person's eligibility") {
		t.Fatalf("the report does not say what it still trusts: %q", rep.Trusted)
	}

	// A record that disagrees with its board, or a board that disagrees
	// with its checkpoint, fails.
	for _, tc := range []struct {
		name, want string
		tamper     func(dir string)
	}{
		{"results edited", "results.json differs from the board's", func(dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, record.Results))
			os.WriteFile(filepath.Join(dir, record.Results), bytes.Replace(data, []byte(`"count": 1`), []byte(`"count": 2`), 1), 0o644)
		}},
		{"board entry edited", "Merkle tree hash", func(dir string) {
			name := filepath.Join(dir, filepath.FromSlash(record.BoardEntries))
			data, _ := os.ReadFile(name)
			os.WriteFile(name, bytes.Replace(data, []byte(`"counter":1`), []byte(`"counter":3`), 1), 0o644)
		}},
		{"board entry dropped", "entries, the checkpoint covers", func(dir string) {
			name := filepath.Join(dir, filepath.FromSlash(record.BoardEntries))
			data, _ := os.ReadFile(name)
			lines := bytes.SplitAfter(data, []byte("\n"))
			os.WriteFile(name, bytes.Join(append(lines[:40:40], lines[41:]...), nil), 0o644)
		}},
		{"tally and results removed", "tally.json is on the board but not in the record", func(dir string) {
			os.Remove(filepath.Join(dir, record.Tally))
			os.Remove(filepath.Join(dir, record.Results))
		}},
		{"ballot removed from ballots.bin", "ballots.bin differs from the board's", func(dir string) {
			name := filepath.Join(dir, record.Ballots)
			data, _ := os.ReadFile(name)
			os.WriteFile(name, data[el.E.Style.Size():], 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := downloadRecord(t, h, id)
			tc.tamper(dir)
			rep := verify.Record(dir, verify.Options{})
			if rep.OK() {
				t.Fatal("a tampered record verified")
			}
			for _, f := range rep.Failures() {
				if strings.Contains(f.Detail, tc.want) {
					return
				}
			}
			t.Fatalf("no failure says %q: %+v", tc.want, rep.Failures())
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func treeSize(t *testing.T, h *harness, id string) int64 {
	t.Helper()
	raw, err := h.admin.Raw(context.Background(), "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
	must(t, err)
	cp, err := board.ParseCheckpoint(raw, h.verifier)
	must(t, err)
	return cp.Size
}

// boardEntry reads entry i from the record's board entries.
func boardEntry(t *testing.T, h *harness, id string, i int64) []byte {
	t.Helper()
	dir := downloadRecord(t, h, id)
	data, err := os.ReadFile(filepath.Join(dir, record.BoardEntries))
	must(t, err)
	lines := bytes.Split(data, []byte("\n"))
	return lines[i]
}

func downloadRecord(t *testing.T, h *harness, id string) string {
	t.Helper()
	resp, err := http.Get(h.url + api.ElectionPath(id, "/record"))
	must(t, err)
	defer resp.Body.Close()
	dir, err := record.Unpack(resp.Body, t.TempDir())
	must(t, err)
	return dir
}

// testWriter sends the server's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func tesseraCheck(t *testing.T, h *harness, id string, receipt *board.Receipt, entry []byte) {
	t.Helper()
	ctx := context.Background()
	u, err := url.Parse(h.url + api.ElectionPath(id, "/log/"))
	must(t, err)
	f, err := tclient.NewHTTPFetcher(u, nil)
	must(t, err)
	origin := board.Origin("koe.test", id)
	latest, _, _, err := tclient.FetchCheckpoint(ctx, f.ReadCheckpoint, h.verifier, origin)
	must(t, err)
	old, err := board.ParseCheckpoint([]byte(receipt.Checkpoint), h.verifier)
	must(t, err)
	if latest.Size <= uint64(old.Size) {
		t.Fatalf("the board did not grow after the receipt: %d ≤ %d", latest.Size, old.Size)
	}
	pb, err := tclient.NewProofBuilder(ctx, latest.Size, f.ReadTile)
	must(t, err)
	incl, err := pb.InclusionProof(ctx, uint64(receipt.Index))
	must(t, err)
	must(t, proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(receipt.Index), latest.Size, rfc6962.DefaultHasher.HashLeaf(entry), incl, latest.Hash))
	cons, err := pb.ConsistencyProof(ctx, uint64(old.Size), latest.Size)
	must(t, err)
	must(t, proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old.Size), latest.Size, cons, old.Hash[:], latest.Hash))
}
