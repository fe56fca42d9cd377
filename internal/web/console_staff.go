package web

// Named staff accounts in the console (SPEC.md §15.8): sign-in with a
// name and password, sessions kept in the store, the roles admin and
// observer, the staff page, and the audit log of administrative actions.
//
// When the site is given a store (Options.Staff), a console session is a
// random 256-bit value in the cookie koe_admin; the store keeps its SHA-256
// with the account and the expiry, so that signing out (or removing the
// account, or changing its password or role) ends it on every front end
// and across restarts. The forms of a session carry
//
//	csrf = BASE64URL(HMAC-SHA256(cookie value, "koe/v1/console/csrf")).
//
// The administrator's token signs in to the console only while no admin
// account exists (to create the first); its sessions end once one does.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/staff"
	"github.com/koe-vote/koe/internal/store"
)

const (
	deviceCookie   = "koe_device"
	deviceLifetime = 365 * 24 * time.Hour
	auditPage      = 50
	// signinMaxBody bounds the sign-in form (a name and a password).
	signinMaxBody = 16 << 10
)

var errConsoleRole = &pageError{status: http.StatusForbidden, title: "console.err.role.title", detail: "console.err.role.detail"}

// observerPages are the requests an observer may make: reading the
// list of elections, an election's page and the audit log, and signing
// out. Every other route is the administrator's, including those added
// later.
var observerPages = map[string]bool{
	"GET /admin":                true,
	"GET /admin/elections/{id}": true,
	"GET /admin/audit":          true,
	"POST /admin/signout":       true,
	"GET /admin/signin":         true,
	"GET /admin/signout":        true,
}

// tokenActor names the administrator's token in the audit log.
const tokenActor = ""

