package web

// The administrator's console (/admin): sign-in, the question editor that
// writes a manifest (SPEC.md §7), the voter roll and its one-time codes,
// the trustees' key ceremony (SPEC.md §6) and the election's lifecycle
// (SPEC.md §15.2). It calls koe's API in process with the administrator's
// token, as `koe admin` does over the network, and needs no script.
//
// Sessions are stateless. A session cookie is
//
//	koe_admin = E "." BASE64URL(HMAC-SHA256(k, "koe/v2/console/session\0" ‖ E))
//
// where E is the session's expiry in Unix milliseconds (decimal) and
// k = HMAC-SHA256(admin token, "koe/v2/console/session-key"). Every form
// posted while signed in carries
//
//	csrf = BASE64URL(HMAC-SHA256(k, "koe/v2/console/csrf\0" ‖ cookie value)).
//
// A new admin token invalidates every session. Signing out clears the
// cookie and, in this process, refuses every session issued before it.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/staff"
	"github.com/koe-vote/koe/internal/store"
	"github.com/koe-vote/koe/internal/tally"
)

const (
	consoleCookie   = "koe_admin"
	consoleLifetime = 8 * time.Hour
	// consoleMaxBody bounds a posted form: a voter roll (16 MiB at the
	// API) or the codes it produced, with room for the form's encoding.
	consoleMaxBody = 24 << 20
	// Failed sign-ins allowed per client address in signinWindow.
	signinFailures = 5
	signinWindow   = 10 * time.Minute
)

// console is the administrator's console of a Site.
type console struct {
	s         *Site
	admin     *client.Client // the API, with the administrator's token
	tokenHash [32]byte
	key       []byte // the session key k
	limiter   *signinLimiter
	now       func() time.Time
	// With named staff accounts (console_staff.go): the store, the
	// sign-in throttle and the key of the device cookie.
	st        store.Staff
	throttle  *staff.Throttle
	deviceKey []byte
	oidc      *oidcreg.Client // the staff's OpenID provider, if any

	mu        sync.Mutex
	notBefore int64 // Unix ms: sessions issued at or before it are refused
}

// mountConsole serves the console under /admin if the site has the
// administrator's token.
func (s *Site) mountConsole(mux *http.ServeMux) {
	if s.opts.AdminToken == "" {
		return
	}
	c := newConsole(s)
	mux.HandleFunc("GET /admin", c.handle(c.home, false))
	mux.HandleFunc("POST /admin/signin", c.handle(c.signin, false))
	mux.HandleFunc("POST /admin/signout", c.handle(c.signout, true))
	mux.HandleFunc("GET /admin/signin", c.handle(goTo("/admin"), false))
	mux.HandleFunc("GET /admin/signout", c.handle(goTo("/admin"), false))
	mux.HandleFunc("GET /admin/new", c.handle(c.newElection, true))
	mux.HandleFunc("POST /admin/new", c.handle(c.editElection, true))
	mux.HandleFunc("GET /admin/elections/{id}", c.handle(c.election, true))
	mux.HandleFunc("POST /admin/elections/{id}/roll", c.handle(c.importRoll, true))
	mux.HandleFunc("POST /admin/elections/{id}/codes", c.handle(c.codes, true))
	mux.HandleFunc("POST /admin/elections/{id}/reissue", c.handle(c.reissue, true))
	mux.HandleFunc("GET /admin/elections/{id}/reissue", c.handle(c.backToElection, true))
	mux.HandleFunc("GET /admin/elections/{id}/roll", c.handle(c.backToElection, true))
	mux.HandleFunc("GET /admin/elections/{id}/codes", c.handle(c.backToElection, true))
	for _, a := range lifecycle {
		mux.HandleFunc("GET /admin/elections/{id}/"+a.name, c.handle(c.confirm(a), true))
		mux.HandleFunc("POST /admin/elections/{id}/"+a.name, c.handle(c.act(a), true))
	}
	c.mountDrafts(mux)
	if c.st != nil {
		mux.HandleFunc("GET /admin/staff", c.handle(c.staffList, true))
		mux.HandleFunc("POST /admin/staff/add", c.handle(c.staffAdd, true))
		mux.HandleFunc("POST /admin/staff/{name}/{op}", c.handle(c.staffChange, true))
		mux.HandleFunc("GET /admin/audit", c.handle(c.auditLog, true))
		c.mountOIDC(mux)
	}
}

