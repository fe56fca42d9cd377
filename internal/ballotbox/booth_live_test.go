package ballotbox_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
)

// booth runs the booth's interop script (web/booth/interop.mjs) in Node on
// req and decodes its answer into out. Without node or the booth's
// node_modules the test is skipped, unless CI=true: then it fails.
type booth struct {
	t      *testing.T
	script string
}

func newBooth(t *testing.T) *booth {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "web", "booth"))
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "@noble", "curves")); err != nil {
		missing = "web/booth/node_modules is missing (run npm ci in web/booth)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the live booth interop test cannot run: %s", missing)
		}
		t.Skipf("%s; with CI=true this is a failure", missing)
	}
	return &booth{t: t, script: filepath.Join(dir, "interop.mjs")}
}

func (b *booth) run(req map[string]any, out any) {
	b.t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		b.t.Fatal(err)
	}
	cmd := exec.Command("node", b.script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		b.t.Fatalf("node %s (op %v): %v\n%s", b.script, req["op"], err, stderr.Bytes())
	}
	if err := json.Unmarshal(data, out); err != nil {
		b.t.Fatalf("the booth's answer to %v: %v\n%s", req["op"], err, data)
	}
}

// randomManifest draws a manifest of 1–4 questions of every kind, with
// random options, bounds and optionality, valid for ballot.ParseManifest.
func randomManifest(t *testing.T, r *mrand.Rand) ([]byte, *ballot.Manifest) {
	t.Helper()
	m := ballot.Manifest{Spec: "koe/v2", ID: fmt.Sprintf("live-%06d", r.IntN(1e6)), Kind: []string{"vote", "survey"}[r.IntN(2)],
		Title: ballot.Text{Ja: "無作為の選挙", En: "A random election"}}
	m.Trustees = 1 + r.IntN(5)
	m.Threshold = 1 + r.IntN(m.Trustees)
	for qi := range 1 + r.IntN(4) {
		q := ballot.Question{ID: fmt.Sprintf("q%d", qi), Label: ballot.Text{Ja: fmt.Sprintf("質問 %d", qi+1)}}
		options := func(n int) {
			for oi := range n {
				q.Options = append(q.Options, ballot.Option{ID: fmt.Sprintf("o%d-%d", qi, oi), Label: ballot.Text{Ja: fmt.Sprintf("選択肢 %d", oi+1), En: "option"}})
			}
		}
		switch r.IntN(3) {
		case 0:
			q.Kind = ballot.KindSingle
			options(1 + r.IntN(5))
			q.Optional = r.IntN(2) == 0
		case 1:
			q.Kind = ballot.KindMultiple
			options(1 + r.IntN(5))
			q.Min = r.IntN(len(q.Options) + 1)
			q.Max = max(q.Min, 1) + r.IntN(len(q.Options)-max(q.Min, 1)+1)
		default:
			q.Kind = ballot.KindRating
			q.Min = r.IntN(6)
			q.Max = q.Min + 1 + r.IntN(6)
		}
		m.Questions = append(m.Questions, q)
	}
	data, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ballot.ParseManifest(data)
	if err != nil {
		t.Fatalf("the random manifest is invalid: %v\n%s", err, data)
	}
	return data, parsed
}

// randomAnswers draws a valid answer set for m, as JSON.
func randomAnswers(r *mrand.Rand, m *ballot.Manifest) json.RawMessage {
	a := map[string]any{}
	for _, q := range m.Questions {
		switch q.Kind {
		case ballot.KindSingle:
			if q.Optional && r.IntN(3) == 0 {
				continue
			}
			a[q.ID] = q.Options[r.IntN(len(q.Options))].ID
		case ballot.KindMultiple:
			n := q.Min + r.IntN(q.Max-q.Min+1)
			var ids []string
			for _, i := range r.Perm(len(q.Options))[:n] {
				ids = append(ids, q.Options[i].ID)
			}
			a[q.ID] = append([]string{}, ids...)
		case ballot.KindRating:
			a[q.ID] = q.Min + r.IntN(q.Max-q.Min+1)
		}
	}
	data, _ := json.Marshal(a)
	return data
}

