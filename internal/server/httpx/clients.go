package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Clients tells which client a request comes from, for the rate limits
// (SPEC §15.10). Behind a reverse proxy every request comes from the
// proxy's address: the client's is the one the proxy puts in
// X-Forwarded-For or Forwarded, and it is believed only when the peer is a
// trusted proxy. An IPv6 client is known by its /64, the smallest block a
// site is given, so that one host cannot take a fresh limit per address.
type Clients struct {
	// Trusted are the proxies whose forwarding headers are believed.
	Trusted []netip.Prefix
}

// ParseProxies reads a comma-separated list of addresses and CIDR
// prefixes (10.0.0.1, 192.0.2.0/24, 2001:db8::/32).
func ParseProxies(list string) (Clients, error) {
	var c Clients
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				if a.Zone() != "" {
					return Clients{}, fmt.Errorf("trusted proxy %q: an address with a zone", s)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
		}
		if err != nil {
			return Clients{}, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", s)
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return Clients{}, fmt.Errorf("trusted proxy %q: an IPv4-mapped prefix shorter than /96", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		c.Trusted = append(c.Trusted, p.Masked())
	}
	return c, nil
}

func (c Clients) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr is the client's address: the peer's, or, when the peer is a
// trusted proxy, the nearest address in the forwarding headers that is not
// a trusted proxy. Headers that do not parse are ignored (the peer is
// then the client).
func (c Clients) Addr(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !peer.IsValid() || !c.trusted(peer) {
		return peer
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		if !c.trusted(hops[i]) {
			return hops[i]
		}
	}
	if len(hops) > 0 {
		return hops[0]
	}
	return peer
}

// Key is the client's key for a limit: its IPv4 address, or its IPv6
// address's /64.
func (c Clients) Key(r *http.Request) string {
	a := c.Addr(r)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

// forwardedFor lists the client addresses of the Forwarded (RFC 7239)
// headers, or else of X-Forwarded-For, nearest proxy last; nil if any
// entry does not parse (a header that cannot be read is not believed).
func forwardedFor(h http.Header) []netip.Addr {
	var out []netip.Addr
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range strings.Split(line, ",") {
				found := false
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if !ok || !strings.EqualFold(k, "for") {
						continue
					}
					a, ok := forwardedNode(v)
					if !ok {
						return nil
					}
					out, found = append(out, a), true
				}
				if !found {
					return nil
				}
			}
		}
		return out
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, s := range strings.Split(line, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return nil
			}
			out = append(out, a.WithZone("").Unmap())
		}
	}
	return out
}

// forwardedNode reads a Forwarded header's node: 192.0.2.1, "[2001:db8::1]",
// "192.0.2.1:8080", "[2001:db8::1]:8080".
func forwardedNode(v string) (netip.Addr, bool) {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		v = v[1:end]
	} else if host, _, err := net.SplitHostPort(v); err == nil {
		v = host
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
