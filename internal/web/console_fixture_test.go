package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/demo"
)

// The console's tests run against their own server (the public pages'
// fixture keeps its elections as they are): elections are created, their
// ceremonies run in process, and the console moves them along.

const consoleToken = "test-admin-token-console"

type consoleFixture struct {
	url   string
	api   http.Handler
	admin *client.Client
}

var (
	consoleOnce sync.Once
	theConsole  *consoleFixture
	consoleErr  error
)

func getConsole(t *testing.T) *consoleFixture {
	t.Helper()
	consoleOnce.Do(func() { theConsole, consoleErr = newConsoleFixture() })
	if consoleErr != nil {
		t.Fatalf("console fixture: %v", consoleErr)
	}
	return theConsole
}

func newConsoleFixture() (*consoleFixture, error) {
	url, api, err := startSite(consoleToken, nil)
	if err != nil {
		return nil, err
	}
	return &consoleFixture{url: url, api: api, admin: client.New(url, consoleToken)}, nil
}

// exampleAs returns an example manifest with another id and n trustees
// of whom t decrypt.
func exampleAs(t *testing.T, name, id string, n, th int) []byte {
	t.Helper()
	data, err := examples.Manifest(name)
	if err != nil {
		t.Fatal(err)
	}
	var m ballot.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m.ID, m.Trustees, m.Threshold = id, n, th
	// The console's tests cast a ballot or two, and decrypt them.
	one := 1
	m.Privacy = &one
	out, err := json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readyElection creates an election from an example and runs its whole
// key ceremony: it is in setup, ready to open.
func (f *consoleFixture) readyElection(t *testing.T, name, id string) (manifest []byte, trustees []*ceremony.Trustee, tokens []string) {
	t.Helper()
	ctx := context.Background()
	manifest = exampleAs(t, name, id, 3, 2)
	var created api.Created
	if err := f.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	trustees, err := demo.ServerCeremony(ctx, f.url, id, manifest, created.TrusteeTokens)
	if err != nil {
		t.Fatal(err)
	}
	return manifest, trustees, created.TrusteeTokens
}

// partialElection creates an election of three trustees of whom only the
// first two have announced.
func (f *consoleFixture) partialElection(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	manifest := exampleAs(t, "referendum", id, 3, 2)
	var created api.Created
	if err := f.admin.Do(ctx, "POST", "/api/v1/elections", "application/json", manifest, &created); err != nil {
		t.Fatal(err)
	}
	manifest, err := demo.ServerManifest(ctx, f.url, id, manifest)
	if err != nil {
		t.Fatal(err)
	}
	h := ballot.Hash(manifest)
	for j := 1; j <= 2; j++ {
		_, ann, err := ceremony.NewTrustee(rand.Reader, ceremony.Params{N: 3, T: 2}, h[:], j, fmt.Sprintf("受託者%d", j))
		if err != nil {
			t.Fatal(err)
		}
		if err := client.New(f.url, created.TrusteeTokens[j-1]).PostCeremony(ctx, id, ceremony.RoundAnnounce, ann); err != nil {
			t.Fatal(err)
		}
	}
}

// --- An administrator's browser, for the HTTP tests.

type adminSession struct {
	t      *testing.T
	base   string
	cookie *http.Cookie
	lang   string
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (a *adminSession) do(req *http.Request) (*http.Response, string) {
	a.t.Helper()
	if a.cookie != nil {
		req.AddCookie(a.cookie)
	}
	if a.lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: a.lang})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, string(body)
}

func (a *adminSession) get(path string) (*http.Response, string) {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.base+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.do(req)
}

func (a *adminSession) post(path string, form url.Values) (*http.Response, string) {
	a.t.Helper()
	req, err := http.NewRequest("POST", a.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

// postFile posts a multipart form with a file.
func (a *adminSession) postFile(path string, form url.Values, field, filename string, content []byte) (*http.Response, string) {
	a.t.Helper()
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		a.t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, err := http.NewRequest("POST", a.base+path, strings.NewReader(b.String()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return a.do(req)
}

// signIn signs in and returns the session.
func signIn(t *testing.T, f *consoleFixture, lang string) *adminSession {
	t.Helper()
	a := &adminSession{t: t, base: f.url, lang: lang}
	resp, body := a.post("/admin/signin", url.Values{"token": {consoleToken}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d:\n%s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "koe_admin" {
			a.cookie = c
		}
	}
	if a.cookie == nil {
		t.Fatal("sign-in set no koe_admin cookie")
	}
	return a
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the console's forms.
func (a *adminSession) csrf() string {
	a.t.Helper()
	_, body := a.get("/admin")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		a.t.Fatalf("no csrf field in the console:\n%s", body)
	}
	return m[1]
}

var (
	formTag   = regexp.MustCompile(`(?s)<form[^>]*id="editor"[^>]*>(.*?)</form>`)
	inputTag  = regexp.MustCompile(`<input ([^>]*)>`)
	attr      = regexp.MustCompile(`(\w[\w-]*)(?:="([^"]*)")?`)
	selectTag = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selected  = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	textarea  = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
)

// editorForm reads the values of the editor's form in a page, as a
// browser would submit them (without the buttons).
func editorForm(t *testing.T, body string) url.Values {
	t.Helper()
	m := formTag.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no editor form in:\n%s", body)
	}
	form := m[1]
	// The preview's inputs are disabled and have no value to submit.
	if i := strings.Index(form, `<section id="preview"`); i >= 0 {
		if j := strings.Index(form[i:], "</section>"); j >= 0 {
			form = form[:i] + form[i+j:]
		}
	}
	v := url.Values{}
	for _, in := range inputTag.FindAllStringSubmatch(form, -1) {
		attrs := map[string]string{}
		for _, a := range attr.FindAllStringSubmatch(in[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		name, ok := attrs["name"]
		if !ok {
			continue
		}
		if attrs["type"] == "checkbox" {
			if _, on := attrs["checked"]; on {
				v.Add(name, "on")
			}
			continue
		}
		v.Add(name, attrs["value"])
	}
	for _, s := range selectTag.FindAllStringSubmatch(form, -1) {
		if o := selected.FindStringSubmatch(s[2]); o != nil {
			v.Set(s[1], o[1])
		} else if o := regexp.MustCompile(`<option value="([^"]*)"`).FindStringSubmatch(s[2]); o != nil {
			v.Set(s[1], o[1])
		}
	}
	for _, ta := range textarea.FindAllStringSubmatch(form, -1) {
		v.Set(ta[1], html.UnescapeString(ta[2]))
	}
	return v
}
