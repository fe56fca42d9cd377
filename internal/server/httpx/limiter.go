package httpx

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits requests per key with a token bucket per key: per client
// address for registrations and spoiled ballots, per credential key for
// casts. Keys live only in this map, in memory, and are forgotten after
// ten idle minutes; they are never logged or stored, and no limiter is
// keyed by two kinds of key, so none joins an address to a credential.
type Limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiter returns a limiter of perSecond requests per key, with burst.
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// ClientAddr is the request's client address, without its port.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Allow reports whether the request's client may make another request now.
func (l *Limiter) Allow(r *http.Request) bool {
	return l.AllowKey(ClientAddr(r))
}

// AllowKey reports whether key may make another request now.
func (l *Limiter) AllowKey(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for a, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, a)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}
