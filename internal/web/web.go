// Package web serves koe's public pages (issue 5, item 3): the elections
// list, each election's overview and results (with charts), an explorer of
// its bulletin board (SPEC.md §13) with a receipt check, and a page on how to
// verify an election with `koe verify` (SPEC.md §11, §13.6).
//
// The pages are rendered on the server with html/template, in Japanese or
// English, and need no script: charts are inline SVG with a text alternative
// and a table. The site reads everything through koe's public JSON API,
// called in process (see New), so it shows exactly what any client of the
// API would see, and checks the board's signatures and proofs as they would.
package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/store"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures a Site.
type Options struct {
	// Location is the time zone of the times shown (default: Japan
	// Standard Time, UTC+9).
	Location *time.Location
	// BoothPath returns the path of an election's voting booth, linked
	// from its overview while it is open (default /elections/{id}/vote).
	BoothPath func(id string) string
	// AdminToken is the administrator's token of the API (server.Config),
	// which the administrator's console (/admin) signs in with and uses.
	// Without it the console is not served.
	AdminToken string
	// Staff keeps the console's named staff accounts, their sessions and
	// the audit log (console_staff.go). Without it the console signs in
	// with the administrator's token only, in sessions of this process.
	Staff store.Staff
	// LetterFont is the TrueType font file the letters' PDFs embed
	// (default: Debian's IPAex Gothic, letters.DefaultFonts). Without one
	// the console still runs and says, where it offers the PDFs, why not.
	LetterFont string
	// City and Contact are the city's name and its contact line (who to
	// ask, a telephone number), printed on the letters.
	City, Contact string
	Logger        *slog.Logger
	now           func() time.Time // the console's clock (tests); default time.Now
}

// Site is the public web site. It is an http.Handler for "/"; mount the
// API's own paths (/api/, /metrics, /healthz) beside it.
type Site struct {
	api   *client.Client
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	cache *boardCache
	font  *letterFont // the letters' PDFs' font (console_letters.go)
	// assets are the static files: the style sheets, and the booth's
	// script when it was built before the binary (web/booth/build.sh).
	assets fs.FS
}

// New returns the site, which reads data from api, koe's API handler
// (server.Server.Handler), in process.
func New(api http.Handler, opts Options) *Site {
	if opts.Location == nil {
		opts.Location = time.FixedZone("JST", 9*60*60)
	}
	if opts.BoothPath == nil {
		opts.BoothPath = func(id string) string { return "/elections/" + url.PathEscape(id) + "/vote" }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Site{
		api:   &client.Client{Base: "http://koe.internal", HTTP: &http.Client{Transport: handlerTransport{api}}},
		opts:  opts,
		log:   opts.Logger,
		pages: parseTemplates(),
		cache: newBoardCache(),
		font:  &letterFont{path: opts.LetterFont},
	}
	s.assets, _ = fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(gzipStatic(s.assets, http.FileServerFS(s.assets)))))
	mux.HandleFunc("GET /{$}", s.page(s.elections))
	mux.HandleFunc("GET /verify", s.page(s.verify))
	mux.HandleFunc("GET /help", s.page(func(*request) (string, any, error) { return "help", nil, nil }))
	mux.HandleFunc("GET /elections/{id}", s.page(s.overview))
	mux.HandleFunc("GET /elections/{id}/results", s.page(s.results))
	mux.HandleFunc("GET /elections/{id}/results/{file}", s.export)
	mux.HandleFunc("GET /elections/{id}/board", s.page(s.board))
	mux.HandleFunc("GET /elections/{id}/vote", s.page(s.booth))
	mux.HandleFunc("GET /elections/{id}/receipt", s.page(s.receipt))
	mux.HandleFunc("POST /elections/{id}/receipt", s.page(s.receipt))
	mux.HandleFunc("GET /elections/{id}/qr", s.qrCode)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	s.mountConsole(mux)
	mux.HandleFunc("/", s.page(func(*request) (string, any, error) { return "", nil, errNotFound }))
	s.mux = mux
	return s
}

// ServeHTTP serves the site with its security headers.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	s.mux.ServeHTTP(w, r)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// request is what a page handler gets: the HTTP request and the language.
type request struct {
	*http.Request
	lang string
}

// pageError is an error shown as an error page.
type pageError struct {
	status int
	title  string // catalogue key
	detail string // catalogue key
	args   []any
}