func plaintextOf(t *testing.T, m *ballot.Manifest, answers json.RawMessage) ballot.Plaintext {
	t.Helper()
	a, err := ballot.ParseAnswers(answers)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := m.Plaintext(a)
	if err != nil {
		t.Fatalf("Go refuses the answers %s: %v", answers, err)
	}
	return pt
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoothLive runs the booth's module in Node on fresh random inputs —
// a manifest, an election key, answers, a registrar key and a credential
// request — and checks each side's output with the other: the booth's
// credential, cast envelopes (a vote and a re-vote) and Benaloh-spoiled
// ballot with the Go ballot box's checks; Go's envelopes and spoiled
// ballots with the booth's verifier; and that both turn the same answers
// into the same plaintext (SPEC.md §8.1, §8.6, §14, §15.4).
func TestBoothLive(t *testing.T) {
	b := newBooth(t)
	seed := [2]uint64{}
	for i := range seed {
		var x [8]byte
		rand.Read(x[:])
		seed[i] = uint64(x[0]) | uint64(x[1])<<8 | uint64(x[2])<<16 | uint64(x[3])<<24 | uint64(x[4])<<32 | uint64(x[5])<<40 | uint64(x[6])<<48 | uint64(x[7])<<56
	}
	t.Logf("random seed %d %d", seed[0], seed[1])
	r := mrand.New(mrand.NewPCG(seed[0], seed[1]))
	reg, err := credential.NewRegistrar(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	regText, _ := reg.PublicKey().MarshalText()
	for round := range 2 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			manifestBytes, m := randomManifest(t, r)
			x, _ := group.RandomScalar(rand.Reader)
			K := group.BaseMul(x)
			e, err := ballot.NewElection(manifestBytes, K, reg.PublicKey().ID())
			if err != nil {
				t.Fatal(err)
			}
			common := map[string]any{"manifest": base64.StdEncoding.EncodeToString(manifestBytes), "K": hex.EncodeToString(K.Bytes()), "registrar": string(regText)}
			answers, revote := randomAnswers(r, m), randomAnswers(r, m)
			counter := 1 + r.Uint64N(1000)
			jsToGo(t, b, e, reg, common, answers, revote, counter)
			goToJS(t, b, e, reg, common, answers)
		})
	}
}

// jsToGo: the booth registers, encrypts, spoils and casts; Go checks it all.
func jsToGo(t *testing.T, b *booth, e *ballot.Election, reg *credential.Registrar, common map[string]any, answers, revote json.RawMessage, counter uint64) {
	var req struct {
		Blinded string          `json:"blinded"`
		Pending json.RawMessage `json:"pending"`
	}
	b.run(map[string]any{"op": "request", "registrar": common["registrar"], "context": hex.EncodeToString(e.Context[:])}, &req)
	sig, err := reg.Sign(unhex(t, req.Blinded))
	if err != nil {
		t.Fatalf("Go's registrar refuses the booth's blinded message: %v", err)
	}
	var out struct {
		Context    string     `json:"context"`
		Credential string     `json:"credential"`
		Secret     string     `json:"secret"`
		Plaintext  [][]uint64 `json:"plaintext"`
		Envelopes  []struct {
			Counter  uint64 `json:"counter"`
			Tracking string `json:"tracking"`
			Envelope string `json:"envelope"`
		} `json:"envelopes"`
		Spoiled string `json:"spoiled"`
	}
	castReq := map[string]any{"op": "cast", "pending": req.Pending, "blindSignature": hex.EncodeToString(sig),
		"answers": answers, "revote": revote, "counter": counter}
	for k, v := range common {
		castReq[k] = v
	}
	b.run(castReq, &out)
	if out.Context != hex.EncodeToString(e.Context[:]) {
		t.Fatal("the booth's election context differs from Go's")
	}
	pub := reg.PublicKey()
	cred, err := credential.DecodeCredential(pub, unhex(t, out.Credential))
	if err != nil {
		t.Fatal(err)
	}
	if err := cred.Verify(pub, e.Context); err != nil {
		t.Fatalf("the booth's credential: %v", err)
	}
	secret, err := credential.UnmarshalPrivate(pub, []byte(out.Secret))
	if err != nil || !bytes.Equal(secret.Bytes(), cred.Bytes()) {
		t.Fatalf("the booth's credential file: %v", err)
	}
	pt := plaintextOf(t, e.Manifest, answers)
	if !slices.EqualFunc(pt, out.Plaintext, slices.Equal) {
		t.Fatalf("answers %s: Go's plaintext %v, the booth's %v", answers, pt, out.Plaintext)
	}
	var keys [][32]byte
	for i, x := range out.Envelopes {
		env, err := ballotbox.ParseEnvelope([]byte(x.Envelope))
		if err != nil {
			t.Fatal(err)
		}
		for _, batched := range []bool{false, true} {
			var batch *group.Batch
			if batched {
				batch = group.NewBatch()
			}
			c, err := ballotbox.Check(e, pub, env, batch)
			if err != nil {
				t.Fatalf("envelope %d: %v", i, err)
			}
			if batched && !batch.Verify() {
				t.Fatalf("envelope %d: the batch rejects the booth's proofs", i)
			}
			if hex.EncodeToString(c.Tracking[:]) != x.Tracking || env.Counter != counter+uint64(i) || c.Credential.PublicKey.Equal(cred.PublicKey) == false {
				t.Fatalf("envelope %d: tracking code, counter or key differ", i)
			}
			keys = append(keys, c.Key)
		}
		if again, _ := json.Marshal(env); string(again) != x.Envelope {
			t.Fatalf("the booth's envelope JSON is not Go's encoding:\n%s\n%s", x.Envelope, again)
		}
		bad := *env
		bad.Counter++
		if _, err := ballotbox.Check(e, pub, &bad, nil); !errors.Is(err, ballotbox.ErrInvalidSignature) {
			t.Fatalf("the booth's envelope with a changed counter: %v", err)
		}
	}
	if keys[0] != keys[len(keys)-1] {
		t.Fatal("a vote and a re-vote of one credential have different counter keys")
	}
	sp, err := ballot.ParseSpoiled([]byte(out.Spoiled))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Check(e); err != nil {
		t.Fatalf("the booth's spoiled ballot: %v", err)
	}
	if !slices.EqualFunc(sp.Values, pt, slices.Equal) {
		t.Fatalf("spoiled values %v, want %v", sp.Values, pt)
	}
}