func newConsole(s *Site) *console {
	m := hmac.New(sha256.New, []byte(s.opts.AdminToken))
	m.Write([]byte("koe/v2/console/session-key"))
	c := &console{
		s:         s,
		admin:     &client.Client{Base: s.api.Base, Token: s.opts.AdminToken, HTTP: s.api.HTTP},
		tokenHash: sha256.Sum256([]byte(s.opts.AdminToken)),
		key:       m.Sum(nil),
		limiter:   &signinLimiter{fails: map[string]*signinFails{}},
		now:       time.Now,
		st:        s.opts.Staff,
		throttle:  &staff.Throttle{Free: 5, Max: time.Minute},
	}
	if c.st != nil {
		// The console records its actions in the audit log itself, with
		// the account that acted; the API is told not to again.
		c.admin.HTTP = &http.Client{Transport: auditedTransport{s.api.HTTP.Transport}}
	}
	d := hmac.New(sha256.New, []byte(s.opts.AdminToken))
	d.Write([]byte("koe/v1/console/device-key"))
	c.deviceKey = d.Sum(nil)
	if s.opts.now != nil {
		c.now = s.opts.now
	}
	// The console's pages share the definitions of console-parts.html.
	for name, t := range s.pages {
		if strings.HasPrefix(name, "console") && name != "console-parts" {
			s.pages[name] = template.Must(template.Must(t.Clone()).ParseFS(templateFS, "templates/console-parts.html"))
		}
	}
	delete(s.pages, "console-parts")
	return c
}

// --- Sessions and forms.

func (c *console) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("koe/v2/console/" + purpose + "\x00" + value))
	return m.Sum(nil)
}

