package letters

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"rsc.io/qr"
)

// testFont loads the letters' font, which scripts/fonts installs: without
// it the tests skip, unless $CI is set.
func testFont(t testing.TB) *Font {
	t.Helper()
	f, err := LoadFont(os.Getenv("KOE_LETTER_FONT"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (%s)", err, FontHint)
		}
		t.Skipf("%v: %s", err, FontHint)
	}
	return f
}

// tool finds a program of poppler-utils or zbar-tools, which scripts/fonts
// installs: without it the test skips, unless $CI is set.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (scripts/fonts installs it)", name)
		}
		t.Skipf("%s is not installed (scripts/fonts installs it)", name)
	}
	return p
}

func sampleSheet(sz Size) *Sheet {
	return &Sheet{Size: sz, City: "つくば市", Contact: "つくば市 市民協働課　電話 029-883-1111（平日 8:30〜17:15）",
		Booth: "https://koe.city.tsukuba.example/elections/tsukuba-2026/vote", Overview: "https://koe.city.tsukuba.example/elections/tsukuba-2026",
		Words: []Words{{Lang: "ja", Head: "アンケートご回答のお願い", Title: "つくば市 市民意識調査 2026",
			Private:    "このご案内はあなただけのものです。下のワンタイムコードは一度しか使えません。他の人に見せないでください。",
			VoterLabel: "整理番号", CodeLabel: "ワンタイムコード", SealLabel: "（シールをはがすと見えます）", BoothLabel: "回答ページ",
			ClosesLabel: "締切", Closes: "2026年12月20日 17:00",
			Steps: []string{"回答ページを開き、整理番号とワンタイムコードを入力します。",
				"質問に答えて送信します。回答はあなたの端末で暗号化されます。締切までは何度でも回答し直せます。",
				"表示される追跡コードを控えておくと、公開掲示板で自分の回答が載っていることを確かめられます。"},
			MoreLabel: "アンケートと結果について：", ContactHead: "お問い合わせ"},
			{Lang: "en", Head: "Your invitation to answer", Title: "Tsukuba citizen survey 2026",
				Private:    "This letter is for you alone. The one-time code below works only once. Do not show it to anyone.",
				VoterLabel: "Reference number", CodeLabel: "One-time code", SealLabel: "(under the seal)", BoothLabel: "Survey page",
				ClosesLabel: "Closes", Closes: "20 December 2026, 17:00",
				Steps: []string{"Open the survey page and enter your reference number and one-time code.",
					"Answer the questions and send. Your answers are encrypted on your device. You may answer again until the survey closes.",
					"Note the tracking code you are shown: with it you can check that your answers are on the public board."},
				MoreLabel: "About the survey and its results:", ContactHead: "Contact"}}}
}

func sampleLetters(n int) []Letter {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var out []Letter
	for i := range n {
		var code []byte
		for j := range 16 {
			if j > 0 && j%4 == 0 {
				code = append(code, '-')
			}
			code = append(code, alphabet[(i*7+j*5+j*j)%len(alphabet)])
		}
		out = append(out, Letter{fmt.Sprintf("T-%06d", i+1), string(code)})
	}
	return out
}

