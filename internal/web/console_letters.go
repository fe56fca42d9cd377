package web

// The letters as PDF (SPEC.md §15.3 Letters): A4, or a postcard with the
// code in the area a peel-off seal covers. Like the printable letters
// page, a PDF is made from codes the administrator posts, in the same
// response, and nothing of it is kept: the codes exist in the browser's
// page, the download and the paper only.

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/letters"
)

// letterFont loads the letters' font (Options.LetterFont, or Debian's
// IPAex Gothic) and keeps it once read; a missing font is looked for
// again at the next request, so installing it needs no restart.
type letterFont struct {
	path string
	mu   sync.Mutex
	font *letters.Font
}

func (lf *letterFont) get() (*letters.Font, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.font != nil {
		return lf.font, nil
	}
	f, err := letters.LoadFont(lf.path)
	if err != nil {
		return nil, err
	}
	lf.font = f
	return f, nil
}

// problem says why the letters cannot be made as PDF ("" if they can),
// for the codes page to say so before the administrator tries.
func (lf *letterFont) problem() string {
	if _, err := lf.get(); err != nil {
		return err.Error()
	}
	return ""
}

func errLetterFont(err error) error {
	return &pageError{status: http.StatusServiceUnavailable, title: "console.err.font.title", detail: "console.err.font.detail", args: []any{err.Error()}}
}

// LetterSheet returns the words of an election's letters, in Japanese
// and English, for a PDF of the given size (koe admin letters); times in
// loc (nil: Japan Standard Time).
func LetterSheet(info *api.ElectionInfo, size letters.Size, booth, overview, city, contact string, loc *time.Location) (*letters.Sheet, error) {
	m, err := ballot.ParseManifest(info.Manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", info.ID, err)
	}
	if loc == nil {
		loc = time.FixedZone("JST", 9*60*60)
	}
	s, ev := &Site{opts: Options{Location: loc}}, &electionView{Info: info, Manifest: m}
	return &letters.Sheet{Size: size, City: city, Contact: contact, Booth: booth, Overview: overview,
		Words: []letters.Words{s.letterWords("ja", ev), s.letterWords("en", ev)}}, nil
}

// ParseCodes reads a codes CSV (voter_id,code, with that header), as
// koe admin roll and the console write it.
func ParseCodes(data []byte) ([]letters.Letter, error) {
	codes, err := parseCodes(data)
	if err != nil {
		return nil, err
	}
	out := make([]letters.Letter, len(codes))
	for i, c := range codes {
		out[i] = letters.Letter{Voter: c.Voter, Code: c.Code}
	}
	return out, nil
}

// letterWords are a letter's words in lang, a survey's where it is one.
func (s *Site) letterWords(lang string, ev *electionView) letters.Words {
	v := &view{Lang: lang, site: s, survey: ev.survey()}
	w := letters.Words{Lang: lang, Head: v.T("console.letter.head"), Title: v.L(ev.Info.Title), Private: v.T("console.letter.private"),
		VoterLabel: v.T("console.letter.voter"), CodeLabel: v.T("console.letter.code"), SealLabel: v.T("console.letter.seal"),
		BoothLabel: v.T("console.letter.booth"), ClosesLabel: v.T("overview.closes"), MoreLabel: v.T("console.letter.more"),
		ContactHead: v.T("console.letter.contact"),
		Steps:       []string{v.T("console.letter.step1"), v.T("console.letter.step2"), v.T("console.letter.step3")}}
	if ev.Manifest != nil && ev.Manifest.Closes != "" {
		w.Closes = v.Date(ev.Manifest.Closes)
	}
	return w
}

// letterPDF writes the letters of d as a PDF download of the given size.
func (c *console) letterPDF(r *creq, size letters.Size, d *lettersData) error {
	font, err := c.s.font.get()
	if err != nil {
		return errLetterFont(err)
	}
	sheet := &letters.Sheet{Size: size, City: c.s.opts.City, Contact: c.s.opts.Contact, Booth: d.Booth, Overview: d.Overview,
		Words: []letters.Words{c.s.letterWords("ja", d.electionView), c.s.letterWords("en", d.electionView)}}
	ls := make([]letters.Letter, len(d.Letters))
	for i, l := range d.Letters {
		ls[i] = letters.Letter{Voter: l.Voter, Code: l.Code}
	}
	// Whole before it is sent: an error is an error page, not half a PDF.
	var b bytes.Buffer
	if err := letters.Write(&b, font, sheet, ls); err != nil {
		if errors.Is(err, letters.ErrNoFont) {
			return errLetterFont(err)
		}
		if errors.Is(err, letters.ErrGlyph) {
			return &pageError{status: http.StatusUnprocessableEntity, title: "console.err.glyph.title", detail: "console.err.glyph.detail", args: []any{err.Error()}}
		}
		if errors.Is(err, letters.ErrTooLong) {
			return &pageError{status: http.StatusUnprocessableEntity, title: "console.err.fit.title", detail: "console.err.fit.detail"}
		}
		return fmt.Errorf("letters: %w", err) // never a code: Write's errors name none
	}
	h := r.w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-letters-%s-%d-%d.pdf"`, d.Info.ID, size, d.From, d.From+len(ls)-1))
	h.Set("Content-Length", fmt.Sprint(b.Len()))
	r.w.Write(b.Bytes()) // an error here is the browser's going away
	return nil
}
