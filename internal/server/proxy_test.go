package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
	"github.com/koe-vote/koe/internal/server"
	"github.com/koe-vote/koe/internal/server/httpx"
)

// forwarded is an http.RoundTripper that makes every request look as a
// reverse proxy at 127.0.0.1 forwards it, for client addr.
type forwarded struct{ addr string }

func (f forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// proxied starts a server behind a (simulated) reverse proxy at
// 127.0.0.1, trusted or not, with a tight registration limit, and an open
// election with a roll of 5.
func proxied(t *testing.T, trusted bool) (url, id string, codes map[string]string) {
	t.Helper()
	var clients httpx.Clients
	if trusted {
		var err error
		clients, err = httpx.ParseProxies("127.0.0.1, ::1")
		must(t, err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	srv, err := server.New(server.Config{Store: sqliteStore(t), Origin: "koe.test", BoardKey: key, AdminToken: adminToken,
		RegistrarBits: 2048, RegisterRate: 1.0 / 3600, RegisterBurst: 3, Clients: clients,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	h := &oidcHarness{harness: &harness{t: t, url: ts.URL, admin: client.New(ts.URL, adminToken)}}
	id = "proxied"
	h.createElection(t, id)
	codes, err = demo.ImportRoll(context.Background(), h.admin, id, "V", 5)
	must(t, err)
	must(t, h.admin.Do(context.Background(), "POST", api.ElectionPath(id, "/open"), "", nil, nil))
	return ts.URL, id, codes
}

func junk(t *testing.T, url, id, from string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url+api.ElectionPath(id, "/register"), bytes.NewReader([]byte(`{}`)))
	req.Header.Set("X-Forwarded-For", from)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func voterFrom(url, addr string) *client.Client {
	c := client.New(url, "")
	c.HTTP = &http.Client{Transport: forwarded{addr}}
	return c
}

// TestRegistrationBehindProxy reproduces H-1 of the abuse test: behind a
// reverse proxy every request has the proxy's address, so junk from one
// attacker used up the registration limit of every voter. With the proxy
// trusted, the attacker's failures count against the attacker's own
// address only, and a voter elsewhere registers.
func TestRegistrationBehindProxy(t *testing.T) {
	ctx := context.Background()
	t.Run("untrusted", func(t *testing.T) {
		// What H-1 found: the forwarding header is not believed, so the
		// attacker's junk and the voter share the proxy's one limit.
		url, id, codes := proxied(t, false)
		for range 5 {
			junk(t, url, id, "203.0.113.9")
		}
		v := voterFrom(url, "198.51.100.4")
		el, err := v.Election(ctx, id)
		must(t, err)
		_, err = v.Register(ctx, el, "V00000", codes["V00000"])
		wantCode(t, err, api.CodeRateLimited)
	})
	t.Run("trusted", func(t *testing.T) {
		url, id, codes := proxied(t, true)
		var statuses []int
		for range 6 {
			statuses = append(statuses, junk(t, url, id, "203.0.113.9"))
		}
		if statuses[0] != 400 || statuses[5] != http.StatusTooManyRequests {
			t.Errorf("the attacker's junk was answered %v: want 400s, then 429 once its failures are used up", statuses)
		}
		// A voter at another address, through the same proxy, registers.
		v := voterFrom(url, "198.51.100.4")
		el, err := v.Election(ctx, id)
		must(t, err)
		if _, err := v.Register(ctx, el, "V00000", codes["V00000"]); err != nil {
			t.Fatalf("a voter behind the proxy: %v", err)
		}
		// Another IPv6 address of the attacker's /64 is the same client;
		// another /64 is not.
		for range 3 {
			junk(t, url, id, "2001:db8:1:2::1")
		}
		if got := junk(t, url, id, "2001:db8:1:2::ffff"); got != http.StatusTooManyRequests {
			t.Errorf("another address of the same /64: %d, want 429", got)
		}
		if got := junk(t, url, id, "2001:db8:1:3::1"); got != 400 {
			t.Errorf("another /64: %d, want 400", got)
		}
		// Successful registrations are not counted: voters sharing one
		// address (a city hall's network) all register.
		hall := voterFrom(url, "192.0.2.50")
		for _, vid := range []string{"V00001", "V00002", "V00003", "V00004"} {
			if _, err := hall.Register(ctx, el, vid, codes[vid]); err != nil {
				t.Fatalf("voter %s from a shared address: %v", vid, err)
			}
		}
	})
}

// TestWrongCodesPerVoter: wrong codes for one voter id, from many
// addresses, cost each address ten times as much once the voter id has
// had five; the voter's own right code is still accepted.
func TestWrongCodesPerVoter(t *testing.T) {
	ctx := context.Background()
	url, id, codes := proxied(t, true)
	for i := range 5 {
		v := voterFrom(url, "203.0.113."+string(rune('1'+i)))
		el, err := v.Election(ctx, id)
		must(t, err)
		_, err = v.Register(ctx, el, "V00000", "AAAA-AAAA-AAAA-AAAA")
		wantCode(t, err, api.CodeNotEligible)
	}
	// The sixth wrong code for V00000 uses up its address's whole limit
	// (3) at once; a wrong code for another voter costs one.
	v := voterFrom(url, "203.0.113.70")
	el, err := v.Election(ctx, id)
	must(t, err)
	_, err = v.Register(ctx, el, "V00000", "AAAA-AAAA-AAAA-AAAB")
	wantCode(t, err, api.CodeNotEligible)
	_, err = v.Register(ctx, el, "V00001", "AAAA-AAAA-AAAA-AAAB")
	wantCode(t, err, api.CodeRateLimited)
	w := voterFrom(url, "203.0.113.71")
	_, err = w.Register(ctx, el, "V00001", "AAAA-AAAA-AAAA-AAAB")
	wantCode(t, err, api.CodeNotEligible)
	_, err = w.Register(ctx, el, "V00001", "AAAA-AAAA-AAAA-AAAC")
	wantCode(t, err, api.CodeNotEligible)
	// The voter, from home, with the letter.
	home := voterFrom(url, "198.51.100.4")
	if _, err := home.Register(ctx, el, "V00000", codes["V00000"]); err != nil {
		t.Fatalf("the voter's own code after wrong guesses: %v", err)
	}
}
