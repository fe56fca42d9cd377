// Package letters writes the letters that bring each voter their voter
// number and one-time code, as a print-ready PDF (SPEC.md §15.3 Letters):
// an A4 letter a page, or a postcard (100 × 148 mm, the Japanese official
// postcard) a page whose code sits in a marked area for a peel-off seal.
// Each has the booth's address as text and as a QR code.
//
// The package only lays out words it is given: the caller translates them.
// It keeps nothing: the codes exist in the letters it writes and nowhere
// else, since the server keeps only keyed hashes of them.
package letters

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"rsc.io/qr"
)

// Size is a letter's paper size.
type Size int

const (
	A4       Size = iota // 210 × 297 mm, portrait, a letter a page
	Postcard             // 100 × 148 mm, portrait, a sealed-code postcard a page
)

// ParseSize reads "a4" or "postcard".
func ParseSize(s string) (Size, error) {
	switch s {
	case "a4":
		return A4, nil
	case "postcard":
		return Postcard, nil
	}
	return 0, fmt.Errorf("letter size %q: want a4 or postcard", s)
}

func (s Size) String() string { return [...]string{"a4", "postcard"}[s] }

// Millimetres returns the paper's width and height.
func (s Size) Millimetres() (w, h float64) {
	if s == Postcard {
		return 100, 148
	}
	return 210, 297
}

// Words are one language's words of a letter, translated by the caller.
type Words struct {
	Lang        string // BCP 47 tag: ja, en
	Head        string // 投票のご案内
	Title       string // the election's title
	Private     string // the letter is yours alone; the code works once
	VoterLabel  string // 選挙人番号
	CodeLabel   string // ワンタイムコード
	SealLabel   string // (postcard) the code is under the seal
	BoothLabel  string // 投票ページ
	ClosesLabel string // 締切
	Closes      string // the closing time, as a resident reads it ("" if none)
	Steps       []string
	MoreLabel   string // 投票と結果について：
	ContactHead string // お問い合わせ
}

// Sheet is what every letter of a document shares.
type Sheet struct {
	Size     Size
	City     string // the city's name, on top ("" for none)
	Contact  string // the city's contact line, at the foot ("" for none)
	Booth    string // the booth's URL, as text and QR code
	Overview string // the election's public page
	// Words: the first language is the letter's; an A4 letter has the
	// others' words below it, a postcard only their labels.
	Words []Words
}

// Letter is one voter's.
type Letter struct{ Voter, Code string }

// MaxLetters bounds one document.
const MaxLetters = 5000

// ErrTooMany is returned for more letters than MaxLetters.
var ErrTooMany = fmt.Errorf("more than %d letters in one PDF", MaxLetters)

// ErrTooLong is returned when a letter's words do not fit on its page.
var ErrTooLong = errors.New("the letter's words do not fit on one")

