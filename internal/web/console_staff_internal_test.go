package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/staff"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/store/sqlite"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestConsoleSignInThrottle: failed sign-ins slow the account and the
// client down, but never lock the right password out; a browser that
// signed in to the account before is not slowed by others' failures.
func TestConsoleSignInThrottle(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "koe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const password = "筑波山の紅葉は十一月が見頃"
	if err := st.CreateAccount(t.Context(), store.Account{Name: "suzuki.hanako", Role: store.RoleAdmin,
		Password: staff.HashPassword(password), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	noAPI := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	site := New(noAPI, Options{AdminToken: "throttle-test-token", Staff: st, now: clk.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	try := func(addr, pw string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest("POST", "/admin/signin", strings.NewReader(url.Values{"name": {"suzuki.hanako"}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		for _, c := range cookies {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		site.ServeHTTP(w, req)
		return w
	}
	device := func(w *httptest.ResponseRecorder) *http.Cookie {
		for _, c := range w.Result().Cookies() {
			if c.Name == deviceCookie {
				return c
			}
		}
		return nil
	}

	// The owner signs in once from the city hall's PC: it is a known device.
	w := try("192.0.2.10:5000", password)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d\n%s", w.Code, w.Body)
	}
	known := device(w)
	if known == nil || !known.HttpOnly || known.SameSite != http.SameSiteStrictMode || known.Path != "/admin/signin" {
		t.Fatalf("device cookie %+v", known)
	}

	// Someone else guesses. Five failures are free; then each attempt waits.
	for i := range 5 {
		if w := try("198.51.100.7:1234", "guess-number-"+string(rune('a'+i))); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := try("198.51.100.7:1234", password); w.Code != http.StatusTooManyRequests {
		t.Errorf("the attacker's address right after 5 failures: %d, want 429", w.Code)
	}
	// The account is slowed for a browser it never used, from any address…
	if w := try("203.0.113.5:80", password); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "秒") {
		t.Errorf("a new browser right after 5 failures on the account: %d, want 429 in seconds", w.Code)
	}
	// …but not locked out: after the wait, the right password works.
	clk.add(time.Second)
	if w := try("203.0.113.5:80", password); w.Code != http.StatusSeeOther {
		t.Errorf("a new browser after the wait: %d, want 303", w.Code)
	}

	// A long attack keeps the wait at a minute at most.
	for range 40 {
		clk.add(time.Minute)
		if w := try("198.51.100.7:1234", "still-guessing"); w.Code != http.StatusUnauthorized {
			t.Fatalf("a guess after waiting a minute: %d, want 401 (slowed, never locked)", w.Code)
		}
	}
	if w := try("203.0.113.5:80", password); w.Code != http.StatusTooManyRequests {
		t.Errorf("an unknown browser during the attack: %d, want 429", w.Code)
	}
	clk.add(time.Minute)
	if w := try("203.0.113.5:80", password); w.Code != http.StatusSeeOther {
		t.Errorf("an unknown browser a minute after the last guess: %d, want 303", w.Code)
	}
	// The owner's known browser is not slowed by the attack at all, even
	// behind the same proxy address as the attacker.
	for range 3 {
		try("198.51.100.7:1234", "another-guess")
	}
	if w := try("192.0.2.10:5000", password, known); w.Code != http.StatusSeeOther {
		t.Errorf("the known browser during the attack: %d, want 303", w.Code)
	}
	forged := &http.Cookie{Name: deviceCookie, Value: "suzuki.hanako." + strings.Repeat("A", 43)}
	if w := try("203.0.113.9:80", password, forged); w.Code != http.StatusTooManyRequests {
		t.Errorf("a forged device cookie during the attack: %d, want 429", w.Code)
	}

	// A failed sign-in says so without saying whether the account exists.
	clk.add(time.Hour)
	req := httptest.NewRequest("POST", "/admin/signin", strings.NewReader(url.Values{"name": {"sato.nobody"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, req)
	wrong := try("192.0.2.99:1", "not-the-password")
	if rec.Code != http.StatusUnauthorized || wrong.Code != http.StatusUnauthorized {
		t.Errorf("unknown account: %d, wrong password: %d; want 401 both", rec.Code, wrong.Code)
	}
	if a, b := msgOf(rec.Body.String()), msgOf(wrong.Body.String()); a != b || a == "" {
		t.Errorf("unknown account says %q, wrong password %q", a, b)
	}

	// A sign-in form is small: a large one is refused before it is read.
	big := httptest.NewRequest("POST", "/admin/signin", strings.NewReader("name=x&password="+strings.Repeat("a", 1<<20)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	site.ServeHTTP(rec, big)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a 1 MiB sign-in form: %d, want 400", rec.Code)
	}

	// No password, and no name nobody has, reached the audit log.
	es, err := st.Audit(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		t.Fatal("no sign-in in the audit log")
	}
	for _, e := range es {
		line := e.Actor + " " + e.Action + " " + e.Detail + " " + e.Outcome
		if strings.Contains(line, "筑波山") || strings.Contains(line, "guess") || strings.Contains(line, "sato.nobody") {
			t.Errorf("audit entry %d holds what was typed: %q", e.Seq, line)
		}
		if e.Action != "signin" || e.Actor != "suzuki.hanako" {
			t.Errorf("audit entry %+v", e)
		}
	}
}

// msgOf returns the sign-in page's error message.
func msgOf(page string) string {
	_, after, ok := strings.Cut(page, `id="signin-error"><p>`)
	if !ok {
		return ""
	}
	m, _, _ := strings.Cut(after, "</p>")
	return m
}

// FuzzOIDCPending: the staff's OpenID sign-in cookie is accepted only as
// a canonical expiry in the next ten minutes, a dot and a value.
func FuzzOIDCPending(f *testing.F) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	c := &console{now: func() time.Time { return now }}
	f.Add(strconv.FormatInt(now.Add(5*time.Minute).UnixMilli(), 10) + ".ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	f.Add(strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10) + ".x")
	f.Add("0.")
	f.Add("+1.x")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/admin/oidc/callback", nil)
		r.Header.Set("Cookie", "koe_oidc="+value)
		got, ok := c.oidcPending(&creq{request: &request{Request: r}})
		if !ok {
			return
		}
		e, rest, _ := strings.Cut(got, ".")
		exp, err := strconv.ParseInt(e, 10, 64)
		if err != nil || strconv.FormatInt(exp, 10) != e || rest == "" || len(got) > 100 {
			t.Fatalf("accepted %q", got)
		}
		if at := time.UnixMilli(exp); !at.After(now) || at.After(now.Add(11*time.Minute)) {
			t.Fatalf("accepted %q, expiring at %v", got, at)
		}
	})
}