func (e *pageError) Error() string { return e.title }

var (
	errNotFound = &pageError{status: http.StatusNotFound, title: "err.notfound.title", detail: "err.notfound.detail"}
)

func noElection(id string) error {
	return &pageError{status: http.StatusNotFound, title: "err.noelection.title", detail: "err.noelection.detail", args: []any{id}}
}

// page adapts a page handler: it picks the language, runs the handler,
// and renders its template, or an error page.
func (s *Site) page(h func(*request) (string, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := s.language(w, r)
		name, data, err := h(&request{Request: r, lang: lang})
		status := http.StatusOK
		if err != nil {
			var pe *pageError
			if !errors.As(err, &pe) {
				s.log.Error("web: page failed", "path", r.URL.Path, "err", err)
				pe = &pageError{status: http.StatusInternalServerError, title: "err.internal.title", detail: "err.internal.detail"}
			}
			status, name = pe.status, "error"
			data = &errorData{Title: msg(lang, pe.title), Detail: msg(lang, pe.detail, pe.args...)}
		}
		s.render(w, r, status, lang, name, data)
	}
}

type errorData struct{ Title, Detail string }

// view is what every template gets.
type view struct {
	Lang   string
	Path   string // the request's path, for the navigation
	Switch []langLink
	Data   any
	site   *Site
	survey bool // the page is about a survey: its words, not an election's (i18n_survey.go)
	// Large is the reader's choice of a larger text, and TextSize the link
	// that switches it (a cookie, so that it works without script).
	Large    bool
	TextSize string
}

type langLink struct {
	Lang, Name, Href string
	Current          bool
}

// T looks key up in the message catalogue of the page's language and
// formats it with args (fmt verbs).
func (v *view) T(key string, args ...any) string { return msgFor(v.Lang, key, v.survey, args...) }

func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, lang, name string, data any) {
	v := &view{Lang: lang, Path: r.URL.Path, Data: data, site: s}
	if sk, ok := data.(surveyKind); ok {
		v.survey = sk.survey()
	}
	v.Large = textSize(w, r)
	q := r.URL.Query()
	q.Del("lang")
	if v.Large {
		q.Set("text", "normal")
	} else {
		q.Set("text", "large")
	}
	v.TextSize = r.URL.Path + "?" + q.Encode()
	for _, l := range languages {
		q := r.URL.Query()
		q.Del("text")
		q.Set("lang", l.code)
		v.Switch = append(v.Switch, langLink{Lang: l.code, Name: l.name, Href: r.URL.Path + "?" + q.Encode(), Current: l.code == lang})
	}
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
		s.log.Error("web: rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// language picks the page's language: ?lang= (remembered in a cookie),
// then the cookie, then the browser's Accept-Language (the site language
// it prefers; Japanese, the city's language, if it names none).
func (s *Site) language(w http.ResponseWriter, r *http.Request) string {
	if l := siteLanguage(r.URL.Query().Get("lang")); l != "" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 60 * 60,
			SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: r.TLS != nil})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && siteLanguage(c.Value) != "" {
		return siteLanguage(c.Value)
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// siteLanguage maps a language tag to the site language that serves it,
// or "": ja, en and ko by their primary subtag (ko-KR is ko), and every
// Chinese tag (zh, zh-CN, zh-Hans, also zh-TW) to simplified Chinese, the
// one Chinese the site has. Case does not matter.
func siteLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch base {
	case "ja", "en", "ko":
		return base
	case "zh":
		return "zh-Hans"
	}
	return ""
}

// textSize reports whether the reader chose the larger text: ?text=large
// or ?text=normal sets it (kept in a cookie), else the cookie says.
func textSize(w http.ResponseWriter, r *http.Request) bool {
	if t := r.URL.Query().Get("text"); t == "large" || t == "normal" {
		http.SetCookie(w, &http.Cookie{Name: "text", Value: t, Path: "/", MaxAge: 365 * 24 * 60 * 60,
			SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: r.TLS != nil})
		return t == "large"
	}
	c, err := r.Cookie("text")
	return err == nil && c.Value == "large"
}

// fromAcceptLanguage returns the site language the header prefers (by q
// value, then order; see siteLanguage); "ja" if it names none.
func fromAcceptLanguage(header string) string {
	best, bestQ := "ja", -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		base := siteLanguage(tag)
		if base == "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}