// Write writes the letters as a PDF to w, one a page.
func Write(w io.Writer, font *Font, s *Sheet, letters []Letter) (err error) {
	switch {
	case font == nil:
		return ErrNoFont
	case s == nil:
		return errors.New("letters without a sheet")
	case len(letters) == 0:
		return errors.New("no letters to write")
	case len(letters) > MaxLetters:
		return ErrTooMany
	case len(s.Words) == 0:
		return errors.New("letters without words")
	case s.Size != A4 && s.Size != Postcard:
		return fmt.Errorf("letter size %d unknown", s.Size)
	}
	code, err := qr.Encode(s.Booth, qr.M)
	if err != nil {
		return fmt.Errorf("the booth's QR code: %w", err)
	}
	// The PDF writer panics on some fonts it cannot read; ParseFont has
	// checked what it reads, and this turns anything left into an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing the letters' PDF (font %s): %v", font.path, p)
		}
	}()
	wd, ht := s.Size.Millimetres()
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: wd, Ht: ht}})
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetCreator("koe", false)
	pdf.SetTitle(s.Words[0].Title, true)
	pdf.SetLang(s.Words[0].Lang)
	now := time.Now().UTC().Truncate(time.Minute)
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.AddUTF8FontFromBytes(fontName, "", font.data)
	if pdf.Err() {
		return pdf.Error()
	}
	l := &layout{pdf: pdf, font: font, s: s, qr: code}
	for i, lt := range letters {
		if !utf8.ValidString(lt.Voter) || !utf8.ValidString(lt.Code) || lt.Voter == "" || lt.Code == "" {
			return errors.New("a letter without a valid voter number or code")
		}
		// Checked before the writer sees them (it panics beyond the BMP);
		// the error names the letter by position, never by its voter.
		if l.check(lt.Voter + lt.Code); l.missing != 0 {
			return fmt.Errorf("%w in the voter number or code of letter %d: U+%04X", ErrGlyph, i+1, l.missing)
		}
		pdf.AddPage()
		if s.Size == Postcard {
			l.postcard(lt)
		} else {
			l.a4(lt)
		}
		if pdf.Err() {
			return pdf.Error()
		}
		if l.missing != 0 {
			return fmt.Errorf("%w of the letter's words (U+%04X %q)", ErrGlyph, l.missing, l.missing)
		}
		if l.overflow {
			return fmt.Errorf("%w %s page: shorten the title or the contact line", ErrTooLong, s.Size)
		}
	}
	return pdf.Output(w)
}

const fontName = "koe"

type layout struct {
	pdf      *fpdf.Fpdf
	font     *Font
	s        *Sheet
	qr       *qr.Code
	overflow bool // the words ran into the footer
	missing  rune // a character of the words the font lacks (0: none)
}

// ErrGlyph is returned for a character the font has no glyph for: the
// letter is refused rather than printed with a blank box in its place.
var ErrGlyph = errors.New("the letters' font has no glyph for a character")

// check notes a character of s the font cannot print.
func (l *layout) check(s string) {
	for _, r := range s {
		if l.missing == 0 && !unicode.IsSpace(r) && !l.font.Has(r) {
			l.missing = r
		}
	}
}

const ptmm = 25.4 / 72 // millimetres in a point

// text writes s wrapped to width w at (x, y) (y is the top of the first
// line), size in points, and returns the y below it.
func (l *layout) text(x, y, w, size float64, s string) float64 {
	if l.check(s); l.missing != 0 {
		return y
	}
	l.pdf.SetFontSize(size)
	lead := size * ptmm * 1.45
	for _, line := range l.wrap(s, w) {
		l.pdf.Text(x, y+size*ptmm*1.05, line)
		y += lead
	}
	return y
}

// grey sets the text colour for labels.
func (l *layout) grey(on bool) {
	if on {
		l.pdf.SetTextColor(70, 70, 70)
	} else {
		l.pdf.SetTextColor(0, 0, 0)
	}
}

// mono writes s in fixed cells of cell mm each, every character centred
// in its cell, so that a code reads as a monospace one in any font: the
// groups line up and no character crowds another. The size shrinks so
// that the widest character (of s and of ref: the code alphabet, for the
// same size on every letter) fills at most 92% of a cell, and cell and size shrink together so that s fits in
// maxW mm (a long voter id). It returns the width written.
func (l *layout) mono(x, baseline, size, cell, maxW float64, ref, s string) float64 {
	if w := monoWidth(s, cell); w > maxW {
		size, cell = size*maxW/w, cell*maxW/w
	}
	l.pdf.SetFontSize(size)
	widest := 0.0
	for _, r := range ref + s {
		widest = max(widest, l.pdf.GetStringWidth(string(r)))
	}
	if widest > 0.92*cell {
		l.pdf.SetFontSize(size * 0.92 * cell / widest)
	}
	at := x
	for _, r := range s {
		c, w := string(r), cellWidth(r, cell)
		l.pdf.Text(at+(w-l.pdf.GetStringWidth(c))/2, baseline, c)
		at += w
	}
	return at - x
}