// newSession returns a session cookie's value for a session issued now.
func (c *console) newSession() string {
	c.mu.Lock()
	issued := max(c.now().UnixMilli(), c.notBefore+1)
	c.mu.Unlock()
	e := strconv.FormatInt(issued+consoleLifetime.Milliseconds(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(c.mac("session", e))
}

// validSession reports whether v is a session cookie this console issued,
// unexpired and not signed out.
func (c *console) validSession(v string) bool {
	e, m, ok := strings.Cut(v, ".")
	if !ok || len(e) > 20 {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != e {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(got, c.mac("session", e)) {
		return false
	}
	now := c.now().UnixMilli()
	c.mu.Lock()
	notBefore := c.notBefore
	c.mu.Unlock()
	issued := exp - consoleLifetime.Milliseconds()
	return now < exp && issued <= now+1000 && issued > notBefore
}

func (c *console) csrfFor(session string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac("csrf", session))
}

func (c *console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: value, Path: "/admin", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// signinLimiter counts failed sign-ins per client address (in memory only).
type signinLimiter struct {
	mu    sync.Mutex
	fails map[string]*signinFails
}

type signinFails struct {
	n     int
	since time.Time
}

// wait returns how long addr must wait before it may try again (0: now).
func (l *signinLimiter) wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[addr]
	if f == nil || f.n < signinFailures || now.Sub(f.since) >= signinWindow {
		return 0
	}
	return f.since.Add(signinWindow).Sub(now)
}

func (l *signinLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 10000 {
		for a, f := range l.fails {
			if now.Sub(f.since) >= signinWindow {
				delete(l.fails, a)
			}
		}
	}
	f := l.fails[addr]
	if f == nil || now.Sub(f.since) >= signinWindow {
		f = &signinFails{since: now}
		l.fails[addr] = f
	}
	f.n++
}

// clientAddr is the client's key for the sign-in throttle: its address
// (IPv6: its /64), believing a trusted proxy's forwarding headers.
func (c *console) clientAddr(r *http.Request) string { return c.s.opts.Clients.Key(r) }

// --- The console's handlers.

// creq is a console request.
type creq struct {
	*request
	w        http.ResponseWriter
	session  bool   // signed in
	csrf     string // the token of the page's forms, when signed in
	multipar bool   // the form was multipart
	// With staff accounts (console_staff.go): the session, who is signed
	// in (tokenActor: the token) and their role, and what the audit log
	// says of the request besides its route.
	sessionID                 [32]byte
	actor, role               string
	auditDetail, auditOutcome string
	noAudit                   bool
}

// consoleBase is in every console page's data.
type consoleBase struct {
	CSRF     string
	SignedIn bool
	// With staff accounts: who is signed in ("" and Token for the token)
	// and whether only to read.
	StaffMode, Token, Observer bool
	Actor                      string
}

func (r *creq) base() consoleBase {
	return consoleBase{CSRF: r.csrf, SignedIn: r.session, StaffMode: r.role != "", Token: r.session && r.role != "" && r.actor == tokenActor,
		Observer: r.role == store.RoleObserver, Actor: r.actor}
}

// redirect is a handler's answer that sends the browser elsewhere.
type redirect struct{ to string }

func (r *redirect) Error() string { return "redirect to " + r.to }

func goTo(path string) func(*creq) (string, any, error) {
	return func(*creq) (string, any, error) { return "", nil, &redirect{path} }
}

// consoleError is what the console's error page shows.
type consoleError struct {
	consoleBase
	Title, Detail string
	Server        string // the API's own message, in English
	Back, BackTo  string // a link onwards
}

var (
	errConsoleCSRF = &pageError{status: http.StatusForbidden, title: "console.err.csrf.title", detail: "console.err.csrf.detail"}
	errConsoleAuth = &pageError{status: http.StatusForbidden, title: "console.err.session.title", detail: "console.err.session.detail"}
	errConsoleForm = &pageError{status: http.StatusBadRequest, title: "console.err.form.title", detail: "console.err.form.detail"}
)

// handle adapts a console handler: every answer is not to be stored;
// a POST is checked for its origin, its size, its session and its CSRF
// token; errors are shown on the console's error page. A handler that
// returns no page name has written its answer itself.
func (c *console) handle(h func(*creq) (string, any, error), needSession bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w = noStoreWriter{w}
		lang := c.s.language(w, r)
		cr := &creq{request: &request{Request: r, lang: lang}, w: w}
		err := c.prepare(cr, needSession)
		var name string
		var data any
		if err == nil {
			name, data, err = h(cr)
		}
		c.audit(cr, err, data)
		status := http.StatusOK
		if err != nil {
			var rd *redirect
			if errors.As(err, &rd) {
				http.Redirect(w, r, rd.to, http.StatusSeeOther)
				return
			}
			var pe *pageError
			if !errors.As(err, &pe) {
				c.s.log.Error("web: console failed", "path", r.URL.Path, "err", err)
				pe = &pageError{status: http.StatusInternalServerError, title: "err.internal.title", detail: "err.internal.detail"}
			}
			status, name = pe.status, "console-error"
			d := &consoleError{consoleBase: cr.base(), Title: msg(lang, pe.title), Detail: msg(lang, pe.detail, pe.args...),
				Back: msg(lang, "console.back.home"), BackTo: "/admin"}
			if !cr.session {
				d.Back = msg(lang, "console.back.signin")
			}
			if id := r.PathValue("id"); id != "" && cr.session && pe.status != http.StatusNotFound {
				d.Back, d.BackTo = msg(lang, "console.back.election"), "/admin/elections/"+url.PathEscape(id)
			}
			data = d
		}
		if name == "" {
			return
		}
		if sd, ok := data.(interface{ statusCode() int }); ok && status == http.StatusOK {
			status = sd.statusCode()
		}
		c.s.render(w, r, status, lang, name, data)
	}
}

func (c *console) prepare(cr *creq, needSession bool) error {
	r := cr.Request
	if c.st != nil {
		if err := c.storedSession(cr); err != nil {
			return err
		}
	} else if sc, err := r.Cookie(consoleCookie); err == nil && c.validSession(sc.Value) {
		cr.session, cr.csrf = true, c.csrfFor(sc.Value)
	}
	if r.Method == http.MethodPost {
		// A form from another site is refused even before its token is
		// checked (the cookie is SameSite=Strict as well). Under the
		// site's Referrer-Policy: no-referrer, browsers send "Origin: null"
		// with forms, so Sec-Fetch-Site is what names the sender.
		if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
			return errConsoleCSRF
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				return errConsoleCSRF
			}
		}
		limit := int64(consoleMaxBody)
		if r.URL.Path == "/admin/signin" {
			limit = signinMaxBody
		}
		r.Body = http.MaxBytesReader(cr.w, r.Body, limit)
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var err error
		if ct == "multipart/form-data" {
			cr.multipar = true
			err = r.ParseMultipartForm(8 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return errConsoleForm
		}
	}
	if !needSession {
		return nil
	}
	if !cr.session {
		if r.Method == http.MethodPost {
			return errConsoleAuth
		}
		return &redirect{"/admin"}
	}
	if r.Method == http.MethodPost && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(cr.csrf)) {
		return errConsoleCSRF
	}
	return c.mayRequest(cr)
}

