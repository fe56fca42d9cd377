package server_test

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
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// mixElection is a city survey (examples/city-survey.json: 3 trustees,
// threshold 2; a choice, a rating, a rank and a text question) on a server
// over SQLite, closed after its voters cast. The test plays the trustees:
// it keeps its own mixnet.Chain of each mixed question, as a trustee's
// client would, and posts what they make over HTTP.
type mixElection struct {
	t        *testing.T
	st       store.Store
	key      ed25519.PrivateKey
	stop     func()
	url      string
	admin    *client.Client
	tc       []*client.Client // trustee j's client at j−1
	id       string
	manifest []byte
	created  api.Created
	trustees []*ceremony.Trustee
	el       *client.Election
	qual     []int
	keys     map[int]*group.Element
	counted  []ballot.Answers // the answers of the counted ballots, in cast order
	chains   map[string]*mixnet.Chain
}

func (m *mixElection) serve() {
	srv, err := server.New(server.Config{
		Store: m.st, Origin: "koe.test", BoardKey: m.key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000, CastRate: 1000, CastBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	must(m.t, err)
	ts := httptest.NewServer(srv.Handler())
	m.stop = func() { ts.Close(); srv.Close() }
	m.url = ts.URL
	m.clients()
}

func (m *mixElection) clients() {
	m.admin = client.New(m.url, adminToken)
	m.tc = nil
	for _, tok := range m.created.TrusteeTokens {
		m.tc = append(m.tc, client.New(m.url, tok))
	}
}

// restart replaces the server with a new one on the same store, as after
// a restart: nothing of the old one's memory is left.
func (m *mixElection) restart() {
	m.stop()
	m.serve()
}

// mixAnswers are voter i's answers: some leave the optional text empty,
// two write the same comment.
func mixAnswers(i int) ballot.Answers {
	comments := []string{"駅前の駐輪場を増やしてほしい。", "", "Please add English signs.", "駅前の駐輪場を増やしてほしい。", "図書館の開館時間を延ばしてください。\n夜も。", ""}
	ranks := [][]any{{"shelters", "bus-stops"}, {"library-hours"}, {"bike-lanes", "shelters", "school-route"}, {"shelters"}, {"bus-stops", "shelters", "bike-lanes"}, {"school-route", "library-hours"}}
	a := ballot.Answers{"age": []string{"20s", "30s", "70s"}[i%3], "science-city": float64(1 + i%5), "priorities": ranks[i%len(ranks)]}
	if c := comments[i%len(comments)]; c != "" {
		a["opinion"] = c
	}
	return a
}

// newMixElection creates, runs the ceremony of (with ceremonyFn, or
// demo.ServerCeremony) and opens the city survey, has voters cast
// (voter 0 twice: its second ballot counts) and closes it.
func newMixElection(t *testing.T, voters int, ceremonyFn func(m *mixElection) []*ceremony.Trustee) *mixElection {
	ctx := context.Background()
	m := &mixElection{t: t, st: sqliteStore(t)}
	_, m.key, _ = ed25519.GenerateKey(rand.Reader)
	m.serve()
	t.Cleanup(func() { m.stop() })
	posted, err := examples.Manifest("city-survey")
	must(t, err)
	man, err := ballot.ParseManifest(posted)
	must(t, err)
	one := 1 // a handful of voters (SPEC.md §7.2)
	man.Privacy = &one
	posted, err = json.Marshal(man)
	must(t, err)
	must(t, m.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", posted, &m.created))
	m.id = m.created.ID
	m.clients() // the trustees' clients, now that the tokens are known
	m.manifest = serverManifest(t, m.url, m.id, posted)
	if ceremonyFn == nil {
		m.trustees, err = demo.ServerCeremony(ctx, m.url, m.id, m.manifest, m.created.TrusteeTokens)
		must(t, err)
	} else {
		m.trustees = ceremonyFn(m)
	}
	codes, err := demo.ImportRoll(ctx, m.admin, m.id, "M", voters)
	must(t, err)
	must(t, m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/open"), "", nil, nil))
	voter := client.New(m.url, "")
	m.el, err = voter.Election(ctx, m.id)
	must(t, err)
	var info api.ElectionInfo
	must(t, m.admin.Do(ctx, "GET", api.ElectionPath(m.id, ""), "", nil, &info))
	m.qual = info.Params.Qual
	h0 := ballot.Hash(m.manifest)
	tr, err := m.admin.Transcript(ctx, m.id, ceremony.Params{N: 3, T: 2})
	must(t, err)
	for _, j := range m.qual {
		res, err := m.trustees[j-1].Finish(h0[:], tr)
		must(t, err)
		m.keys = res.VerificationKeys
	}
	for i := range voters {
		vid := fmt.Sprintf("M%05d", i)
		cred, err := voter.Register(ctx, m.el, vid, codes[vid])
		must(t, err)
		a := mixAnswers(i)
		if i == 0 {
			pt, err := m.el.E.Manifest.Plaintext(mixAnswers(voters))
			must(t, err)
			env, _, _, err := client.Seal(m.el, cred, pt, 1)
			must(t, err)
			_, err = voter.Cast(ctx, m.id, env)
			must(t, err)
		}
		pt, err := m.el.E.Manifest.Plaintext(a)
		must(t, err)
		counter := uint64(1)
		if i == 0 {
			counter = 2
		}
		env, _, _, err := client.Seal(m.el, cred, pt, counter)
		must(t, err)
		_, err = voter.Cast(ctx, m.id, env)
		must(t, err)
		m.counted = append(m.counted, a)
	}
	must(t, m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/close"), "", nil, nil))
	return m
}

// tally tallies the election, has the first t qualified trustees decrypt
// the tally, and starts the test's chains from the record's ballots.bin.
func (m *mixElection) tally() {
	t, ctx := m.t, context.Background()
	must(t, m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/tally"), "", nil, nil))
	must(t, demo.ServerDecryptTally(ctx, m.url, m.id, m.manifest, m.trustees, m.created.TrusteeTokens, m.qual[:2]))
	dir := downloadRecord(t, &harness{t: t, url: m.url}, m.id)
	data, err := os.ReadFile(filepath.Join(dir, record.Ballots))
	must(t, err)
	size := m.el.E.Style.Size()
	var ballots []*ballot.Ballot
	for k := 0; k < len(data); k += size {
		b, err := ballot.Decode(m.el.E, data[k:k+size])
		must(t, err)
		ballots = append(ballots, b)
	}
	m.chains = map[string]*mixnet.Chain{}
	for _, qi := range m.el.E.Manifest.Mixed() {
		c, err := mixnet.NewChain(m.el.E, qi, ballots, m.keys, 2)
		must(t, err)
		m.chains[c.ID] = c
	}
}

// mix has trustee j make the next round of question q from the test's
// chain and post it; the round is added to the test's chain if the server
// takes it.
func (m *mixElection) mix(q string, j int) error {
	c := m.chains[q]
	msg, err := c.Mix(rand.Reader, j, m.trustees[j-1].Share())
	must(m.t, err)
	round, err := m.tc[j-1].PostMix(context.Background(), m.id, q, msg)
	if err == nil {
		must(m.t, c.AddRound(j, msg))
		if round != len(c.Rounds) {
			m.t.Fatalf("the server numbered the round %d, want %d", round, len(c.Rounds))
		}
	}
	return err
}

// forceMix has trustee j post a valid shuffle of question q's latest
// list for the next round, without the test's chain's rules.
func (m *mixElection) forceMix(q string, j int) error {
	c := m.chains[q]
	ctx := mixnet.RoundContext(m.el.E.Context, c.Question, len(c.Rounds)+1, j)
	out, proof, err := shuffle.ShuffleList(rand.Reader, ctx, m.el.E.Key, c.Last())
	must(m.t, err)
	_, err = m.tc[j-1].PostMix(context.Background(), m.id, q, append(slices.Clip(out.Bytes()), proof.Bytes()...))
	return err
}

// share has trustee j decrypt question q's final list and post it.
func (m *mixElection) share(q string, j int) error {
	c := m.chains[q]
	sh, err := c.Decrypt(rand.Reader, j, m.trustees[j-1].Share())
	must(m.t, err)
	err = m.tc[j-1].PostMixShare(context.Background(), m.id, q, sh)
	if err == nil {
		must(m.t, c.AddShare(j, sh))
	}
	return err
}

func (m *mixElection) size() int64 {
	n, err := m.st.TreeSize(context.Background(), m.id)
	must(m.t, err)
	return n
}

// refused checks that a request was refused with code and left the board
// as it was.
func (m *mixElection) refused(err error, code string, before int64) {
	m.t.Helper()
	wantCode(m.t, err, code)
	if n := m.size(); n != before {
		m.t.Fatalf("a refused request changed the board: %d entries, was %d", n, before)
	}
}

// checkLists compares every list the server serves with the test's chain.
func (m *mixElection) checkLists(q string) {
	m.t.Helper()
	c := m.chains[q]
	for r := 0; r <= len(c.Rounds); r++ {
		want := c.Input
		if r > 0 {
			want = c.Rounds[r-1].Output
		}
		got, err := m.admin.MixList(context.Background(), m.id, q, r)
		must(m.t, err)
		if !bytes.Equal(got, want.Bytes()) {
			m.t.Fatalf("list %d of %q differs from the trustees' chain", r, q)
		}
	}
	_, err := m.admin.MixList(context.Background(), m.id, q, len(c.Rounds)+1)
	wantCode(m.t, err, api.CodeNotFound)
}

// TestMixOverHTTP runs the mix of the city survey's rank and text
// questions over HTTP (SPEC.md §16.6): trustees post rounds and list
// decryption shares, the server refuses what is not valid, survives a
// restart, publishes the results with the decrypted answers — the comments
// the voters wrote — and exports them in the record.
func TestMixOverHTTP(t *testing.T) {
	ctx := context.Background()
	m := newMixElection(t, 7, nil)
	const rank, text = "priorities", "opinion"

	// Before the tally there is no mix.
	_, err := m.admin.Mixes(ctx, m.id)
	wantCode(t, err, api.CodeNoTally)
	before := m.size()
	_, err = m.tc[0].PostMix(ctx, m.id, rank, []byte{1})
	m.refused(err, api.CodeWrongState, before)
	m.refused(m.tc[0].PostMixShare(ctx, m.id, rank, []byte{1}), api.CodeWrongState, before)

	m.tally()
	mixes, err := m.admin.Mixes(ctx, m.id)
	must(t, err)
	want := api.Mixes{Threshold: 2, Questions: []api.MixState{
		{Question: rank, Count: 7, Width: 5, Rounds: []api.MixRound{}, Decryptions: []int{}},
		{Question: text, Count: 7, Width: 54, Rounds: []api.MixRound{}, Decryptions: []int{}},
	}}
	if mustJSON(mixes) != mustJSON(want) {
		t.Fatalf("mixes %s, want %s", mustJSON(mixes), mustJSON(want))
	}
	m.checkLists(rank)
	m.checkLists(text)
	_, err = m.admin.MixList(ctx, m.id, "age", 0)
	wantCode(t, err, api.CodeNoQuestion)
	_, err = m.admin.MixList(ctx, m.id, rank, -1)
	wantCode(t, err, api.CodeNotFound)

	// Nothing is published, and no list decrypted, before the mix.
	before = m.size()
	m.refused(m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/publish"), "", nil, nil), api.CodeMixIncomplete, before)
	m.refused(m.tc[0].PostMixShare(ctx, m.id, rank, make([]byte, 100)), api.CodeMixIncomplete, before)

	// Rounds that are not valid, each refused, leaving the board as it was.
	c := m.chains[rank]
	n, w := c.Input.Len(), c.Input.Width()
	good, err := c.Mix(rand.Reader, 1, m.trustees[0].Share())
	must(t, err)
	otherContext := func(round, trustee int) []byte {
		ctx := mixnet.RoundContext(m.el.E.Context, c.Question, round, trustee)
		out, proof, err := shuffle.ShuffleList(rand.Reader, ctx, m.el.E.Key, c.Input)
		must(t, err)
		return append(slices.Clip(out.Bytes()), proof.Bytes()...)
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		code string
	}{
		{"one ciphertext replaced", func() []byte {
			b := bytes.Clone(good)
			copy(b[0:32], good[64*w:64*w+32]) // vector 1's first A ← vector 2's
			return b
		}(), api.CodeInvalidMix},
		{"one vector dropped", append(bytes.Clone(good[:64*w*(n-1)]), good[64*n*w:]...), api.CodeInvalidMix},
		{"two vectors swapped after proving", func() []byte {
			b := bytes.Clone(good)
			copy(b[:64*w], good[64*w:128*w])
			copy(b[64*w:128*w], good[:64*w])
			return b
		}(), api.CodeInvalidMix},
		{"proved for round 2", otherContext(2, 1), api.CodeInvalidMix},
		{"proved for trustee 2", otherContext(1, 2), api.CodeInvalidMix},
		{"proved for another question", func() []byte {
			ctx := mixnet.RoundContext(m.el.E.Context, m.chains[text].Question, 1, 1)
			out, proof, err := shuffle.ShuffleList(rand.Reader, ctx, m.el.E.Key, c.Input)
			must(t, err)
			return append(slices.Clip(out.Bytes()), proof.Bytes()...)
		}(), api.CodeInvalidMix},
		{"one byte too many", append(bytes.Clone(good), 0), api.CodeTooLarge},
		{"empty", []byte{}, api.CodeInvalidMix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.tc[0].PostMix(ctx, m.id, rank, tc.msg)
			m.refused(err, tc.code, before)
		})
	}
	_, err = client.New(m.url, "not-a-token").PostMix(ctx, m.id, rank, good)
	m.refused(err, api.CodeUnauthorized, before)
	_, err = m.tc[0].PostMix(ctx, m.id, "age", good)
	m.refused(err, api.CodeNoQuestion, before)

	// Round 1 of the rank question by trustee 1; not twice.
	round, err := m.tc[0].PostMix(ctx, m.id, rank, good)
	must(t, err)
	must(t, c.AddRound(1, good))
	if round != 1 {
		t.Fatalf("the first round is numbered %d", round)
	}
	before = m.size()
	m.refused(m.forceMix(rank, 1), api.CodeDuplicate, before)

	// The chain survives a restart: a new server reads it from the board.
	m.restart()
	mixes, err = m.admin.Mixes(ctx, m.id)
	must(t, err)
	if got := mixes.Questions[0].Rounds; len(got) != 1 || got[0] != (api.MixRound{Round: 1, Trustee: 1}) {
		t.Fatalf("after a restart, the rounds of %q are %+v", rank, got)
	}
	m.checkLists(rank)
	m.refused(m.forceMix(rank, 1), api.CodeDuplicate, before)

	must(t, m.mix(rank, 3))
	before = m.size()
	m.refused(m.forceMix(rank, 2), api.CodeMixComplete, before)
	must(t, m.mix(text, 2))
	m.refused(m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/publish"), "", nil, nil), api.CodeMixIncomplete, m.size())
	must(t, m.mix(text, 1))
	m.checkLists(rank)
	m.checkLists(text)

	// Shares that are not valid.
	before = m.size()
	share2, err := m.chains[rank].Decrypt(rand.Reader, 2, m.trustees[1].Share())
	must(t, err)
	bad := bytes.Clone(share2)
	copy(bad[36:68], share2[36+128:36+128+32]) // D_1 ← D_2
	m.refused(m.tc[1].PostMixShare(ctx, m.id, rank, bad), api.CodeInvalidShare, before)
	m.refused(m.tc[0].PostMixShare(ctx, m.id, rank, share2), api.CodeWrongTrustee, before)
	m.refused(m.tc[1].PostMixShare(ctx, m.id, rank, append(bytes.Clone(share2), 0)), api.CodeTooLarge, before)
	m.refused(m.tc[1].PostMixShare(ctx, m.id, rank, share2[:len(share2)-1]), api.CodeInvalidShare, before)
	textShare, err := m.chains[text].Decrypt(rand.Reader, 2, m.trustees[1].Share())
	must(t, err)
	m.refused(m.tc[1].PostMixShare(ctx, m.id, rank, textShare[:len(share2)]), api.CodeInvalidShare, before)

	must(t, m.tc[1].PostMixShare(ctx, m.id, rank, share2))
	must(t, m.chains[rank].AddShare(2, share2))
	before = m.size()
	m.refused(m.tc[1].PostMixShare(ctx, m.id, rank, share2), api.CodeDuplicate, before)
	m.refused(m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/publish"), "", nil, nil), api.CodeMixIncomplete, before)
	must(t, m.share(rank, 3))
	must(t, m.share(text, 1))
	m.refused(m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/publish"), "", nil, nil), api.CodeMixIncomplete, m.size())
	must(t, m.share(text, 3))
	must(t, m.share(text, 2))
	mixes, err = m.admin.Mixes(ctx, m.id)
	must(t, err)
	if fmt.Sprint(mixes.Questions[0].Decryptions, mixes.Questions[1].Decryptions) != "[2 3] [1 2 3]" {
		t.Fatalf("decryptions %v %v", mixes.Questions[0].Decryptions, mixes.Questions[1].Decryptions)
	}
	_, err = m.admin.Mixed(ctx, m.id, text)
	wantCode(t, err, api.CodeNoResults)

	var results tally.Results
	must(t, m.admin.Do(ctx, "POST", api.ElectionPath(m.id, "/publish"), "", nil, &results))

	// After the results, nothing more is mixed or decrypted.
	before = m.size()
	m.refused(m.share(rank, 1), api.CodeWrongState, before)
	_, err = m.tc[1].PostMix(ctx, m.id, rank, good)
	m.refused(err, api.CodeWrongState, before)

	// The answers are the voters': the comments, as a multiset; the
	// rankings, all valid.
	var wantComments []string
	empty := 0
	for _, a := range m.counted {
		if c, ok := a["opinion"].(string); ok {
			wantComments = append(wantComments, c)
		} else {
			empty++
		}
	}
	mixedText, err := m.admin.Mixed(ctx, m.id, text)
	must(t, err)
	got := slices.Clone(mixedText.Comments)
	slices.Sort(got)
	slices.Sort(wantComments)
	if !slices.Equal(got, wantComments) || mixedText.Empty != empty || mixedText.Invalid != 0 {
		t.Fatalf("the comments %q (%d empty, %d invalid), want %q (%d empty)", got, mixedText.Empty, mixedText.Invalid, wantComments, empty)
	}
	mixedRank, err := m.admin.Mixed(ctx, m.id, rank)
	must(t, err)
	if mixedRank.Valid != 7 || mixedRank.Invalid != 0 || len(mixedRank.Borda) != 5 {
		t.Fatalf("the rankings: %+v", mixedRank)
	}
	for _, q := range results.Questions {
		switch q.ID {
		case text:
			if q.Answers == nil || *q.Answers != len(wantComments) || q.Empty == nil || *q.Empty != empty || q.Invalid == nil || *q.Invalid != 0 {
				t.Fatalf("results.json's %q: %s", text, mustJSON(q))
			}
		case rank:
			if q.Valid == nil || *q.Valid != 7 || q.Invalid == nil || !slices.Equal(q.Winners, mixedRank.Winners) {
				t.Fatalf("results.json's %q: %s", rank, mustJSON(q))
			}
		}
	}

	// The record holds the mix as the board has it, and the answers.
	checkRecord := func() {
		t.Helper()
		dir := downloadRecord(t, &harness{t: t, url: m.url}, m.id)
		for _, q := range []string{rank, text} {
			c := m.chains[q]
			mf, err := record.ListMix(dir, q)
			must(t, err)
			if len(mf.Rounds) != 2 {
				t.Fatalf("%s: %d round files", q, len(mf.Rounds))
			}
			for r, round := range c.Rounds {
				if mf.Trustees[r] != round.Trustee {
					t.Fatalf("%s: round %d is trustee %d's, the record says %d's", q, r+1, round.Trustee, mf.Trustees[r])
				}
				data, err := os.ReadFile(mf.Rounds[r])
				must(t, err)
				if !bytes.Equal(data, round.Message()) {
					t.Fatalf("%s: round %d's file is not its message", q, r+1)
				}
			}
			js, raw := c.Shares()
			if len(mf.Shares) != len(js) {
				t.Fatalf("%s: %d share files, want %d", q, len(mf.Shares), len(js))
			}
			for _, j := range js {
				data, err := os.ReadFile(mf.Shares[j])
				must(t, err)
				if !bytes.Equal(data, raw[j]) {
					t.Fatalf("%s: trustee %d's share file is not its share", q, j)
				}
			}
			data, err := os.ReadFile(record.MixedFile(dir, q))
			must(t, err)
			var mr tally.MixedResult
			must(t, strictjson.Decode(data, &mr))
			served, err := m.admin.Mixed(ctx, m.id, q)
			must(t, err)
			if mustJSON(mr) != mustJSON(served) {
				t.Fatalf("%s: mixed/%s.json %s, served %s", q, q, data, mustJSON(served))
			}
		}
		rep := verify.Record(dir, verify.Options{})
		if !rep.OK() {
			t.Fatalf("the record does not verify: %+v", rep.Failures())
		}
	}
	checkRecord()
	m.restart()
	checkRecord()
}

// disqualifyingCeremony runs the ceremony with trustees 2 and 3 (t of
// them) complaining against dealer 1, which leaves 1 out of QUAL (SPEC.md
// §6.3).
func disqualifyingCeremony(m *mixElection) []*ceremony.Trustee {
	t, ctx := m.t, context.Background()
	p := ceremony.Params{N: 3, T: 2}
	h0 := ballot.Hash(m.manifest)
	trustees := make([]*ceremony.Trustee, p.N)
	for j := 1; j <= p.N; j++ {
		tr, ann, err := ceremony.NewTrustee(rand.Reader, p, h0[:], j, fmt.Sprintf("trustee %d", j))
		must(t, err)
		trustees[j-1] = tr
		must(t, m.tc[j-1].PostCeremony(ctx, m.id, ceremony.RoundAnnounce, ann))
	}
	transcript := func() *ceremony.Transcript {
		tr, err := m.admin.Transcript(ctx, m.id, p)
		must(t, err)
		return tr
	}
	for i, tr := range trustees {
		d, err := tr.Deal(rand.Reader, h0[:], transcript().Announcements)
		must(t, err)
		must(t, m.tc[i].PostCeremony(ctx, m.id, ceremony.RoundDeal, d))
	}
	for i, tr := range trustees {
		cur := transcript()
		seen := cur.Dealings
		if tr.Index != 1 {
			seen = slices.DeleteFunc(slices.Clone(seen), func(d ceremony.Dealing) bool { return d.From == 1 })
		}
		v, err := tr.Receive(h0[:], cur.Announcements, seen)
		must(t, err)
		must(t, m.tc[i].PostCeremony(ctx, m.id, ceremony.RoundVerdict, v))
	}
	cur := transcript()
	for i, tr := range trustees {
		rs, err := tr.Respond(h0[:], cur.Announcements, cur.Verdicts)
		must(t, err)
		if rs == nil {
			rs = []ceremony.Response{}
		}
		must(t, m.tc[i].PostCeremony(ctx, m.id, ceremony.RoundRespond, rs))
	}
	return trustees
}

// TestMixByNonQualifiedTrustee: a trustee left out of QUAL may neither mix
// nor decrypt a mixed list (SPEC.md §16.6).
func TestMixByNonQualifiedTrustee(t *testing.T) {
	ctx := context.Background()
	m := newMixElection(t, 2, disqualifyingCeremony)
	if fmt.Sprint(m.qual) != "[2 3]" {
		t.Fatalf("QUAL %v, want [2 3]", m.qual)
	}
	m.tally()
	const q = "priorities"
	c := m.chains[q]
	// Trustee 1 has no share of the key; its round is shuffled and proved
	// like any other.
	ctx1 := mixnet.RoundContext(m.el.E.Context, c.Question, 1, 1)
	out, proof, err := shuffle.ShuffleList(rand.Reader, ctx1, m.el.E.Key, c.Input)
	must(t, err)
	before := m.size()
	_, err = m.tc[0].PostMix(ctx, m.id, q, append(slices.Clip(out.Bytes()), proof.Bytes()...))
	m.refused(err, api.CodeNotQualified, before)
	must(t, m.mix(q, 3))
	must(t, m.mix(q, 2))
	x, err := group.RandomScalar(rand.Reader)
	must(t, err)
	share, err := tally.DecryptList(rand.Reader, m.el.E.Context[:], c.Last(), 1, x)
	must(t, err)
	before = m.size()
	m.refused(m.tc[0].PostMixShare(ctx, m.id, q, share), api.CodeNotQualified, before)
	must(t, m.share(q, 2))
}

// TestMixedNotServedBeforeResults: GET mixed answers 404 no-results until
// the results are published, whatever the state.
func TestMixedNotServedBeforeResults(t *testing.T) {
	m := newMixElection(t, 1, nil)
	_, err := m.admin.Mixed(context.Background(), m.id, "opinion")
	wantCode(t, err, api.CodeNoResults)
	resp, err := http.Get(m.url + api.ElectionPath(m.id, "/mixes"))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("GET mixes before the tally: %d", resp.StatusCode)
	}
}

// gateStore holds the first append made through it until gate closes, so
// that a test can interleave two front ends: the front end on this store
// has synced its chain and decided what to append, and another front end
// appends first.
type gateStore struct {
	store.Store
	entered, gate chan struct{}
	once          sync.Once
}

func (g *gateStore) hold() {
	g.once.Do(func() {
		close(g.entered)
		<-g.gate
	})
}

func (g *gateStore) Append(ctx context.Context, election string, entries [][]byte) (int64, error) {
	g.hold()
	return g.Store.Append(ctx, election, entries)
}

func (g *gateStore) AppendAt(ctx context.Context, election string, at int64, entries [][]byte) error {
	g.hold()
	return g.Store.AppendAt(ctx, election, at, entries)
}

// TestMixRaceAcrossFrontEnds has two front ends on one store take round
// 2 of a question from two trustees at once: front end A has checked
// trustee 2's round and synced its chain when front end B appends trustee
// 3's. A must not append a second round 2 (a shuffle of list 1 where the
// board says list 2 is the input: an invalid board, SPEC.md §16.6); it
// finds the chain complete and refuses with mix-complete. The same holds
// for a trustee's decryption share posted to both front ends.
func TestMixRaceAcrossFrontEnds(t *testing.T) {
	ctx := context.Background()
	m := newMixElection(t, 5, nil)
	m.tally()
	const q = "opinion"
	must(t, m.mix(q, 1))

	gateRace := func(g *gateStore, first func() error, second func() error) (error, error) {
		done := make(chan error, 1)
		go func() { done <- first() }()
		<-g.entered
		errB := second()
		close(g.gate)
		return <-done, errB
	}

	// Round 2, from trustees 2 and 3, both shuffling list 1.
	c := m.chains[q]
	msg2, err := c.Mix(rand.Reader, 2, m.trustees[1].Share())
	must(t, err)
	msg3, err := c.Mix(rand.Reader, 3, m.trustees[2].Share())
	must(t, err)
	g := &gateStore{Store: m.st, entered: make(chan struct{}), gate: make(chan struct{})}
	a := m.frontEnd(g)
	errA, errB := gateRace(g,
		func() error { _, err := a[1].PostMix(ctx, m.id, q, msg2); return err },
		func() error { _, err := m.tc[2].PostMix(ctx, m.id, q, msg3); return err })
	must(t, errB)
	wantCode(t, errA, api.CodeMixComplete)
	must(t, c.AddRound(3, msg3))
	m.checkLists(q)

	// Trustee 1's share of the final list, posted to both front ends.
	sh, err := c.Decrypt(rand.Reader, 1, m.trustees[0].Share())
	must(t, err)
	g = &gateStore{Store: m.st, entered: make(chan struct{}), gate: make(chan struct{})}
	a = m.frontEnd(g)
	errA, errB = gateRace(g,
		func() error { return a[0].PostMixShare(ctx, m.id, q, sh) },
		func() error { return m.tc[0].PostMixShare(ctx, m.id, q, sh) })
	must(t, errB)
	wantCode(t, errA, api.CodeDuplicate)
	must(t, c.AddShare(1, sh))

	// A restarted server rebuilds the chains from the board: it holds no
	// second round 2 and no second share.
	m.restart()
	m.checkLists(q)
	before := m.size()
	m.refused(m.share(q, 1), api.CodeDuplicate, before)
	must(t, m.share(q, 2))
}

// frontEnd starts another server on st (the test's store, perhaps
// wrapped) with the test's board key, as a second front end behind a load
// balancer, and returns the trustees' clients of it.
func (m *mixElection) frontEnd(st store.Store) []*client.Client {
	srv, err := server.New(server.Config{Store: st, Origin: "koe.test", BoardKey: m.key, AdminToken: adminToken,
		RegistrarBits: 2048, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(m.t, err)
	ts := httptest.NewServer(srv.Handler())
	m.t.Cleanup(func() { ts.Close(); srv.Close() })
	var out []*client.Client
	for _, tok := range m.created.TrusteeTokens {
		out = append(out, client.New(ts.URL, tok))
	}
	return out
}