// codeAlphabet is the one-time codes' (SPEC.md §15.3).
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// cellWidth is a character's cell: a hyphen, which only separates the
// groups, has a narrower one.
func cellWidth(r rune, cell float64) float64 {
	if r == '-' {
		return cell * 0.6
	}
	return cell
}

// monoWidth is the width mono writes s in.
func monoWidth(s string, cell float64) float64 {
	w := 0.0
	for _, r := range s {
		w += cellWidth(r, cell)
	}
	return w
}

// qrCode draws the booth's QR code, side mm wide, its top left corner at
// (x, y), with the quiet zone of 4 modules inside side. The modules are
// filled rectangles in a coordinate system of one unit a module, marked
// as the content /KoeQR so a test can read the matrix back.
func (l *layout) qrCode(x, y, side float64) {
	n := l.qr.Size
	m := side / float64(n+8) / ptmm // a module, in points
	_, ht := l.pdf.GetPageSize()
	x0, y0 := (x/ptmm)+4*m, (ht-y)/ptmm-4*m // the top left module's corner, in PDF space
	var b strings.Builder
	fmt.Fprintf(&b, "/KoeQR BMC q 0 g %.4f 0 0 %.4f %.4f %.4f cm\n", m, -m, x0, y0)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !l.qr.Black(col, row) {
				col++
				continue
			}
			run := col
			for run < n && l.qr.Black(run, row) {
				run++
			}
			fmt.Fprintf(&b, "%d %d %d 1 re\n", col, row, run-col)
			col = run
		}
	}
	b.WriteString("f Q EMC\n")
	l.pdf.RawWriteStr(b.String())
}

// a4 lays out one A4 letter.
func (l *layout) a4(lt Letter) {
	p, s, w0 := l.pdf, l.s, s0(l.s)
	const left, width = 20.0, 170.0
	p.SetFont(fontName, "", 11)
	y := 18.0
	l.grey(true)
	if s.City != "" {
		y = l.text(left, y, width, 12, s.City)
	}
	y = l.text(left, y+1, width, 10, w0.Head)
	l.grey(false)
	y = l.text(left, y+1, width, 18, w0.Title)
	y = l.text(left, y+3, width, 10.5, w0.Private)

	// The box with the voter number and the code.
	y += 4
	boxTop := y
	p.SetDrawColor(0, 0, 0)
	p.SetLineWidth(0.5)
	l.grey(true)
	y = l.text(left+6, y+5, width-12, 9.5, l.labels(func(w Words) string { return w.VoterLabel }))
	l.grey(false)
	l.mono(left+6, y+6, 15, 5, width-12, "", lt.Voter)
	y += 10
	l.grey(true)
	y = l.text(left+6, y+2, width-12, 9.5, l.labels(func(w Words) string { return w.CodeLabel }))
	l.grey(false)
	l.mono(left+6, y+10, 27, 8.4, width-12, codeAlphabet, lt.Code)
	y += 16
	p.RoundedRect(left, boxTop, width, y-boxTop, 3, "1234", "D")

	// The booth: its address and QR code, the closing time.
	y += 7
	const qrSide = 38.0
	top := y
	textW := width - qrSide - 6
	l.grey(true)
	y = l.text(left, y, textW, 10, w0.BoothLabel)
	l.grey(false)
	y = l.text(left, y+0.5, textW, 11, s.Booth)
	if w0.Closes != "" {
		l.grey(true)
		y = l.text(left, y+3, textW, 10, w0.ClosesLabel)
		l.grey(false)
		y = l.text(left, y+0.5, textW, 12, w0.Closes)
	}
	l.qrCode(left+width-qrSide, top-4, qrSide)
	y = max(y, top-4+qrSide) + 3

	for i, step := range w0.Steps {
		p.SetFontSize(10.5)
		p.Text(left, y+10.5*ptmm*1.05, fmt.Sprintf("%d.", i+1))
		y = l.text(left+6, y, width-6, 10.5, step) + 1
	}
	y = l.text(left, y+2, width, 9.5, w0.MoreLabel+" "+s.Overview)

	// The other languages, smaller.
	for _, w := range s.Words[1:] {
		y += 4
		p.SetLineWidth(0.2)
		p.Line(left, y, left+width, y)
		y += 3
		y = l.text(left, y, width, 9, w.Head+": "+w.Title)
		y = l.text(left, y+1, width, 8.5, w.Private)
		y = l.text(left, y+1, width, 8.5, w.BoothLabel+": "+s.Booth)
		if w.Closes != "" {
			y = l.text(left, y, width, 8.5, w.ClosesLabel+": "+w.Closes)
		}
		for i, step := range w.Steps {
			y = l.text(left, y+0.5, width, 8.5, fmt.Sprintf("%d. %s", i+1, step))
		}
		y = l.text(left, y+0.5, width, 8.5, w.MoreLabel+" "+s.Overview)
	}
	l.footer(left, width, 297-14, 9, y)
}