// noStoreWriter makes every console answer uncacheable: they hold
// tokens, codes and the administrator's view.
type noStoreWriter struct{ http.ResponseWriter }

func (w noStoreWriter) WriteHeader(status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(status)
}

func (w noStoreWriter) Write(b []byte) (int, error) {
	w.Header().Set("Cache-Control", "no-store")
	return w.ResponseWriter.Write(b)
}

// --- Sign-in and the list of elections.

type signinData struct {
	consoleBase
	Error string // a message, when the last attempt failed
	// With staff accounts: the account form, the token's form while no
	// admin account exists, and the name last typed.
	Accounts, Token bool
	Name            string
	// OIDC: the staff may sign in with the OpenID provider; Subject: the
	// provider's subject that no account is bound to; SignedOut: the
	// browser just signed out.
	OIDC, SignedOut bool
	Subject         string
}

func (d *signinData) statusCode() int {
	if d.Error != "" {
		return http.StatusUnauthorized
	}
	return http.StatusOK
}

type homeData struct {
	consoleBase
	Elections []api.ElectionInfo
	Examples  []string
}

func (c *console) home(r *creq) (string, any, error) {
	if !r.session {
		d := &signinData{consoleBase: r.base(), Token: true}
		if c.st != nil {
			n, err := c.admins(r)
			if err != nil {
				return "", nil, err
			}
			d.Accounts, d.Token = true, n == 0
			d.OIDC = c.oidc != nil
			if d.OIDC {
				d.Error, d.Subject = c.oidcFailure(r)
			}
		}
		d.SignedOut = r.URL.Query().Get("signedout") == "1" && d.Error == ""
		return "console-signin", d, nil
	}
	// With the administrator's token: elections in setup are listed to the
	// administrator only (SPEC.md §15.2).
	var list []api.ElectionInfo
	if err := c.admin.Do(r.Context(), "GET", "/api/v1/elections", "", nil, &list); err != nil {
		return "", nil, err
	}
	return "console", &homeData{consoleBase: r.base(), Elections: list, Examples: exampleNames}, nil
}

func (c *console) signin(r *creq) (string, any, error) {
	if c.st != nil {
		return c.signinStaff(r)
	}
	addr, now := c.clientAddr(r.Request), c.now()
	if wait := c.limiter.wait(addr, now); wait > 0 {
		return "", nil, &pageError{status: http.StatusTooManyRequests, title: "console.err.limit.title",
			detail: "console.err.limit.detail", args: []any{int(wait.Minutes()) + 1}}
	}
	typed := sha256.Sum256([]byte(strings.TrimSpace(r.PostFormValue("token"))))
	if subtle.ConstantTimeCompare(typed[:], c.tokenHash[:]) != 1 {
		c.limiter.fail(addr, now)
		return "console-signin", &signinData{Error: msg(r.lang, "console.signin.wrong"), Token: true}, nil
	}
	c.setCookie(r.w, r.Request, c.newSession(), int(consoleLifetime.Seconds()))
	return "", nil, &redirect{"/admin"}
}

func (c *console) signout(r *creq) (string, any, error) {
	if c.st != nil {
		return c.signoutStaff(r)
	}
	c.mu.Lock()
	c.notBefore = max(c.notBefore, c.now().UnixMilli())
	c.mu.Unlock()
	c.setCookie(r.w, r.Request, "", -1)
	return "", nil, &redirect{"/admin?signedout=1"}
}

// --- An election.

// lifecycle lists the administrator's state changes (SPEC.md §15.2).
var lifecycle = []lifecycleAction{
	{name: "open", from: api.StateSetup},
	{name: "close", from: api.StateOpen},
	{name: "tally", from: api.StateClosed},
	{name: "publish", from: api.StateTallied},
}

type lifecycleAction struct{ name, from string }

// actionView is a lifecycle button: enabled only in the right state.
type actionView struct {
	Name    string
	Enabled bool
	Why     string // catalogue key: why it is disabled, or what it does
}