// goToJS: Go registers, encrypts, spoils and casts; the booth checks it,
// and refuses altered copies.
func goToJS(t *testing.T, b *booth, e *ballot.Election, reg *credential.Registrar, common map[string]any, answers json.RawMessage) {
	pub := reg.PublicKey()
	pending, blinded, err := credential.Request(rand.Reader, pub, e.Context)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := reg.Sign(blinded)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := pending.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	pt := plaintextOf(t, e.Manifest, answers)
	var salt [credential.SaltSize]byte
	rand.Read(salt[:])
	bl, nonces, err := ballot.Encrypt(rand.Reader, e, credential.Binding(cred.PublicKey, salt), pt)
	if err != nil {
		t.Fatal(err)
	}
	env := &ballotbox.Envelope{Ballot: bl.Bytes(), Credential: cred.Bytes(), Salt: salt[:], Counter: 5, Signature: cred.SignCast(e.Context, bl.TrackingCode(), 5)}
	good, _ := json.Marshal(env)
	forged := *env
	forged.Counter = 6
	badCounter, _ := json.Marshal(&forged)
	otherSalt := *env
	otherSalt.Salt = make([]byte, credential.SaltSize)
	badSalt, _ := json.Marshal(&otherSalt)
	spoiled, _ := json.Marshal(ballot.Spoil(bl, pt, nonces))
	wrongValues := bytes.Clone(spoiled)
	if bytes.Contains(wrongValues, []byte(`"values":[[0`)) {
		wrongValues = bytes.Replace(wrongValues, []byte(`"values":[[0`), []byte(`"values":[[1`), 1)
	} else {
		wrongValues = bytes.Replace(wrongValues, []byte(`"values":[[`), []byte(`"values":[[0,`), 1)
	}
	var out struct {
		Context   string `json:"context"`
		Envelopes []struct {
			OK       bool   `json:"ok"`
			Tracking string `json:"tracking"`
			Counter  uint64 `json:"counter"`
			Error    string `json:"error"`
		} `json:"envelopes"`
		Spoiled []struct {
			OK      bool            `json:"ok"`
			Values  [][]uint64      `json:"values"`
			Answers json.RawMessage `json:"answers"`
			Error   string          `json:"error"`
		} `json:"spoiled"`
		Answers []json.RawMessage `json:"answers"`
	}
	req := map[string]any{"op": "verify", "envelopes": []string{string(good), string(badCounter), string(badSalt)},
		"spoiled": []string{string(spoiled), string(wrongValues)}, "plaintexts": []ballot.Plaintext{pt}}
	for k, v := range common {
		req[k] = v
	}
	b.run(req, &out)
	tc := bl.TrackingCode()
	if e0 := out.Envelopes[0]; !e0.OK || e0.Tracking != hex.EncodeToString(tc[:]) || e0.Counter != 5 {
		t.Fatalf("the booth on Go's envelope: %+v", e0)
	}
	for i, why := range []string{"", "a changed counter", "another salt"} {
		if i > 0 && out.Envelopes[i].OK {
			t.Fatalf("the booth accepts Go's envelope with %s", why)
		}
	}
	if s := out.Spoiled[0]; !s.OK || !slices.EqualFunc(s.Values, pt, slices.Equal) {
		t.Fatalf("the booth on Go's spoiled ballot: %+v", s)
	}
	if out.Spoiled[1].OK {
		t.Fatal("the booth accepts a spoiled ballot opened to other values")
	}
	// Answers back from the plaintext: the booth's equal Go's.
	goAnswers, _ := json.Marshal(e.Manifest.Answers(pt))
	if !jsonEqual(t, goAnswers, out.Answers[0]) || !jsonEqual(t, goAnswers, out.Spoiled[0].Answers) {
		t.Fatalf("answers of %v: Go %s, the booth %s", pt, goAnswers, out.Answers[0])
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
