package httpx

import (
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
	clients Clients // how a request's client is known (Allow, Blocked, Fail)

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

// NewLimiter returns a limiter of perSecond requests per key, with burst,
// which knows a request's client as clients says.
func NewLimiter(clients Clients, perSecond float64, burst int) *Limiter {
	return &Limiter{clients: clients, rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// Allow reports whether the request's client may make another request
// now, and counts this one.
func (l *Limiter) Allow(r *http.Request) bool {
	return l.AllowKey(l.clients.Key(r))
}

// Blocked reports whether the request's client has used up its allowance,
// counting nothing: a limit of failures checks Blocked first and calls
// Fail once the request has failed, so that requests that succeed are
// never limited (SPEC §15.10).
func (l *Limiter) Blocked(r *http.Request) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[l.clients.Key(r)]
	return ok && b.l.TokensAt(now) < 1
}

// Fail counts n failures of the request's client.
func (l *Limiter) Fail(r *http.Request, n int) {
	l.FailKey(l.clients.Key(r), n)
}

// FailKey counts n failures of key.
func (l *Limiter) FailKey(key string, n int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	b.l.ReserveN(now, min(n, l.burst))
}

// BlockedKey reports whether key has used up its allowance, counting
// nothing.
func (l *Limiter) BlockedKey(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	return ok && b.l.TokensAt(now) < 1
}

// AllowKey reports whether key may make another request now.
func (l *Limiter) AllowKey(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(key, now).l.AllowN(now, 1)
}

// bucket is key's bucket, made if missing; l.mu is held.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
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
	return b
}
