package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func req(peer string, h map[string]string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = peer
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

func TestClients(t *testing.T) {
	c, err := ParseProxies("10.0.0.1, 192.0.2.0/24 ,2001:db8:ff::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		h          map[string]string
		want       string
	}{
		{"no proxy", "198.51.100.7:5555", nil, "198.51.100.7"},
		{"headers of an untrusted peer are ignored", "198.51.100.7:5555", map[string]string{"X-Forwarded-For": "203.0.113.1"}, "198.51.100.7"},
		{"trusted proxy", "10.0.0.1:443", map[string]string{"X-Forwarded-For": "203.0.113.1"}, "203.0.113.1"},
		{"a client's own forged hop is not believed", "10.0.0.1:443", map[string]string{"X-Forwarded-For": "1.2.3.4, 203.0.113.1"}, "203.0.113.1"},
		{"a chain of trusted proxies", "10.0.0.1:443", map[string]string{"X-Forwarded-For": "203.0.113.1, 192.0.2.9"}, "203.0.113.1"},
		{"Forwarded", "10.0.0.1:443", map[string]string{"Forwarded": `for=203.0.113.2;proto=https`}, "203.0.113.2"},
		{"Forwarded IPv6 with port", "10.0.0.1:443", map[string]string{"Forwarded": `for="[2001:db8:1:2::3]:4711"`}, "2001:db8:1:2::/64"},
		{"Forwarded wins over X-Forwarded-For", "10.0.0.1:443", map[string]string{"Forwarded": "for=203.0.113.2", "X-Forwarded-For": "203.0.113.3"}, "203.0.113.2"},
		{"a header that does not parse", "10.0.0.1:443", map[string]string{"X-Forwarded-For": "203.0.113.1, junk"}, "10.0.0.1"},
		{"Forwarded without for", "10.0.0.1:443", map[string]string{"Forwarded": "proto=https"}, "10.0.0.1"},
		{"Forwarded obfuscated node", "10.0.0.1:443", map[string]string{"Forwarded": "for=_hidden"}, "10.0.0.1"},
		{"no header from a trusted proxy", "10.0.0.1:443", nil, "10.0.0.1"},
		{"IPv6 by /64", "[2001:db8:5:6:7::1]:443", nil, "2001:db8:5:6::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:198.51.100.7]:443", nil, "198.51.100.7"},
		{"a trusted IPv6 proxy", "[2001:db8:ff:1::1]:443", map[string]string{"X-Forwarded-For": "203.0.113.4"}, "203.0.113.4"},
		{"every hop trusted", "10.0.0.1:443", map[string]string{"X-Forwarded-For": "192.0.2.1, 192.0.2.2"}, "192.0.2.1"},
	} {
		if got := c.Key(req(tc.peer, tc.h)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/8/2", "fe80::1%eth0"} {
		if _, err := ParseProxies(bad); err == nil || !strings.Contains(err.Error(), "trusted proxy") {
			t.Errorf("ParseProxies(%q): %v", bad, err)
		}
	}
	if m, err := ParseProxies("::ffff:10.1.0.0/112"); err != nil || m.Key(req("10.1.2.3:1", map[string]string{"X-Forwarded-For": "203.0.113.8"})) != "203.0.113.8" {
		t.Errorf("an IPv4-mapped prefix: %v %v", m, err)
	}
	if c, err := ParseProxies(""); err != nil || len(c.Trusted) != 0 {
		t.Errorf("no proxies: %v %v", c, err)
	}
}

// TestLimiterFailures: Blocked counts nothing, Fail counts, and a key's
// failures block only that key.
func TestLimiterFailures(t *testing.T) {
	l := NewLimiter(Clients{}, 1e-9, 3)
	a, b := req("198.51.100.1:1", nil), req("198.51.100.2:1", nil)
	for range 10 {
		if l.Blocked(a) {
			t.Fatal("blocked without a failure")
		}
	}
	l.Fail(a, 2)
	if l.Blocked(a) {
		t.Fatal("blocked after 2 failures of 3")
	}
	l.Fail(a, 1)
	if !l.Blocked(a) || l.Blocked(b) {
		t.Fatalf("after 3 failures: a blocked %v, b blocked %v", l.Blocked(a), l.Blocked(b))
	}
	l.FailKey("v", 99) // more than the burst counts as the burst
	if !l.BlockedKey("v") {
		t.Error("a cost above the burst did not block")
	}
}

func FuzzClients(f *testing.F) {
	f.Add("10.0.0.1,2001:db8::/32", "10.0.0.1:1", "203.0.113.1, 10.0.0.2", `for="[2001:db8::1]:80";proto=https`)
	f.Add("", "[::1]:1", "", "")
	f.Fuzz(func(t *testing.T, proxies, peer, xff, fwd string) {
		c, err := ParseProxies(proxies)
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header["X-Forwarded-For"] = []string{xff}
		if fwd != "" {
			r.Header["Forwarded"] = []string{fwd}
		}
		k := c.Key(r)
		if a := c.Addr(r); a.IsValid() && !c.trusted(peerAddr(r)) && a != peerAddr(r) {
			t.Fatalf("an untrusted peer %s was taken as %s", peer, a)
		}
		if k == "" && peer != "" {
			t.Fatal("no key")
		}
	})
}