type trusteeProgress struct {
	Index int
	Name  string
	Done  []bool // announce, deal, verdict, respond
	All   bool
}

type ceremonyView struct {
	Trustees  []trusteeProgress
	Finished  int    // trustees who posted every round
	JointKey  string // hex, once the transcript verifies
	Failure   string // why a transcript with every message does not verify
	Qual      []int
	Threshold int
}

type electionData struct {
	consoleBase
	*electionView
	Summary     *summary
	Ceremony    *ceremonyView
	Actions     []actionView
	Decryptions int64
	Done        string // catalogue key of what was just done
	ActionError *apiProblem
	RollError   *apiProblem
	// ReissueError is what the API said of a refused re-issue.
	ReissueError *apiProblem
	Server       string // this site's URL, for commands
	Booth        string // the booth's URL
	status       int
}

func (d *electionData) statusCode() int { return max(d.status, http.StatusOK) }

// apiProblem is an API error as the console shows it.
type apiProblem struct {
	Message string // in the page's language
	Server  string // the API's message (English)
}

func (c *console) loadElectionPage(r *creq) (*electionData, error) {
	ev, err := c.s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	cp, err := c.s.checkpoint(r.Context(), ev.Info)
	if err != nil {
		return nil, err
	}
	sum, err := c.s.boardSummary(r.Context(), ev.Info.ID, cp.Size)
	if err != nil {
		return nil, err
	}
	cer, err := c.ceremony(r.Context(), ev)
	if err != nil {
		return nil, err
	}
	d := &electionData{consoleBase: r.base(), electionView: ev, Summary: sum, Ceremony: cer,
		Decryptions: sum.Types[board.TypeDecryption], Server: publicURL(r.Request, "")}
	d.Booth = d.Server + c.s.opts.BoothPath(ev.Info.ID)
	withheld := false
	if ev.Info.State == api.StateTallied {
		t, err := c.s.encryptedTally(r.Context(), ev.Info.ID)
		if err != nil {
			return nil, err
		}
		withheld = t != nil && tally.CheckPrivacy(ev.Manifest, t.Ballots) != nil
	}
	for _, a := range lifecycle {
		v := actionView{Name: a.name, Enabled: ev.Info.State == a.from, Why: "console.action." + a.name + ".help"}
		switch {
		case ev.Info.State != a.from:
			v.Why = "console.action.wrongstate"
		case a.name == "open" && cer.JointKey == "":
			v.Enabled, v.Why = false, "console.action.open.noceremony"
		case a.name == "publish" && withheld:
			v.Enabled, v.Why = false, "console.action.publish.withheld"
		case a.name == "publish" && d.Decryptions < int64(ev.Manifest.Threshold):
			v.Enabled, v.Why = false, "console.action.publish.noshares"
		}
		d.Actions = append(d.Actions, v)
	}
	d.Actions = append(d.Actions, draftActions(ev.Info.State)...)
	if k := "console.done." + r.URL.Query().Get("done"); catalogue["ja"][k] != "" {
		d.Done = k
	}
	return d, nil
}

// ceremony reads the trustees' progress through the rounds and, once
// every message is in, verifies the transcript as the server will when
// it opens the election (ceremony.Transcript.Verify) to find the joint key.
func (c *console) ceremony(ctx context.Context, ev *electionView) (*ceremonyView, error) {
	m := ev.Manifest
	v := &ceremonyView{Threshold: m.Threshold}
	msgs, err := c.s.api.Ceremony(ctx, ev.Info.ID)
	if err != nil {
		return nil, err
	}
	rounds := []string{ceremony.RoundAnnounce, ceremony.RoundDeal, ceremony.RoundVerdict, ceremony.RoundRespond}
	for j := 1; j <= m.Trustees; j++ {
		t := trusteeProgress{Index: j, Done: make([]bool, len(rounds)), All: true}
		for k, round := range rounds {
			for _, cm := range msgs[round] {
				if cm.Trustee != j {
					continue
				}
				t.Done[k] = true
				if round == ceremony.RoundAnnounce {
					var a struct {
						Name string `json:"name"`
					}
					if err := json.Unmarshal(cm.Message, &a); err == nil {
						t.Name = a.Name
					}
				}
			}
			t.All = t.All && t.Done[k]
		}
		if t.All {
			v.Finished++
		}
		v.Trustees = append(v.Trustees, t)
	}
	if p := ev.Info.Params; p != nil {
		v.JointKey, v.Qual = p.JointKey, p.Qual
		return v, nil
	}
	if v.Finished < m.Trustees {
		return v, nil
	}
	tr, err := c.s.api.Transcript(ctx, ev.Info.ID, ceremony.Params{N: m.Trustees, T: m.Threshold})
	if err != nil {
		v.Failure = err.Error()
		return v, nil
	}
	// The manifest's exact bytes (the election's description holds it
	// re-encoded).
	raw, err := c.s.api.Raw(ctx, "GET", api.ElectionPath(ev.Info.ID, "/manifest"), "", nil)
	if err != nil {
		return nil, err
	}
	h := ballot.Hash(raw)
	res, err := tr.Verify(h[:])
	if err != nil {
		v.Failure = err.Error()
		return v, nil
	}
	v.JointKey, v.Qual = hex.EncodeToString(res.JointKey.Bytes()), res.Qual
	return v, nil
}

