package web

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
)

// Branding is the city's own face on every page (SPEC §15.9): its name
// and logo in the header, its contact and a link to its privacy notice in
// the footer. It is configured once, in a site file that `koe serve
// --site` reads.
type Branding struct {
	Name    ballot.Text
	Contact ballot.Text // empty: none
	Privacy ballot.Text // the privacy notice; empty: none
	URL     string      // the city's own web site; empty: none
	// Logo is the logo image and LogoType its media type; nil: none.
	Logo     []byte
	LogoType string
}

// siteFile is the site file's JSON form.
type siteFile struct {
	Name    ballot.Text  `json:"name"`
	Contact *ballot.Text `json:"contact,omitempty"`
	Privacy *ballot.Text `json:"privacy,omitempty"`
	URL     string       `json:"url,omitempty"`
	Logo    string       `json:"logo,omitempty"`
}

// Limits of a site file (SPEC §15.9).
const (
	maxSiteFile    = 64 << 10
	maxSiteName    = 200
	maxSiteContact = 1000
	maxSiteNotice  = 20000
	maxLogo        = 256 << 10
)

// LoadBranding reads a site file; its logo is a file named relative to it.
func LoadBranding(file string) (*Branding, error) {
	data, err := record.ReadBinary(file, maxSiteFile)
	if err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	dir := filepath.Dir(file)
	return ParseBranding(data, func(name string) ([]byte, error) {
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("%q is not a file name inside the site file's directory", name)
		}
		return record.ReadBinary(filepath.Join(dir, name), maxLogo)
	})
}

// ParseBranding reads a site file strictly: the fields of SPEC §15.9 and
// no others, the texts checked as a manifest's labels are, no control
// characters but line breaks in the contact and the notice, an http(s)
// URL, and a PNG, JPEG, WebP or SVG logo that readLogo returns.
func ParseBranding(data []byte, readLogo func(name string) ([]byte, error)) (*Branding, error) {
	if len(data) > maxSiteFile {
		return nil, fmt.Errorf("site file: larger than %d bytes", maxSiteFile)
	}
	var f siteFile
	if err := strictjson.Decode(data, &f); err != nil {
		return nil, fmt.Errorf("site file: %w", err)
	}
	b := &Branding{Name: f.Name, URL: f.URL}
	if err := checkSiteText("name", f.Name, maxSiteName, false); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		field string
		in    *ballot.Text
		out   *ballot.Text
		max   int
	}{{"contact", f.Contact, &b.Contact, maxSiteContact}, {"privacy", f.Privacy, &b.Privacy, maxSiteNotice}} {
		if t.in == nil {
			continue
		}
		if err := checkSiteText(t.field, *t.in, t.max, true); err != nil {
			return nil, err
		}
		*t.out = *t.in
	}
	if f.URL != "" {
		u, err := url.Parse(f.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.ContainsFunc(f.URL, unicode.IsControl) {
			return nil, fmt.Errorf("site file: url %q is not an http or https address", f.URL)
		}
	}
	if f.Logo != "" {
		logo, err := readLogo(f.Logo)
		if err != nil {
			return nil, fmt.Errorf("site file: logo: %w", err)
		}
		if len(logo) > maxLogo {
			return nil, fmt.Errorf("site file: logo: larger than %d bytes", maxLogo)
		}
		if b.LogoType = imageType(logo); b.LogoType == "" {
			return nil, fmt.Errorf("site file: logo %s is not a PNG, JPEG, WebP or SVG image", f.Logo)
		}
		b.Logo = logo
	}
	return b, nil
}

// checkSiteText checks one text of the site file; lines allows line
// breaks (a contact's address, a notice's paragraphs).
func checkSiteText(field string, t ballot.Text, max int, lines bool) error {
	if err := ballot.CheckText(field, t, max); err != nil {
		return fmt.Errorf("site file: %w", err)
	}
	for _, s := range append([]string{t.Ja, t.En}, slices.Collect(maps.Values(t.Other))...) {
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && !(lines && r == '\n') }) {
			return fmt.Errorf("site file: %s: a control character (only line breaks are allowed%s)", field, map[bool]string{false: ", and not in a name", true: ""}[lines])
		}
	}
	return nil
}

// imageType is the media type of a logo, by its first bytes; "" for any
// other file.
func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(b) > 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	head := bytes.TrimLeft(b, " \t\r\n\xef\xbb\xbf")
	if (bytes.HasPrefix(head, []byte("<svg")) || bytes.HasPrefix(head, []byte("<?xml"))) && bytes.Contains(b, []byte("<svg")) {
		return "image/svg+xml"
	}
	return ""
}

// Paragraphs splits a text in lang at its blank lines.
func (v *view) Paragraphs(t ballot.Text) []string {
	var ps []string
	for _, p := range strings.Split(strings.ReplaceAll(t.In(v.Lang), "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// City is the city's branding, nil when none is configured.
func (v *view) City() *Branding { return v.site.opts.Branding }

// logo serves the city's logo. An SVG logo is an image only: a policy
// that runs no script and loads nothing, were it opened as a page.
func (s *Site) logo(w http.ResponseWriter, r *http.Request) {
	b := s.opts.Branding
	if b == nil || b.Logo == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", b.LogoType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cache-Control", "public, max-age=3600")
	w.Write(b.Logo)
}

// privacy is the city's privacy notice page.
func (s *Site) privacy(r *request) (string, any, error) {
	if b := s.opts.Branding; b == nil || b.Privacy.Ja == "" {
		return "", nil, errNotFound
	}
	return "privacy", nil, nil
}
