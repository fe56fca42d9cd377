package web_test

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
	"sync"
	"testing"
	"time"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/store/sqlite"
	"github.com/koe-vote/koe/internal/web"
)

const adminToken = "test-admin-token-web"

// fixture is a koe server with the public site, and elections in several
// states: a survey run to its published results and a referendum in setup.
type fixture struct {
	url        string
	api        http.Handler // the server's API, for another site in front of it
	survey     string       // published
	setup      string       // in setup
	withheld   string       // tallied with fewer ballots than its privacy threshold
	tracking   string       // a cast ballot's tracking code
	superseded string       // a ballot replaced by a re-vote
	ballots    int
	receipt    []byte         // the receipt of tracking, as the ballot box gave it
	booth      *boothElection // open, for the booth's tests
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
	cleanups    []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { theFixture, fixtureErr = newFixture() })
	if fixtureErr != nil {
		t.Fatalf("fixture: %v", fixtureErr)
	}
	return theFixture
}

// clock is the server's clock: the fixture moves it so that ballots are
// cast over several hours.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// startSite starts a koe server with the web site on a new SQLite
// database, as koe serve does, and returns its URL and API handler; the
// clock now is the server's (nil: time.Now).
func startSite(token string, now func() time.Time) (string, http.Handler, error) {
	dir, err := os.MkdirTemp("", "koe-web-test-")
	if err != nil {
		return "", nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	st, err := sqlite.Open(filepath.Join(dir, "koe.db"))
	if err != nil {
		return "", nil, err
	}
	cleanups = append(cleanups, func() { st.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := server.New(server.Config{
		Store: st, Origin: "koe.test", BoardKey: key, AdminToken: token,
		RegistrarBits: 2048, RegisterRate: 1000, RegisterBurst: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
		OIDCReturn: func(id string) string { return "/elections/" + id + "/vote" },
	})
	if err != nil {
		return "", nil, err
	}
	api := srv.Handler()
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", web.New(api, web.Options{AdminToken: token, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}))
	ts := httptest.NewServer(mux)
	cleanups = append(cleanups, func() { ts.Close(); srv.Close() })
	return ts.URL, api, nil
}

func newFixture() (*fixture, error) {
	ctx := context.Background()
	jst := time.FixedZone("JST", 9*60*60)
	clk := &clock{now: time.Date(2026, 11, 23, 8, 30, 0, 0, jst)}
	base, apiHandler, err := startSite(adminToken, clk.Now)
	if err != nil {
		return nil, err
	}

	f := &fixture{url: base, api: apiHandler}
	admin := client.New(base, adminToken)

	// A referendum that stays in setup.
	ref, _ := examples.Manifest("referendum")
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", ref, &created); err != nil {
		return nil, err
	}
	f.setup = created.ID

	// A referendum of two ballots, fewer than its privacy threshold (the
	// default, 10): tallied, its results withheld.
	if f.withheld, err = withheldElection(ctx, base, admin); err != nil {
		return nil, err
	}

	// The citizen survey, run to its results.
	manifest, _ := examples.Manifest("survey")
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		return nil, err
	}
	id := created.ID
	f.survey = id
	trustees, err := demo.ServerCeremony(ctx, base, id, manifest, created.TrusteeTokens)
	if err != nil {
		return nil, err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "W", 40)
	if err != nil {
		return nil, err
	}
	clk.Set(time.Date(2026, 11, 23, 9, 0, 0, 0, jst))
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return nil, err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return nil, err
	}
	ages := []string{"20s", "30s", "40s", "40s", "50s", "60s", "70plus", "no-answer"}
	fields := [][]string{{"health"}, {"disaster", "transport"}, {"education", "digital", "childcare"}, {"health", "environment"}}
	votes := []string{"for", "rather-for", "for", "rather-against", "against", "dont-know", "rather-for"}
	const n = 24
	start := time.Date(2026, 11, 23, 9, 5, 0, 0, jst)
	for i := range n {
		// Busier in the morning and at lunch.
		clk.Set(start.Add(time.Duration(i*i) * 90 * time.Second / 4))
		vid := fmt.Sprintf("W%05d", i)
		cred, err := voter.Register(ctx, el, vid, codes[vid])
		if err != nil {
			return nil, err
		}
		pt, err := el.E.Manifest.Plaintext(ballot.Answers{
			"age": ages[i%len(ages)], "fields": toAny(fields[i%len(fields)]),
			"science-city": float64(1 + (i*7)%5), "internet-voting": votes[i%len(votes)],
		})
		if err != nil {
			return nil, err
		}
		env, b, nonces, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			return nil, err
		}
		if i == 3 {
			// A Benaloh challenge first: this ballot is opened, not cast.
			if err := voter.Spoil(ctx, id, ballot.Spoil(b, pt, nonces)); err != nil {
				return nil, err
			}
			if env, _, _, err = client.Seal(el, cred, pt, 1); err != nil {
				return nil, err
			}
		}
		r, err := voter.Cast(ctx, id, env)
		if err != nil {
			return nil, err
		}
		if i == 5 {
			f.superseded = r.TrackingCode
			// A re-vote: this one counts.
			env2, _, _, err := client.Seal(el, cred, pt, 2)
			if err != nil {
				return nil, err
			}
			if r, err = voter.Cast(ctx, id, env2); err != nil {
				return nil, err
			}
		}
		if i == 7 {
			f.tracking = r.TrackingCode
			if f.receipt, err = json.Marshal(r); err != nil {
				return nil, err
			}
		}
	}
	f.ballots = n
	clk.Set(time.Date(2026, 11, 23, 18, 0, 0, 0, jst))
	if err := publish(ctx, base, id, manifest, trustees, created.TrusteeTokens); err != nil {
		return nil, err
	}

	// Another copy of the survey, open, for the booth: its voters register
	// and vote in the browser tests.
	boothManifest := bytes.Replace(manifest, []byte(`"id": "kagaku-shishin-2026"`), []byte(`"id": "kagaku-booth"`), 1)
	// Its browser tests cast two ballots, and decrypt them.
	boothManifest = bytes.Replace(boothManifest, []byte(`"questions":`), []byte(`"privacyThreshold": 1, "questions":`), 1)
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", boothManifest, &created); err != nil {
		return nil, err
	}
	f.booth = &boothElection{id: created.ID, manifest: boothManifest, tokens: created.TrusteeTokens}
	if f.booth.trustees, err = demo.ServerCeremony(ctx, base, created.ID, boothManifest, created.TrusteeTokens); err != nil {
		return nil, err
	}
	if f.booth.codes, err = demo.ImportRoll(ctx, admin, created.ID, "B", 10); err != nil {
		return nil, err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(created.ID, "/open"), "", nil, nil); err != nil {
		return nil, err
	}
	return f, nil
}