// storedSession finds the session of r's cookie in the store.
func (c *console) storedSession(cr *creq) error {
	sc, err := cr.Cookie(consoleCookie)
	if err != nil {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(sc.Value)
	if err != nil || len(raw) != 32 {
		return nil
	}
	se, err := c.st.Session(cr.Context(), sha256.Sum256(raw), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	role := store.RoleAdmin
	if se.Account == tokenActor {
		if n, err := c.admins(cr); err != nil {
			return err
		} else if n > 0 {
			return nil
		}
	} else {
		a, err := c.st.Account(cr.Context(), se.Account)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		role = a.Role
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("koe/v1/console/csrf"))
	cr.session, cr.csrf = true, base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	cr.sessionID, cr.actor, cr.role = se.ID, se.Account, role
	return nil
}

// admins counts the admin accounts.
func (c *console) admins(cr *creq) (int, error) {
	as, err := c.st.Accounts(cr.Context())
	n := 0
	for _, a := range as {
		if a.Role == store.RoleAdmin {
			n++
		}
	}
	return n, err
}

// mayRequest refuses an observer anything but reading.
func (c *console) mayRequest(cr *creq) error {
	if c.st != nil && cr.session && cr.role != store.RoleAdmin && !observerPages[cr.Pattern] {
		return errConsoleRole
	}
	return nil
}

// startSession signs the browser in as account (tokenActor: the token).
func (c *console) startSession(r *creq, account string) error {
	raw := make([]byte, 32)
	rand.Read(raw)
	se := store.Session{ID: sha256.Sum256(raw), Account: account, Expires: c.now().Add(consoleLifetime)}
	if err := c.st.PutSession(r.Context(), se, c.now()); err != nil {
		return err
	}
	c.setCookie(r.w, r.Request, base64.RawURLEncoding.EncodeToString(raw), int(consoleLifetime.Seconds()))
	return nil
}

// deviceMAC is the value of the device cookie that a browser gets when it
// signs in to an account: it lets that browser through the account's
// throttle, so that others failing to sign in as the account do not slow
// its owner down.
func (c *console) deviceMAC(account string) string {
	m := hmac.New(sha256.New, c.deviceKey)
	m.Write([]byte("koe/v1/console/device\x00" + account))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (c *console) knownDevice(r *creq, account string) bool {
	dc, err := r.Cookie(deviceCookie)
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(dc.Value, '.') // the MAC's base64 has no dot
	if i < 0 {
		return false
	}
	name, mac := dc.Value[:i], dc.Value[i+1:]
	n, err := url.QueryUnescape(name)
	return err == nil && n == account && hmac.Equal([]byte(mac), []byte(c.deviceMAC(account)))
}

// signinStaff signs in with the administrator's token (while no admin
// account exists) or with an account's name and password. Failures are
// throttled per client address and per account; a browser that signed in
// to the account before is throttled apart (see deviceMAC).
func (c *console) signinStaff(r *creq) (string, any, error) {
	ctx, now := r.Context(), c.now()
	admins, err := c.admins(r)
	if err != nil {
		return "", nil, err
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	token, useToken := r.PostForm["token"]
	keys := []string{"client:" + c.clientAddr(r.Request)}
	switch {
	case useToken:
		r.auditDetail = "token"
	case c.knownDevice(r, name):
		keys = []string{"device:" + name}
	default:
		keys = append(keys, "account:"+name)
	}
	for _, k := range keys {
		if wait := c.throttle.Wait(k, now); wait > 0 {
			r.noAudit = true
			return "", nil, &pageError{status: http.StatusTooManyRequests, title: "console.err.limit.title",
				detail: "console.err.slow.detail", args: []any{int(wait.Seconds()) + 1}}
		}
	}
	fail := func(key string) (string, any, error) {
		for _, k := range keys {
			c.throttle.Fail(k, now)
		}
		r.auditOutcome = "failed: " + key
		return "console-signin", &signinData{Error: msg(r.lang, key), Accounts: true, Token: admins == 0, Name: name, OIDC: c.oidc != nil}, nil
	}
	if useToken {
		typed := sha256.Sum256([]byte(strings.TrimSpace(token[0])))
		if subtle.ConstantTimeCompare(typed[:], c.tokenHash[:]) != 1 {
			return fail("console.signin.wrong")
		}
		if admins > 0 {
			return fail("console.signin.tokenretired")
		}
		if err := c.startSession(r, tokenActor); err != nil {
			return "", nil, err
		}
		return "", nil, &redirect{"/admin"}
	}
	a, err := c.st.Account(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		staff.CheckMissing(password)
		r.noAudit = true // a name nobody has could be a mistyped password
		return fail("console.signin.wrongpassword")
	} else if err != nil {
		return "", nil, err
	}
	r.actor = a.Name
	if !staff.CheckPassword(a.Password, password) {
		return fail("console.signin.wrongpassword")
	}
	// The account's own count is not cleared: its owner signing in must
	// not give someone guessing at it free attempts again.
	for _, k := range keys {
		if !strings.HasPrefix(k, "account:") {
			c.throttle.Succeed(k)
		}
	}
	if err := c.startSession(r, a.Name); err != nil {
		return "", nil, err
	}
	http.SetCookie(r.w, &http.Cookie{Name: deviceCookie, Value: url.QueryEscape(a.Name) + "." + c.deviceMAC(a.Name),
		Path: "/admin/signin", MaxAge: int(deviceLifetime.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return "", nil, &redirect{"/admin"}
}

// signoutStaff ends the session in the store.
func (c *console) signoutStaff(r *creq) (string, any, error) {
	if err := c.st.DeleteSession(r.Context(), r.sessionID); err != nil {
		return "", nil, err
	}
	c.setCookie(r.w, r.Request, "", -1)
	return "", nil, &redirect{"/admin?signedout=1"}
}

// --- The staff page.

type staffData struct {
	consoleBase
	Accounts []store.Account
	Roles    []string
	Done     string // catalogue key of what was just done
	Error    string // a message, when the last change was refused
	Form     struct{ Name, Role string }
	status   int
}

func (d *staffData) statusCode() int { return max(d.status, http.StatusOK) }

func (c *console) staffPage(r *creq, d *staffData) (string, any, error) {
	as, err := c.st.Accounts(r.Context())
	if err != nil {
		return "", nil, err
	}
	d.consoleBase, d.Accounts, d.Roles = r.base(), as, staff.Roles
	if d.Form.Role == "" {
		d.Form.Role = store.RoleObserver
	}
	if k := "console.staff.done." + r.URL.Query().Get("done"); d.Done == "" && catalogue["ja"][k] != "" {
		d.Done = k
	}
	return "console-staff", d, nil
}

func (c *console) staffList(r *creq) (string, any, error) { return c.staffPage(r, &staffData{}) }

// staffRefuse shows the staff page with why a change was refused.
func (c *console) staffRefuse(r *creq, status int, key string, args ...any) (string, any, error) {
	d := &staffData{Error: msg(r.lang, key, args...), status: status}
	d.Form.Name, d.Form.Role = r.PostFormValue("name"), r.PostFormValue("role")
	r.auditOutcome = "refused: " + key
	return c.staffPage(r, d)
}

func (c *console) staffAdd(r *creq) (string, any, error) {
	name, role, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role"), r.PostFormValue("password")
	r.auditDetail = name + " " + role
	if err := staff.CheckName(name); err != nil {
		return c.staffRefuse(r, http.StatusBadRequest, "console.staff.err.name")
	}
	if !staff.ValidRole(role) {
		return c.staffRefuse(r, http.StatusBadRequest, "console.staff.err.role")
	}
	if err := staff.CheckPasswordRules(password); err != nil {
		return c.staffRefuse(r, http.StatusBadRequest, "console.staff.err.password", staff.MinPassword)
	}
	err := c.st.CreateAccount(r.Context(), store.Account{Name: name, Role: role, Password: staff.HashPassword(password), Created: c.now()})
	if errors.Is(err, store.ErrExists) {
		return c.staffRefuse(r, http.StatusConflict, "console.staff.err.exists")
	} else if err != nil {
		return "", nil, err
	}
	return "", nil, &redirect{"/admin/staff?done=added"}
}

// staffChange changes an account's role or password, or removes it; the
// last admin account cannot lose its role or be removed.
func (c *console) staffChange(r *creq) (string, any, error) {
	name, op := r.PathValue("name"), r.PathValue("op")
	ctx := r.Context()
	a, err := c.st.Account(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return c.staffRefuse(r, http.StatusNotFound, "console.staff.err.nobody")
	} else if err != nil {
		return "", nil, err
	}
	r.auditDetail = name
	lastAdmin := false
	if a.Role == store.RoleAdmin {
		n, err := c.admins(r)
		if err != nil {
			return "", nil, err
		}
		lastAdmin = n == 1
	}
	switch op {
	case "role":
		role := r.PostFormValue("role")
		r.auditDetail += " " + role
		if !staff.ValidRole(role) {
			return c.staffRefuse(r, http.StatusBadRequest, "console.staff.err.role")
		}
		if lastAdmin && role != store.RoleAdmin {
			return c.staffRefuse(r, http.StatusConflict, "console.staff.err.lastadmin")
		}
		a.Role = role
		err = c.st.UpdateAccount(ctx, a)
	case "password":
		password := r.PostFormValue("password")
		if err := staff.CheckPasswordRules(password); err != nil {
			return c.staffRefuse(r, http.StatusBadRequest, "console.staff.err.password", staff.MinPassword)
		}
		a.Password = staff.HashPassword(password)
		err = c.st.UpdateAccount(ctx, a)
	case "delete":
		if lastAdmin {
			return c.staffRefuse(r, http.StatusConflict, "console.staff.err.lastadmin")
		}
		err = c.st.DeleteAccount(ctx, name)
	default:
		return "", nil, errNotFound
	}
	if err != nil {
		return "", nil, err
	}
	return "", nil, &redirect{"/admin/staff?done=" + op}
}

// --- The audit log.

type auditData struct {
	consoleBase
	Entries []store.AuditEntry
	Older   int64 // the "before" of the next page, 0 if none
	Newest  bool  // this is the first page
}

func (c *console) auditLog(r *creq) (string, any, error) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	es, err := c.st.Audit(r.Context(), before, auditPage+1)
	if err != nil {
		return "", nil, err
	}
	d := &auditData{consoleBase: r.base(), Newest: before <= 0}
	if len(es) > auditPage {
		es = es[:auditPage]
		d.Older = es[len(es)-1].Seq
	}
	d.Entries = es
	return "console-audit", d, nil
}

// auditElection names the election a console answer was about, when the
// request's path does not (a new election).
func (d *createdData) auditElection() string { return d.Created.ID }

// auditAction names a console request in the audit log, from its route:
// "POST /admin/elections/{id}/close" is "close", "POST
// /admin/staff/{name}/role" is "staff-role". It returns "" for a post that
// changes nothing (the editor's preview and export).
func auditAction(r *creq) string {
	p, ok := strings.CutPrefix(r.Pattern, "POST /admin/")
	if !ok {
		return ""
	}
	if p == "new" {
		if r.PostFormValue("action") != "create" {
			return ""
		}
		return "create"
	}
	p = strings.TrimPrefix(p, "elections/{id}/")
	var parts []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "{name}":
		case "{op}":
			parts = append(parts, r.PathValue("op"))
		default:
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "-")
}

// audit records a console request that acted (a POST) in the audit log:
// every administrative action goes through handle, which calls it once
// the handler has answered. It records who, what, which election, when
// and how it ended, and nothing that was typed into the form but names.
func (c *console) audit(cr *creq, err error, data any) {
	if c.st == nil || cr.Method != http.MethodPost || cr.noAudit {
		return
	}
	action := auditAction(cr)
	// A sign-in is recorded once it names an account or the token, so
	// that junk posted by anyone does not fill the log.
	if action == "" || action == "signin" && cr.actor == "" && cr.auditDetail == "" || action != "signin" && !cr.session {
		return
	}
	e := store.AuditEntry{Time: c.now(), Actor: cr.actor, Action: action, Election: cr.PathValue("id"), Detail: cr.auditDetail, Outcome: "ok"}
	if ae, ok := data.(interface{ auditElection() string }); ok && e.Election == "" {
		e.Election = ae.auditElection()
	}
	status := http.StatusOK
	if sd, ok := data.(interface{ statusCode() int }); ok {
		status = sd.statusCode()
	}
	var rd *redirect
	var pe *pageError
	switch {
	case cr.auditOutcome != "":
		e.Outcome = cr.auditOutcome
	case errors.As(err, &rd):
	case errors.As(err, &pe):
		e.Outcome = "refused: " + pe.title
	case err != nil:
		e.Outcome = "failed: internal error"
	case status >= 400:
		e.Outcome = "failed: HTTP " + strconv.Itoa(status)
	}
	if _, aerr := c.st.AppendAudit(cr.Context(), e); aerr != nil {
		c.s.log.Error("web: audit log", "action", action, "err", aerr)
	}
}
