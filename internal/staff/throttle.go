package staff

import (
	"sync"
	"time"
)

// Throttle slows down failed sign-ins without locking anyone out: after
// Free failures under one key (an account, a client address), each further
// attempt under it must wait twice as long as the one before since the last
// failure, from one second up to Max, and a success clears the key. An
// attacker who keeps failing can only keep the wait at Max: the right
// password is still accepted once it has passed. It is kept in memory.
type Throttle struct {
	Free int           // failures allowed without waiting
	Max  time.Duration // the longest wait

	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// maxKeys bounds the keys kept; past it, those idle for an hour go.
const maxKeys = 10000

func (t *Throttle) delay(n int) time.Duration {
	if n < t.Free {
		return 0
	}
	k := n - t.Free
	if k > 30 {
		return t.Max
	}
	return min(time.Second<<k, t.Max)
}

// Wait returns how long an attempt under key must still wait (0: none).
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[key]
	if f == nil {
		return 0
	}
	return max(0, f.last.Add(t.delay(f.n)).Sub(now))
}

// Fail counts a failed attempt under key.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*failures{}
	}
	if len(t.m) >= maxKeys {
		for k, f := range t.m {
			if now.Sub(f.last) > time.Hour {
				delete(t.m, k)
			}
		}
	}
	f := t.m[key]
	if f == nil || now.Sub(f.last) > time.Hour {
		f = &failures{}
		t.m[key] = f
	}
	f.n++
	f.last = now
}

// Succeed clears key after a successful sign-in.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}