// boothElection is an open election of the fixture.
type boothElection struct {
	id       string
	manifest []byte
	codes    map[string]string // voter id → one-time code
	trustees []*ceremony.Trustee
	tokens   []string
}

// withheldElection runs a referendum of two ballots to its tally; its
// privacy threshold is the default, so its results are withheld.
func withheldElection(ctx context.Context, base string, admin *client.Client) (string, error) {
	ref, _ := examples.Manifest("referendum")
	ref = bytes.Replace(ref, []byte(`"id": "shin-chosha-2026"`), []byte(`"id": "withheld-2026"`), 1)
	var created api.Created
	if err := admin.Do(ctx, "POST", "/api/v1/elections", "application/json", ref, &created); err != nil {
		return "", err
	}
	id := created.ID
	if _, err := demo.ServerCeremony(ctx, base, id, ref, created.TrusteeTokens); err != nil {
		return "", err
	}
	codes, err := demo.ImportRoll(ctx, admin, id, "H", 2)
	if err != nil {
		return "", err
	}
	if err := admin.Do(ctx, "POST", api.ElectionPath(id, "/open"), "", nil, nil); err != nil {
		return "", err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return "", err
	}
	for vid, code := range codes {
		cred, err := voter.Register(ctx, el, vid, code)
		if err != nil {
			return "", err
		}
		pt, err := el.E.Manifest.Plaintext(ballot.Answers{"plan": "yes"})
		if err != nil {
			return "", err
		}
		env, _, _, err := client.Seal(el, cred, pt, 1)
		if err != nil {
			return "", err
		}
		if _, err := voter.Cast(ctx, id, env); err != nil {
			return "", err
		}
	}
	for _, step := range []string{"/close", "/tally"} {
		if err := admin.Do(ctx, "POST", api.ElectionPath(id, step), "", nil, nil); err != nil {
			return "", err
		}
	}
	return id, nil
}

// publish closes and tallies an election, has trustees 1, 2 and 4
// decrypt the tally and publishes the results.
func publish(ctx context.Context, base, id string, manifest []byte, trustees []*ceremony.Trustee, tokens []string) error {
	admin := client.New(base, adminToken)
	for _, step := range []string{"/close", "/tally"} {
		if err := admin.Do(ctx, "POST", api.ElectionPath(id, step), "", nil, nil); err != nil {
			return err
		}
	}
	if err := demo.ServerDecrypt(ctx, base, id, manifest, trustees, tokens, []int{1, 2, 4}); err != nil {
		return err
	}
	return admin.Do(ctx, "POST", api.ElectionPath(id, "/publish"), "", nil, nil)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