func write(t *testing.T, f *Font, s *Sheet, letters []Letter) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, s, letters); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	pageObj  = regexp.MustCompile(`/Type /Page\n`)
	mediaBox = regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`)
	streamRE = regexp.MustCompile(`(?s)/Filter /FlateDecode /Length (\d+)>>\nstream\n`)
	qrRE     = regexp.MustCompile(`(?s)/KoeQR BMC q 0 g ([-0-9. ]+) cm\n(.*?)f Q EMC`)
	runRE    = regexp.MustCompile(`^(\d+) (\d+) (\d+) 1 re$`)
)

// streams returns the PDF's streams, inflated.
func streams(t *testing.T, pdf []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range streamRE.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		zr, err := zlib.NewReader(bytes.NewReader(pdf[m[1] : m[1]+n]))
		if err != nil {
			t.Fatalf("a stream does not inflate: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("a stream does not inflate: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// TestWrite writes letters on both sizes and reads them back: a page a
// letter, of the right size, each page's text with its voter number and
// code, the booth's address, the contact line, and the font embedded as
// a subset.
func TestWrite(t *testing.T) {
	font := testFont(t)
	pdftotext, pdffonts := tool(t, "pdftotext"), tool(t, "pdffonts")
	letters := sampleLetters(7)
	for _, tc := range []struct {
		size   Size
		wd, ht float64 // mm
	}{{A4, 210, 297}, {Postcard, 100, 148}} {
		t.Run(tc.size.String(), func(t *testing.T) {
			pdf := write(t, font, sampleSheet(tc.size), letters)
			if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
				t.Fatal("not a PDF file")
			}
			if n := len(pageObj.FindAll(pdf, -1)); n != len(letters) {
				t.Errorf("%d pages, want %d", n, len(letters))
			}
			m := mediaBox.FindSubmatch(pdf)
			if m == nil {
				t.Fatal("no MediaBox")
			}
			w, _ := strconv.ParseFloat(string(m[1]), 64)
			h, _ := strconv.ParseFloat(string(m[2]), 64)
			if math.Abs(w*ptmm-tc.wd) > 0.05 || math.Abs(h*ptmm-tc.ht) > 0.05 {
				t.Errorf("page %.2f × %.2f mm, want %v × %v", w*ptmm, h*ptmm, tc.wd, tc.ht)
			}
			// Every stream inflates; none of them is the whole 4 MB font.
			total := 0
			for _, s := range streams(t, pdf) {
				total += len(s)
			}
			if len(pdf) > 200<<10 || total > 1<<20 {
				t.Errorf("%d bytes (%d inflated): the font is not a subset", len(pdf), total)
			}
			file := filepath.Join(t.TempDir(), "letters.pdf")
			os.WriteFile(file, pdf, 0o600)
			fonts, err := exec.Command(pdffonts, file).CombinedOutput()
			if err != nil || !strings.Contains(string(fonts), "CID TrueType") || !regexp.MustCompile(`Identity-H\s+yes\s+\S+\s+yes`).Match(fonts) {
				t.Errorf("pdffonts: embedded CID TrueType font with a ToUnicode map expected:\n%s %v", fonts, err)
			}
			for i, lt := range letters {
				out, err := exec.Command(pdftotext, "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), file, "-").Output()
				if err != nil {
					t.Fatalf("pdftotext: %v", err)
				}
				text := strings.Join(strings.Fields(string(out)), "")
				for _, want := range []string{lt.Voter, lt.Code, "つくば市市民意識調査2026", "ワンタイムコード", "029-883-1111", "elections/tsukuba-2026/vote"} {
					if !strings.Contains(text, want) {
						t.Errorf("page %d has no %q:\n%s", i+1, want, out)
					}
				}
				// Once: on a postcard only under the seal.
				if n := strings.Count(text, lt.Code); n != 1 {
					t.Errorf("page %d has its code %d times, want once", i+1, n)
				}
				for _, other := range letters {
					if other != lt && strings.Contains(text, other.Code) {
						t.Errorf("page %d has %s's code", i+1, other.Voter)
					}
				}
			}
		})
	}
}

// TestQRMatrix reads the QR code's modules back from every page and
// compares them with rsc.io/qr's encoding of the booth's address.
func TestQRMatrix(t *testing.T) {
	font := testFont(t)
	for _, size := range []Size{A4, Postcard} {
		s := sampleSheet(size)
		want, err := qr.Encode(s.Booth, qr.M)
		if err != nil {
			t.Fatal(err)
		}
		pages := 0
		for _, st := range streams(t, write(t, font, s, sampleLetters(3))) {
			m := qrRE.FindSubmatch(st)
			if m == nil {
				continue
			}
			pages++
			got := make([][]bool, want.Size)
			for i := range got {
				got[i] = make([]bool, want.Size)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(m[2])), "\n") {
				r := runRE.FindStringSubmatch(line)
				if r == nil {
					t.Fatalf("%v: not a module run: %q", size, line)
				}
				x, _ := strconv.Atoi(r[1])
				y, _ := strconv.Atoi(r[2])
				n, _ := strconv.Atoi(r[3])
				if y >= want.Size || x+n > want.Size {
					t.Fatalf("%v: a run outside the code: %q", size, line)
				}
				for i := x; i < x+n; i++ {
					got[y][i] = true
				}
			}
			for y := range want.Size {
				for x := range want.Size {
					if got[y][x] != want.Black(x, y) {
						t.Fatalf("%v: module (%d, %d) is %v, want %v", size, x, y, got[y][x], want.Black(x, y))
					}
				}
			}
			// The module's size: the code with its quiet zone is 38 or 27 mm wide.
			f := strings.Fields(string(m[1]))
			mod, _ := strconv.ParseFloat(f[0], 64)
			side := map[Size]float64{A4: 38, Postcard: 27}[size]
			if got := mod * ptmm * float64(want.Size+8); math.Abs(got-side) > 0.01 {
				t.Errorf("%v: the QR code is %.2f mm wide, want %v", size, got, side)
			}
		}
		if pages != 3 {
			t.Errorf("%v: %d pages with a QR code, want 3", size, pages)
		}
	}
}

// TestQRDecodes renders a page of each size as a printer would and
// decodes its QR code with zbar: it is the booth's address. With
// KOE_SCREENSHOTS=1 the pages are saved as docs/screenshots/letter-a4.png
// and letter-postcard.png.
func TestQRDecodes(t *testing.T) {
	font := testFont(t)
	pdftoppm, zbarimg := tool(t, "pdftoppm"), tool(t, "zbarimg")
	dir := t.TempDir()
	for _, size := range []Size{A4, Postcard} {
		s := sampleSheet(size)
		file := filepath.Join(dir, size.String()+".pdf")
		os.WriteFile(file, write(t, font, s, sampleLetters(1)), 0o600)
		png := filepath.Join(dir, size.String())
		if out, err := exec.Command(pdftoppm, "-r", "150", "-png", "-singlefile", file, png).CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("pdftoppm (no warning expected): %v\n%s", err, out)
		}
		out, err := exec.Command(zbarimg, "-q", "--raw", png+".png").Output()
		if err != nil {
			t.Fatalf("%v: zbarimg finds no QR code: %v", size, err)
		}
		if got := strings.TrimSpace(string(out)); got != s.Booth {
			t.Errorf("%v: the QR code says %q, want %q", size, got, s.Booth)
		}
		if os.Getenv("KOE_SCREENSHOTS") == "1" { // docs/screenshots/letter-a4.png, letter-postcard.png
			shot := filepath.Join("..", "..", "docs", "screenshots", "letter-"+size.String())
			if out, err := exec.Command(pdftoppm, "-r", map[Size]string{A4: "100", Postcard: "160"}[size], "-png", "-singlefile", file, shot).CombinedOutput(); err != nil {
				t.Errorf("pdftoppm: %v\n%s", err, out)
			}
		}
	}
}

func TestWriteErrors(t *testing.T) {
	font := testFont(t)
	s := sampleSheet(A4)
	for name, tc := range map[string]struct {
		font    *Font
		sheet   *Sheet
		letters []Letter
		want    string
	}{
		"no font":      {nil, s, sampleLetters(1), ErrNoFont.Error()},
		"no letters":   {font, s, nil, "no letters"},
		"too many":     {font, s, make([]Letter, MaxLetters+1), "more than"},
		"no words":     {font, &Sheet{Booth: s.Booth}, sampleLetters(1), "without words"},
		"no code":      {font, s, []Letter{{"T-1", ""}}, "without a valid voter number or code"},
		"bad utf-8":    {font, s, []Letter{{"T-\xff", "ABCD"}}, "without a valid"},
		"size":         {font, &Sheet{Size: 9, Booth: s.Booth, Words: s.Words}, sampleLetters(1), "size 9"},
		"long address": {font, &Sheet{Booth: strings.Repeat("x", 4000), Words: s.Words}, sampleLetters(1), "QR code"},
		"emoji voter":  {font, s, []Letter{{"山田🙂", "ABCD-EFGH-JKLM-2345"}}, "no glyph for a character in the voter number or code of letter 1: U+1F642"},
		"rare kanji":   {font, &Sheet{Booth: s.Booth, Words: []Words{{Title: "𠮷野町の調査"}}}, sampleLetters(1), "no glyph for a character of the letter's words (U+20BB7"},
		"overflow":     {font, &Sheet{Size: Postcard, Booth: s.Booth, Contact: strings.Repeat("長い連絡先。", 60), Words: s.Words}, sampleLetters(1), "do not fit on one postcard page"},
		"overflow a4":  {font, &Sheet{Size: A4, Booth: s.Booth, Words: longWords(s.Words)}, sampleLetters(1), "do not fit on one a4 page"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Write(io.Discard, tc.font, tc.sheet, tc.letters)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func longWords(ws []Words) []Words {
	out := append([]Words(nil), ws...)
	out[0].Title = strings.Repeat("とても長い題名の調査です。", 100)
	return out
}

func TestParseSize(t *testing.T) {
	for _, s := range []Size{A4, Postcard} {
		if got, err := ParseSize(s.String()); err != nil || got != s {
			t.Errorf("ParseSize(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "A4", "letter", "b5"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
}

// TestFontErrors: a missing font, or a file that is not one the letters
// can embed, is a clear error, never a panic.
func TestFontErrors(t *testing.T) {
	if _, err := LoadFont(filepath.Join(t.TempDir(), "none.ttf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	saved := DefaultFonts
	DefaultFonts = []string{filepath.Join(t.TempDir(), "none.ttf")}
	_, err := LoadFont("")
	DefaultFonts = saved
	if !errors.Is(err, ErrNoFont) {
		t.Errorf("no font installed: %v", err)
	}
	good := testFont(t).data
	table := func(tag string) int { // the offset of a table's directory record
		for i := range int(good[4])<<8 | int(good[5]) {
			if string(good[12+16*i:16+16*i]) == tag {
				return 12 + 16*i
			}
		}
		t.Fatalf("no %s table", tag)
		return 0
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":      {nil, "too short"},
		"text":       {[]byte("hello, this is not a font"), "not a TrueType font"},
		"cff":        {append([]byte("OTTO"), good[4:]...), "CFF outlines"},
		"collection": {append([]byte("ttcf"), good[4:]...), "collection"},
		"cut":        {good[:1000], "outside the file"},
		"no tables":  {append(bytes.Clone(good[:4]), 0, 0, 0, 0, 0, 0, 0, 0), "cut short"},
		"directory":  {edit(func(b []byte) []byte { b[4], b[5] = 0xff, 0xff; return b[:1000] }), "cut short"},
		"no glyf":    {edit(func(b []byte) []byte { copy(b[table("glyf"):], "xxxx"); return b }), `no "glyf" table`},
		"twice":      {edit(func(b []byte) []byte { copy(b[table("glyf"):], "loca"); return b }), `two "loca" tables`},
		"head":       {edit(func(b []byte) []byte { o := table("head"); copy(b[be32(b[o+8:])+12:], "\x00\x00\x00\x00"); return b }), "head table is malformed"},
		"cmap": {edit(func(b []byte) []byte {
			o := table("cmap")
			clear(b[be32(b[o+8:]) : be32(b[o+8:])+be32(b[o+12:])])
			return b
		}), "no Unicode"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseFont(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// A Latin font has no kana: not the letters' font.
	if latin, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"); err == nil {
		if _, err := ParseFont(latin); err == nil || !strings.Contains(err.Error(), "not a Japanese font") {
			t.Errorf("DejaVu Sans: %v", err)
		}
	}
}

func be32(b []byte) int { return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }

// FuzzParseFont: whatever ParseFont accepts, Write embeds without a panic.
func FuzzParseFont(f *testing.F) {
	font := testFont(f)
	f.Add(font.data[:4096])
	f.Add([]byte("OTTO\x00\x01"))
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00head\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x10"))
	s := sampleSheet(Postcard)
	f.Fuzz(func(t *testing.T, data []byte) {
		ft, err := ParseFont(data)
		if err != nil {
			return
		}
		Write(io.Discard, ft, s, sampleLetters(1)) // an error is fine; a panic is not
	})
}

func TestWrap(t *testing.T) {
	font := testFont(t)
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: 210, Ht: 297}})
	pdf.AddUTF8FontFromBytes(fontName, "", font.data)
	pdf.AddPage()
	pdf.SetFont(fontName, "", 10)
	l := &layout{pdf: pdf}
	for _, tc := range []struct {
		text  string
		width float64
		want  []string
	}{
		{"一度しか使えません。他の人に", 30, []string{"一度しか使えませ", "ん。他の人に"}},
		{"This is English text.", 25, []string{"This is English", "text."}},
		{"https://koe.example/elections/tsukuba-2026/vote", 60, []string{"https://koe.example/elections/", "tsukuba-2026/vote"}},
		{"（お問い合わせ）です", 30, []string{"（お問い合わせ）", "です"}},
		{"", 30, []string{""}},
	} {
		got := l.wrap(tc.text, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %v) = %q, want %q", tc.text, tc.width, got, tc.want)
		}
		for _, line := range got {
			if w := l.pdf.GetStringWidth(line); w > tc.width {
				t.Errorf("line %q is %.1f mm wide, more than %v", line, w, tc.width)
			}
		}
	}
}

// BenchmarkWrite writes a console batch: 1,000 letters.
func BenchmarkWrite(b *testing.B) {
	font := testFont(b)
	ls := sampleLetters(1000)
	for _, size := range []Size{A4, Postcard} {
		b.Run(size.String(), func(b *testing.B) {
			s := sampleSheet(size)
			var n int
			for b.Loop() {
				var buf bytes.Buffer
				if err := Write(&buf, font, s, ls); err != nil {
					b.Fatal(err)
				}
				n = buf.Len()
			}
			b.ReportMetric(float64(n)/1000, "bytes/letter")
		})
	}
}

// FuzzWrap: wrapping loses no character but spaces, and no line is wider
// than asked unless it is a single character.
func FuzzWrap(f *testing.F) {
	font := testFont(f)
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: 210, Ht: 297}})
	pdf.AddUTF8FontFromBytes(fontName, "", font.data)
	pdf.AddPage()
	pdf.SetFont(fontName, "", 10)
	l := &layout{pdf: pdf}
	for _, s := range sampleSheet(A4).Words[0].Steps {
		f.Add(s, 40.0)
	}
	f.Add("Open the survey page and enter your reference number.", 30.0)
	f.Add("https://koe.example/elections/x/vote（「一度」）、。", 10.0)
	f.Fuzz(func(t *testing.T, s string, w float64) {
		if !utf8.ValidString(s) || math.IsNaN(w) || w < 1 || w > 300 || len(s) > 500 {
			return
		}
		lines := l.wrap(s, w)
		strip := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r == ' ' || r == '\n' {
					return -1
				}
				return r
			}, s)
		}
		if got := strip(strings.Join(lines, "")); got != strip(s) {
			t.Fatalf("wrap(%q, %v) = %q: characters lost or added", s, w, lines)
		}
		for _, line := range lines {
			if utf8.RuneCountInString(line) > 1 && l.pdf.GetStringWidth(line) > w {
				t.Fatalf("wrap(%q, %v): line %q is %.1f mm wide", s, w, line, l.pdf.GetStringWidth(line))
			}
		}
	})
}