func (c *console) election(r *creq) (string, any, error) {
	d, err := c.loadElectionPage(r)
	if err != nil {
		return "", nil, err
	}
	return "console-election", d, nil
}

func (c *console) backToElection(r *creq) (string, any, error) {
	return "", nil, &redirect{"/admin/elections/" + url.PathEscape(r.PathValue("id"))}
}

type confirmData struct {
	consoleBase
	*electionView
	Action string
}

// confirm asks before a state change.
func (c *console) confirm(a lifecycleAction) func(*creq) (string, any, error) {
	return func(r *creq) (string, any, error) {
		ev, err := c.s.loadElection(r.Context(), r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		if ev.Info.State != a.from {
			return "", nil, &redirect{"/admin/elections/" + url.PathEscape(ev.Info.ID)}
		}
		return "console-confirm", &confirmData{consoleBase: r.base(), electionView: ev, Action: a.name}, nil
	}
}

// act makes a state change through the API and goes back to the
// election's page, which says what happened (or why not).
func (c *console) act(a lifecycleAction) func(*creq) (string, any, error) {
	return func(r *creq) (string, any, error) {
		id := r.PathValue("id")
		err := c.admin.Do(r.Context(), "POST", api.ElectionPath(id, "/"+a.name), "", nil, nil)
		if err == nil {
			return "", nil, &redirect{"/admin/elections/" + url.PathEscape(id) + "?done=" + a.name}
		}
		return c.failOnElectionPage(r, id, err, http.StatusConflict, func(d *electionData, p *apiProblem) { d.ActionError = p })
	}
}

// failOnElectionPage shows the election's page with what the API said of
// a failed request (set puts it in its place), or an error page if it is
// not something a person can act on.
func (c *console) failOnElectionPage(r *creq, id string, err error, status int, set func(*electionData, *apiProblem)) (string, any, error) {
	p := problem(r.lang, err)
	if p == nil {
		if client.IsCode(err, api.CodeNoElection) {
			return "", nil, noElection(id)
		}
		return "", nil, err
	}
	d, lerr := c.loadElectionPage(r)
	if lerr != nil {
		return "", nil, lerr
	}
	set(d, p)
	d.status = status
	return "console-election", d, nil
}

// problem explains an error answer of the API, or returns nil if err
// is not one a person can act on.
func problem(lang string, err error) *apiProblem {
	var e *client.Error
	if !errors.As(err, &e) || e.Status >= 500 {
		return nil
	}
	key := "console.api." + e.Code
	if _, ok := catalogue["ja"][key]; !ok {
		key = "console.api.other"
	}
	return &apiProblem{Message: msg(lang, key), Server: e.Message}
}

// Console helpers for the templates.

// ConsoleIn is the view in another language (for a preview in both).
func (v *view) ConsoleIn(lang string) *view {
	c := *v
	c.Lang = lang
	return &c
}

// ConsoleRound names a ceremony round by its position.
func (v *view) ConsoleRound(k int) string {
	return v.T("console.round." + []string{ceremony.RoundAnnounce, ceremony.RoundDeal, ceremony.RoundVerdict, ceremony.RoundRespond}[k])
}

type problemView struct {
	V *view
	P *apiProblem
}

// ConsoleProblem is the argument of the "consoleproblem" template.
func (v *view) ConsoleProblem(p *apiProblem) problemView { return problemView{v, p} }