// postcard lays out one postcard's message side (the address side is the
// city's own mailing: koe knows no addresses).
func (l *layout) postcard(lt Letter) {
	p, s, w0 := l.pdf, l.s, s0(l.s)
	const left, width = 7.0, 86.0
	p.SetFont(fontName, "", 8)
	y := 6.0
	l.grey(true)
	head := w0.Head
	if s.City != "" {
		head = s.City + "　" + head
	}
	y = l.text(left, y, width, 8, head)
	l.grey(false)
	y = l.text(left, y+0.5, width, 11, w0.Title)

	l.grey(true)
	y = l.text(left, y+1.5, width, 7.5, l.labels(func(w Words) string { return w.VoterLabel }))
	l.grey(false)
	l.mono(left, y+4.2, 11, 3.5, width, "", lt.Voter)
	y += 6.5

	// The code, in the area a seal covers: a dashed frame with corner
	// marks, SealW × SealH mm, centred.
	l.grey(true)
	y = l.text(left, y+1, width, 7.5, l.labels(func(w Words) string { return w.CodeLabel })+"　"+w0.SealLabel)
	l.grey(false)
	y += 4
	sx := left + (width-SealW)/2
	p.SetLineWidth(0.3)
	p.SetDashPattern([]float64{1.2, 0.8}, 0)
	p.Rect(sx, y, SealW, SealH, "D")
	p.SetDashPattern(nil, 0)
	for _, c := range [][4]float64{{sx, y, 1, 1}, {sx + SealW, y, -1, 1}, {sx, y + SealH, 1, -1}, {sx + SealW, y + SealH, -1, -1}} {
		p.Line(c[0]-c[2]*1, c[1], c[0]-c[2]*3, c[1])
		p.Line(c[0], c[1]-c[3]*1, c[0], c[1]-c[3]*3)
	}
	const cell = 4.2
	cw := min(monoWidth(lt.Code, cell), SealW-4)
	l.mono(sx+(SealW-cw)/2, y+SealH/2+1.8, 15, cell, SealW-4, codeAlphabet, lt.Code)
	y += SealH + 6

	const qrSide = 27.0
	top := y
	textW := width - qrSide - 3
	l.grey(true)
	y = l.text(left, y, textW, 7.5, w0.BoothLabel)
	l.grey(false)
	y = l.text(left, y, textW, 8.5, s.Booth)
	if w0.Closes != "" {
		l.grey(true)
		y = l.text(left, y+1, textW, 7.5, w0.ClosesLabel)
		l.grey(false)
		y = l.text(left, y, textW, 8.5, w0.Closes)
	}
	l.qrCode(left+width-qrSide, top-2, qrSide)
	y = max(y, top-2+qrSide) + 1

	for i, step := range w0.Steps {
		y = l.text(left, y, width, 7.5, fmt.Sprintf("%d. %s", i+1, step))
	}
	y = l.text(left, y+1, width, 7, w0.Private)
	l.footer(left, width, 148-6, 7, y)
}

