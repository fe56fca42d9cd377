package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/verify"
)

// TestDrafts: a draft's manifest is replaced by a superseding manifest
// entry until the key ceremony begins, and a draft is deleted with its id
// retired; every refusal has its code, on both store drivers. An election
// run under an edited manifest verifies.
func TestDrafts(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{{"sqlite", sqliteStore}, {"postgres", postgresStore}} {
		t.Run(b.name, func(t *testing.T) { runDrafts(t, start(t, b.open(t))) })
	}
}

func runDrafts(t *testing.T, h *harness) {
	ctx := context.Background()
	survey, _ := examples.Manifest("survey") // id kagaku-shishin-2026, 5 trustees
	withID := func(id string) []byte {
		m := bytes.Replace(survey, []byte(`"id": "kagaku-shishin-2026"`), []byte(`"id": "`+id+`"`), 1)
		if bytes.Equal(m, survey) && id != "kagaku-shishin-2026" {
			t.Fatal("the survey's id is not where the test expects it")
		}
		return m
	}
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", withID("shian-2027"), &created))
	id := created.ID
	size := func() int64 {
		t.Helper()
		cp, err := client.New(h.url, "").Raw(ctx, "GET", api.ElectionPath(id, "/log/checkpoint"), "", nil)
		must(t, err)
		lines := strings.Split(string(cp), "\n")
		n, err := strconv.ParseInt(lines[1], 10, 64)
		must(t, err)
		return n
	}
	before := size()
	put := func(c *client.Client, id string, m []byte) error {
		return c.Do(ctx, "PUT", api.ElectionPath(id, "/manifest"), "application/json", m, nil)
	}
	edited := bytes.Replace(withID(id), []byte("市民意見アンケート"), []byte("市民意見アンケート（改訂）"), 1)
	if bytes.Equal(edited, withID(id)) {
		t.Fatal("the survey has no title to edit")
	}

	// Refusals while the draft may be edited.
	wantCode(t, put(client.New(h.url, ""), id, edited), api.CodeUnauthorized)
	wantCode(t, put(h.admin, "nope", withID("nope")), api.CodeNoElection)
	wantCode(t, put(h.admin, id, []byte(`{"id":`)), api.CodeInvalidManifest)
	wantCode(t, put(h.admin, id, withID("other-id")), api.CodeInvalidManifest)
	fewer := bytes.Replace(edited, []byte(`"trustees": 5`), []byte(`"trustees": 4`), 1)
	if bytes.Equal(fewer, edited) {
		t.Fatal("the survey's trustees are not where the test expects them")
	}
	wantCode(t, put(h.admin, id, fewer), api.CodeInvalidManifest)
	if n := size(); n != before {
		t.Fatalf("refused edits changed the board: %d entries, was %d", n, before)
	}

	// The edit: a superseding manifest entry, the manifest served as edited.
	must(t, put(h.admin, id, edited))
	if n := size(); n != before+1 {
		t.Fatalf("after an edit the board has %d entries, want %d", n, before+1)
	}
	got, err := demo.ServerManifest(ctx, h.url, id, edited)
	must(t, err)
	if !bytes.Contains(got, []byte("（改訂）")) {
		t.Fatal("the served manifest is not the edited one")
	}
	must(t, put(h.admin, id, edited)) // the same again: nothing appended
	if n := size(); n != before+1 {
		t.Fatalf("an edit to the same manifest appended an entry: %d", n)
	}

	// Once a trustee has posted a ceremony message, the manifest is fixed.
	_, err = demo.ServerCeremony(ctx, h.url, id, got, created.TrusteeTokens)
	must(t, err)
	wantCode(t, put(h.admin, id, got), api.CodeManifestFixed)

	// Open, then the draft is no longer one: neither edited nor deleted.
	_, err = demo.ImportRoll(ctx, h.admin, id, "D", 2)
	must(t, err)
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	wantCode(t, put(h.admin, id, got), api.CodeWrongState)
	wantCode(t, h.admin.Do(ctx, "DELETE", api.ElectionPath(id, ""), "", nil, nil), api.CodeWrongState)
	rep := verify.Record(downloadRecord(t, h, id), verify.Options{})
	if !rep.OK() || !rep.InProgress {
		t.Fatalf("the record of an election with an edited manifest: ok %v, in progress %v: %+v", rep.OK(), rep.InProgress, rep.Failures())
	}

	// A draft deleted: gone from the API and the list, its id retired.
	var other api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", withID("sakujo-2027"), &other))
	first := client.New(h.url, other.TrusteeTokens[0])
	otherManifest, err := demo.ServerManifest(ctx, h.url, other.ID, withID("sakujo-2027"))
	must(t, err)
	hm := ballot.Hash(otherManifest)
	_, ann, err := ceremony.NewTrustee(rand.Reader, ceremony.Params{N: 5, T: 3}, hm[:], 1, "受託者 1")
	must(t, err)
	must(t, first.PostCeremony(ctx, other.ID, ceremony.RoundAnnounce, ann)) // a draft whose ceremony began may still be deleted
	wantCode(t, client.New(h.url, "").Do(ctx, "DELETE", api.ElectionPath(other.ID, ""), "", nil, nil), api.CodeUnauthorized)
	wantCode(t, h.admin.Do(ctx, "DELETE", api.ElectionPath("nope", ""), "", nil, nil), api.CodeNoElection)
	must(t, h.admin.Do(ctx, "DELETE", api.ElectionPath(other.ID, ""), "", nil, nil))
	wantCode(t, h.admin.Do(ctx, "GET", api.ElectionPath(other.ID, ""), "", nil, nil), api.CodeNoElection)
	wantCode(t, h.admin.Do(ctx, "DELETE", api.ElectionPath(other.ID, ""), "", nil, nil), api.CodeNoElection)
	var list []api.ElectionInfo
	must(t, h.admin.Do(ctx, "GET", "/api/v1/elections", "", nil, &list))
	for _, in := range list {
		if in.ID == other.ID {
			t.Fatal("a deleted draft is listed to the administrator")
		}
	}
	wantCode(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", withID("sakujo-2027"), nil), api.CodeDeletedID)
	wantCode(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", withID(id), nil), api.CodeExists)
}

// TestStaleAnnouncement: a trustee who read the draft's manifest just
// before the administrator edited it makes an announcement bound to the
// superseded manifest. Posted, it would fix the manifest (no more edits)
// while the ceremony could never verify under the current one: the
// election would never open and could only be deleted. The server refuses
// it (409 stale-manifest) and the trustee, announcing again under the
// current manifest, completes a ceremony that opens.
func TestStaleAnnouncement(t *testing.T) {
	h := start(t, sqliteStore(t))
	ctx := context.Background()
	survey, _ := examples.Manifest("survey") // 5 trustees, threshold 3
	var created api.Created
	must(t, h.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", survey, &created))
	id := created.ID
	old, err := demo.ServerManifest(ctx, h.url, id, survey)
	must(t, err)
	oldHash := ballot.Hash(old) // what the trustee read

	edited := bytes.Replace(survey, []byte("市民意見アンケート"), []byte("市民意見アンケート（改訂）"), 1)
	must(t, h.admin.Do(ctx, "PUT", api.ElectionPath(id, "/manifest"), "application/json", edited, nil))

	p := ceremony.Params{N: 5, T: 3}
	_, stale, err := ceremony.NewTrustee(rand.Reader, p, oldHash[:], 1, "受託者 1")
	must(t, err)
	first := client.New(h.url, created.TrusteeTokens[0])
	err = first.PostCeremony(ctx, id, ceremony.RoundAnnounce, stale)
	wantCode(t, err, api.CodeStaleManifest)
	if !strings.Contains(err.Error(), "superseded manifest") {
		t.Errorf("the refusal does not name its reason: %v", err)
	}

	// An announcement bound to no manifest of the election at all is a bad
	// message, not a stale one.
	var zero [32]byte
	_, bogus, err := ceremony.NewTrustee(rand.Reader, p, zero[:], 1, "受託者 1")
	must(t, err)
	wantCode(t, first.PostCeremony(ctx, id, ceremony.RoundAnnounce, bogus), api.CodeInvalidMessage)

	// Nothing was posted: the draft may still be edited, and a ceremony
	// under the current manifest opens the election.
	edited2 := bytes.Replace(edited, []byte("（改訂）"), []byte("（第二版）"), 1)
	must(t, h.admin.Do(ctx, "PUT", api.ElectionPath(id, "/manifest"), "application/json", edited2, nil))
	cur, err := demo.ServerManifest(ctx, h.url, id, edited2)
	must(t, err)
	_, err = demo.ServerCeremony(ctx, h.url, id, cur, created.TrusteeTokens)
	must(t, err)
	_, err = demo.ImportRoll(ctx, h.admin, id, "S", 2)
	must(t, err)
	must(t, h.admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil))
}
