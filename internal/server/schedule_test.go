package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
)

// TestSchedule: an election with opens and closes times is not listed
// publicly while in setup, opens by itself at opens (once its ceremony is
// complete), refuses ballots from closes on even before the schedule has
// closed it, then closes by itself; an election whose close time has
// passed is not opened, by the schedule or the administrator.
func TestSchedule(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	srv, err := server.New(server.Config{
		Store: sqliteStore(t), Origin: "koe.test", BoardKey: key, AdminToken: adminToken, RegistrarBits: 2048,
		RegisterRate: 1000, RegisterBurst: 1000, CastRate: 1000, CastBurst: 1000, SpoilRate: 1000, SpoilBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Now: clock, ScheduleInterval: -1,
	})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	admin := client.New(ts.URL, adminToken)

	survey, _ := examples.Manifest("survey")
	dated := func(id, opens, closes string) []byte {
		m := bytes.Replace(survey, []byte(`"id": "kagaku-shishin-2026"`), []byte(`"id": "`+id+`", "opens": "`+opens+`", "closes": "`+closes+`"`), 1)
		if bytes.Equal(m, survey) {
			t.Fatal("the survey's id is not where the test expects it")
		}
		return m
	}
	var created api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", dated("scheduled", "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z"), &created))
	state := func(id string) string {
		t.Helper()
		var in api.ElectionInfo
		must(t, admin.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in))
		return in.State
	}
	listed := func(c *client.Client, id string) bool {
		t.Helper()
		var list []api.ElectionInfo
		must(t, c.Do(ctx, "GET", "/api/v1/elections", "", nil, &list))
		for _, in := range list {
			if in.ID == id {
				return true
			}
		}
		return false
	}
	public := client.New(ts.URL, "")
	if listed(public, created.ID) || !listed(admin, created.ID) {
		t.Error("an election in setup is listed publicly, or not to the administrator")
	}

	// Before opens, and before the ceremony: nothing moves.
	server.RunSchedule(srv)
	if s := state(created.ID); s != api.StateSetup {
		t.Fatalf("before its opening time the election is %s", s)
	}
	// At opens, with the ceremony still to do, it waits for the ceremony.
	now.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	server.RunSchedule(srv)
	if s := state(created.ID); s != api.StateSetup {
		t.Fatalf("an election without its key opened: %s", s)
	}
	_, err = demo.ServerCeremony(ctx, ts.URL, created.ID, dated("scheduled", "2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z"), created.TrusteeTokens)
	must(t, err)
	codes, err := demo.ImportRoll(ctx, admin, created.ID, "S", 2)
	must(t, err)
	server.RunSchedule(srv)
	if s := state(created.ID); s != api.StateOpen {
		t.Fatalf("at its opening time, with its ceremony done, the election is %s", s)
	}
	if !listed(public, created.ID) {
		t.Error("an open election is not listed publicly")
	}

	// A ballot just before closes is accepted; one at closes is refused
	// though the schedule has not run.
	voter := client.New(ts.URL, "")
	el, err := voter.Election(ctx, created.ID)
	must(t, err)
	cast := func(who string) error {
		cred, err := voter.Register(ctx, el, who, codes[who])
		must(t, err)
		pt, err := el.E.Manifest.Plaintext(ballot.Answers{"age": "30s", "fields": []any{"health"}, "science-city": 3, "internet-voting": "for"})
		must(t, err)
		env, _, _, err := client.Seal(el, cred, pt, 1)
		must(t, err)
		_, err = voter.Cast(ctx, created.ID, env)
		return err
	}
	now.Store(time.Date(2026, 12, 1, 11, 59, 59, 0, time.UTC).UnixNano())
	must(t, cast("S00000"))
	now.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	wantCode(t, cast("S00001"), api.CodeClosed)
	server.RunSchedule(srv)
	if s := state(created.ID); s != api.StateClosed {
		t.Fatalf("at its closing time the election is %s", s)
	}

	// An election whose close time has passed opens neither by itself nor
	// by the administrator.
	var late api.Created
	must(t, admin.Do(ctx, "POST", "/api/v1/elections", "application/json", dated("late", "2026-12-01T08:00:00Z", "2026-12-01T11:00:00Z"), &late))
	_, err = demo.ServerCeremony(ctx, ts.URL, late.ID, dated("late", "2026-12-01T08:00:00Z", "2026-12-01T11:00:00Z"), late.TrusteeTokens)
	must(t, err)
	server.RunSchedule(srv)
	if s := state(late.ID); s != api.StateSetup {
		t.Errorf("an election past its close time was opened by the schedule: %s", s)
	}
	wantCode(t, admin.Do(ctx, "POST", api.ElectionPath(late.ID, "/open"), "", nil, nil), api.CodeClosesPassed)
}