// SealW and SealH are the postcard's seal area, in millimetres: a seal at
// least this large covers the code.
const SealW, SealH = 80.0, 13.0

// footer writes the contact line at the foot of the page, above baseline y.
// above is the y the letter's words reached: they must end above the
// footer (or, without one, the bottom margin), else the letter is refused.
func (l *layout) footer(left, width, y, size, above float64) {
	top := y
	if l.s.Contact != "" {
		w0 := s0(l.s)
		line := l.s.Contact
		if w0.ContactHead != "" {
			line = w0.ContactHead + "：" + line
		}
		l.pdf.SetFontSize(size)
		top = y - float64(len(l.wrap(line, width)))*size*ptmm*1.45
		l.pdf.SetLineWidth(0.2)
		l.pdf.Line(left, top-1.5, left+width, top-1.5)
		l.text(left, top, width, size, line)
	}
	if above > top-2 {
		l.overflow = true
	}
}

// labels joins a label in every language: 選挙人番号 Voter number.
func (l *layout) labels(f func(Words) string) string {
	var parts []string
	for _, w := range l.s.Words {
		if t := f(w); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "　")
}

func s0(s *Sheet) Words { return s.Words[0] }

// wrap breaks s into lines no wider than w mm at the current font size:
// between words of Latin text, between any two characters of Japanese,
// never before closing punctuation (、。）」 and the like, kinsoku), and
// anywhere in a word too long for a line (a URL).
func (l *layout) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, l.wrapPara(para, w)...)
	}
	return lines
}

func (l *layout) wrapPara(s string, w float64) []string {
	width := l.pdf.GetStringWidth
	var lines []string
	line := ""
	for _, u := range units(s) {
		if width(line+u) <= w {
			line += u
			continue
		}
		if t := strings.TrimRight(line, " "); t != "" {
			lines = append(lines, t)
		}
		line = strings.TrimLeft(u, " ")
		for width(line) > w { // a unit longer than a line: break it after a slash, or anywhere
			cut, slash := 0, 0
			for i, r := range line {
				if i > 0 && width(line[:i]) > w {
					break
				}
				cut = i
				if r == '/' && i > 0 {
					slash = i + 1
				}
			}
			if slash > 0 && slash <= cut+1 && width(line[:slash]) <= w {
				cut = slash
			}
			if cut == 0 {
				_, cut = utf8.DecodeRuneInString(line)
			}
			lines = append(lines, line[:cut])
			line = line[cut:]
		}
	}
	if t := strings.TrimRight(line, " "); t != "" || len(lines) == 0 {
		lines = append(lines, t)
	}
	return lines
}

// units splits s into the pieces a line may break between: a Latin word
// with the spaces after it, or one Japanese character; closing punctuation
// stays with what comes before it, opening with what follows.
func units(s string) []string {
	var out []string
	cur := ""
	flush := func() {
		if cur != "" {
			out = append(out, cur)
			cur = ""
		}
	}
	open := false // cur ends with opening punctuation: keep the next with it
	for _, r := range s {
		switch {
		case strings.ContainsRune(closing, r):
			if cur == "" && len(out) > 0 {
				cur = out[len(out)-1]
				out = out[:len(out)-1]
			}
			cur += string(r)
		case wide(r):
			if !open {
				flush()
			}
			cur += string(r)
		case r == ' ':
			cur += " "
		default:
			if strings.HasSuffix(cur, " ") || cur != "" && wide(lastRune(cur)) && !open {
				flush()
			}
			cur += string(r)
		}
		open = strings.ContainsRune(opening, r)
	}
	flush()
	return out
}

const (
	closing = "、。，．・：；？！）」』】〕ー～ぁぃぅぇぉっゃゅょァィゥェォッャュョ,.;:!?)"
	opening = "（「『【〔("
)

func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}

func lastRune(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }
