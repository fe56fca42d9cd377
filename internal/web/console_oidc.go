package web

// Staff sign-in with the city's OpenID provider (SPEC.md §15.8): the
// authorization code flow with PKCE (S256), state and nonce, as the
// voters' digital-ID sign-in runs it (internal/oidcreg). A person the
// provider signs in is let in only as the staff account bound to their
// issuer and subject (koe staff oidc); nobody else gets an account from
// the provider, whatever it says of them.
//
// A sign-in's secrets are kept in no store: GET /admin/oidc/start gives
// the browser a cookie
//
//	koe_oidc = E "." R
//
// (E the sign-in's expiry in Unix milliseconds, decimal; R a random
// value), and derives from it, with the console's key k,
//
//	state    = BASE64URL(HMAC-SHA256(k, "koe/v2/console/oidc-state\0" ‖ cookie value))
//	nonce    = BASE64URL(HMAC-SHA256(k, "koe/v2/console/oidc-nonce\0" ‖ cookie value))
//	verifier = BASE64URL(HMAC-SHA256(k, "koe/v2/console/oidc-verifier\0" ‖ cookie value))
//
// so that the callback, on any front end sharing the administrator's
// token, finds them again, and the verifier never leaves the server. The
// cookie is SameSite=Lax (the provider's redirect back is a cross-site
// navigation) and is cleared by the callback.

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/store"
)

const (
	oidcCookie = "koe_oidc"
	oidcPath   = "/admin/oidc"
)

// oidcFailures are the reasons a staff OpenID sign-in fails, as the query
// value ?oidc= of the sign-in page; each has its message
// console.oidc.err.REASON.
var oidcFailures = map[string]bool{"state": true, "refused": true, "failed": true, "unavailable": true, "unknown": true}

func (c *console) mountOIDC(mux *http.ServeMux) {
	if c.st == nil || c.s.opts.StaffOIDC == nil {
		return
	}
	c.oidc = oidcreg.NewClient(*c.s.opts.StaffOIDC, nil, nil)
	mux.HandleFunc("GET "+oidcPath+"/start", c.handle(c.oidcStart, false))
	mux.HandleFunc("GET "+oidcreg.StaffCallbackPath, c.handle(c.oidcCallback, false))
	mux.HandleFunc("GET "+oidcPath+"/done", c.handle(c.oidcDone, false))
}

func (c *console) oidcSecret(purpose, cookie string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac("oidc-"+purpose, cookie))
}

func (c *console) oidcStartOf(cookie string) oidcreg.Start {
	return oidcreg.Start{State: c.oidcSecret("state", cookie), Nonce: c.oidcSecret("nonce", cookie), Verifier: c.oidcSecret("verifier", cookie)}
}

func (c *console) setOIDCCookie(r *creq, value string, maxAge int) {
	http.SetCookie(r.w, &http.Cookie{Name: oidcCookie, Value: value, Path: oidcPath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// oidcStart sends the browser to the provider.
func (c *console) oidcStart(r *creq) (string, any, error) {
	cookie := strconv.FormatInt(c.now().Add(oidcreg.PendingTTL).UnixMilli(), 10) + "." + rand.Text()
	to, err := c.oidc.AuthCodeURL(r.Context(), c.oidcStartOf(cookie))
	if err != nil {
		c.s.log.Warn("web: staff OpenID sign-in: the provider is unavailable", "err", err)
		return "", nil, &redirect{"/admin?oidc=unavailable"}
	}
	c.setOIDCCookie(r, cookie, int(oidcreg.PendingTTL.Seconds()))
	return "", nil, &redirect{to}
}

// oidcPending returns the cookie of the sign-in in progress, if it is
// well formed and unexpired.
func (c *console) oidcPending(r *creq) (string, bool) {
	k, err := r.Cookie(oidcCookie)
	if err != nil {
		return "", false
	}
	e, rest, ok := strings.Cut(k.Value, ".")
	exp, err := strconv.ParseInt(e, 10, 64)
	if !ok || err != nil || strconv.FormatInt(exp, 10) != e || rest == "" || len(k.Value) > 100 {
		return "", false
	}
	now := c.now()
	if !now.Before(time.UnixMilli(exp)) || time.UnixMilli(exp).After(now.Add(oidcreg.PendingTTL+time.Minute)) {
		return "", false
	}
	return k.Value, true
}

// oidcCallback is where the provider sends the browser back. Every
// failure is told on the sign-in page (?oidc=REASON), so that the
// provider's code never stays in an address the page links from.
func (c *console) oidcCallback(r *creq) (string, any, error) {
	cookie, ok := c.oidcPending(r)
	c.setOIDCCookie(r, "", -1)
	q := r.URL.Query()
	if !ok || !hmac.Equal([]byte(q.Get("state")), []byte(c.oidcStartOf(cookie).State)) {
		return "", nil, &redirect{"/admin?oidc=state"}
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		// The person cancelled, or the provider would not sign them in.
		return "", nil, &redirect{"/admin?oidc=refused"}
	}
	s := c.oidcStartOf(cookie)
	claims, err := c.oidc.Exchange(r.Context(), q.Get("code"), s.Verifier, s.Nonce)
	if err != nil {
		var oe *oidcreg.Error
		if errors.As(err, &oe) && oe.Reason == oidcreg.ReasonUnavailable {
			c.s.log.Warn("web: staff OpenID sign-in: the provider is unavailable", "err", err)
			return "", nil, &redirect{"/admin?oidc=unavailable"}
		}
		// The error names the check that failed and quotes no token.
		c.s.log.Warn("web: staff OpenID sign-in refused", "err", err)
		return "", nil, &redirect{"/admin?oidc=failed"}
	}
	sub, err := c.oidc.Identity(claims)
	if err != nil {
		return "", nil, &redirect{"/admin?oidc=failed"}
	}
	issuer := c.oidc.Config().Issuer
	a, err := c.st.AccountByOIDC(r.Context(), issuer, sub)
	if errors.Is(err, store.ErrNotFound) {
		// The subject is shown on the sign-in page, for an administrator
		// to bind; the MAC keeps anyone from showing another there.
		return "", nil, &redirect{"/admin?oidc=unknown&subject=" + url.QueryEscape(sub) + "&mac=" + c.oidcSecret("subject", sub)}
	} else if err != nil {
		return "", nil, err
	}
	if err := c.startSession(r, a.Name); err != nil {
		return "", nil, err
	}
	c.auditNow(r, store.AuditEntry{Actor: a.Name, Action: "signin-oidc", Outcome: "ok"})
	return "", nil, &redirect{oidcPath + "/done"}
}

// oidcDone follows the callback. The session's cookie is SameSite=Strict,
// and a browser does not send it on a redirect that began at the
// provider's site; this page's own navigation to the console is same-site,
// so it does.
func (c *console) oidcDone(r *creq) (string, any, error) {
	return "console-oidc-done", &consoleError{consoleBase: r.base()}, nil
}

// oidcFailure is the sign-in page's message for ?oidc=REASON, and the
// subject that the provider signed in, for "unknown" with a valid MAC.
func (c *console) oidcFailure(r *creq) (message, subject string) {
	q := r.URL.Query()
	reason := q.Get("oidc")
	if !oidcFailures[reason] {
		return "", ""
	}
	if sub := q.Get("subject"); reason == "unknown" && sub != "" && hmac.Equal([]byte(q.Get("mac")), []byte(c.oidcSecret("subject", sub))) {
		subject = sub
	}
	return msg(r.lang, "console.oidc.err."+reason), subject
}

// auditNow appends an entry for an action that handle's audit does not
// see (a GET).
func (c *console) auditNow(r *creq, e store.AuditEntry) {
	e.Time = c.now()
	if _, err := c.st.AppendAudit(r.Context(), e); err != nil {
		c.s.log.Error("web: audit log", "action", e.Action, "err", err)
	}
}
