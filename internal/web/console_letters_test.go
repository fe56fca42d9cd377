package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/letters"
	"github.com/koe-vote/koe/internal/web"
)

// needLetterFont skips a test of the letters' PDFs where the font is not
// installed (scripts/fonts installs it), unless $CI is set.
func needLetterFont(t *testing.T) {
	t.Helper()
	if _, err := letters.LoadFont(os.Getenv("KOE_LETTER_FONT")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (%s)", err, letters.FontHint)
		}
		t.Skipf("%v: %s", err, letters.FontHint)
	}
}

var pdfPage = regexp.MustCompile(`/Type /Page\n`)

// checkPDF checks a letters download: a PDF of one page a voter of the
// paper size, whose text has each voter's number and code (read back
// with pdftotext where poppler-utils is installed, as scripts/fonts does).
func checkPDF(t *testing.T, resp *http.Response, body, size string, codes [][]string, want ...string) {
	t.Helper()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "-letters-"+size+"-1-") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s PDF: %d %v\n%.500s", size, resp.StatusCode, resp.Header, body)
	}
	if !strings.HasPrefix(body, "%PDF-1.") {
		t.Fatalf("%s: not a PDF: %.100q", size, body)
	}
	if n := len(pdfPage.FindAllString(body, -1)); n != len(codes) {
		t.Errorf("%s: %d pages, want %d", size, n, len(codes))
	}
	box := map[string]string{"a4": "/MediaBox [0 0 595.28 841.89]", "postcard": "/MediaBox [0 0 283.46 419.53]"}[size]
	if !strings.Contains(body, box) {
		t.Errorf("%s: no %s", size, box)
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed (scripts/fonts --tools installs it)")
		}
		return
	}
	file := filepath.Join(t.TempDir(), size+".pdf")
	os.WriteFile(file, []byte(body), 0o600)
	for i, vc := range codes {
		out, err := exec.Command(pdftotext, "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), file, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(out)), "")
		if !strings.Contains(text, vc[0]) || !strings.Contains(text, vc[1]) || !strings.Contains(text, "/vote") {
			t.Errorf("%s page %d has not %s's number and code:\n%s", size, i+1, vc[0], out)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s page %d has no %q:\n%s", size, i+1, w, out)
			}
		}
	}
}

// TestConsoleLetterPDF: after a roll import and after a re-issue, the
// codes page offers the letters as PDF, A4 and postcard, in Japanese and
// English; each download is the voters' letters; so does the election
// page, from a codes file kept since.
func TestConsoleLetterPDF(t *testing.T) {
	needLetterFont(t)
	f := getConsole(t)
	id := "console-pdf"
	f.readyElection(t, "survey", id)
	path := "/admin/elections/" + id
	a := signIn(t, f, "ja")
	csrf := a.csrf()

	resp, body := a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"P0001\nP0002\nP0003"}})
	if resp.StatusCode != 200 {
		t.Fatalf("roll: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `name="format" value="a4"`, `>PDF（A4）</button>`, `name="format" value="postcard"`, `>PDF（はがき）</button>`, "1人目から3人目のお知らせを PDF（A4）でダウンロード")
	if strings.Contains(body, `id="font-problem"`) {
		t.Error("the codes page says the font is missing")
	}
	checkConsolePage(t, resp, body)
	codes := codesOnPage(t, body)
	csvText := "voter_id,code\n"
	for _, vc := range codes {
		csvText += vc[0] + "," + vc[1] + "\n"
	}
	for _, size := range []string{"a4", "postcard"} {
		resp, body := a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {csvText}, "format": {size}, "from": {"1"}})
		// A survey's words: 整理番号 and 回答ページ, not 選挙人番号 and 投票ページ.
		checkPDF(t, resp, body, size, codes, "整理番号", "回答ページ", "One-timecode")
	}
	// From a codes file, on the election page.
	_, body = a.get(path)
	contains(t, body, `name="format" value="a4"`, `name="format" value="postcard"`)
	resp, body = a.postFile(path+"/codes", url.Values{"csrf": {csrf}, "format": {"postcard"}}, "file", "codes.csv", []byte(csvText))
	checkPDF(t, resp, body, "postcard", codes)
	// A character the font lacks: a clear error naming the letter by
	// position, not by its voter.
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {"voter_id,code\n山田🙂,ABCD-EFGH-JKLM-2345\n"}, "format": {"a4"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a voter number the font cannot print: %d, want 422", resp.StatusCode)
	}
	contains(t, body, "フォントにない文字があります", "letter 1: U&#43;1F642")
	if strings.Contains(body, "山田") {
		t.Error("the error page names the voter")
	}
	// No such format.
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {csvText}, "format": {"b5"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format b5: %d", resp.StatusCode)
	}
	contains(t, body, "その形式はありません")

	// A re-issue, in English.
	a.lang = "en"
	resp, body = a.post(path+"/reissue", url.Values{"csrf": {csrf}, "voters": {"P0002"}})
	if resp.StatusCode != 200 {
		t.Fatalf("reissue: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `>PDF (A4)</button>`, `>PDF (postcard)</button>`, "Download the letters for voters 1 to 1 as PDF (postcard)")
	checkConsolePage(t, resp, body)
	again := codesOnPage(t, body)
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {"voter_id,code\n" + again[0][0] + "," + again[0][1] + "\n"}, "format": {"a4"}, "from": {"1"}})
	checkPDF(t, resp, body, "a4", again)
}

// TestConsoleLetterNoFont: a server without the letters' font still
// imports the roll and shows the codes, says there why it offers no PDF,
// and answers a PDF request with a clear error; no code is logged.
func TestConsoleLetterNoFont(t *testing.T) {
	f := getConsole(t)
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle("/", web.New(f.api, web.Options{AdminToken: consoleToken, LetterFont: filepath.Join(t.TempDir(), "ipaexg.ttf"),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	id := "console-nofont"
	f.readyElection(t, "referendum", id)
	path := "/admin/elections/" + id
	a := signInAs(t, ts.URL, "en", url.Values{"token": {consoleToken}})
	csrf := a.csrf()
	resp, body := a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"N0001\nN0002"}})
	if resp.StatusCode != 200 {
		t.Fatalf("roll: %d\n%s", resp.StatusCode, body)
	}
	contains(t, body, `id="font-problem"`, "The server has no Japanese font", "fonts-ipaexfont-gothic", "--letter-font", `value="letters"`)
	if strings.Contains(body, `value="a4"`) {
		t.Error("the codes page offers a PDF it cannot make")
	}
	codes := codesOnPage(t, body)
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {"voter_id,code\n" + codes[0][0] + "," + codes[0][1] + "\n"}, "format": {"a4"}})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a PDF without a font: %d, want 503", resp.StatusCode)
	}
	contains(t, body, "The PDF cannot be made", "ipaexg.ttf", "fonts-ipaexfont-gothic")
	if strings.Contains(body, codes[0][1]) {
		t.Error("the error page shows the code")
	}
	// The HTML letters still work.
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {"voter_id,code\n" + codes[0][0] + "," + codes[0][1] + "\n"}, "format": {"letters"}})
	if resp.StatusCode != 200 || !strings.Contains(body, codes[0][1]) {
		t.Errorf("the letters page without a font: %d", resp.StatusCode)
	}
	for _, vc := range codes {
		if strings.Contains(logs.String(), vc[1]) {
			t.Errorf("a code is in the log:\n%s", logs.String())
		}
	}
}

// FuzzParseCodes: a codes file the letters accept has a voter and a code
// of the codes' form on every row.
func FuzzParseCodes(f *testing.F) {
	f.Add([]byte("voter_id,code\nP0001,ABCD-EFGH-JKLM-2345\n"))
	f.Add([]byte("\ufeffvoter_id,code\r\n\"P,1\",WXYZ-2345-6789-NPQR\r\n"))
	f.Add([]byte("voter_id\nP0001\n"))
	code := regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		ls, err := web.ParseCodes(data)
		if err != nil {
			return
		}
		if len(ls) == 0 {
			t.Fatal("accepted a file without codes")
		}
		for _, l := range ls {
			if l.Voter == "" || !code.MatchString(l.Code) {
				t.Fatalf("accepted %q", l)
			}
		}
	})
}

func TestParseCodesErrors(t *testing.T) {
	for _, bad := range []string{"", "voter_id,code\n", "voter,code\nP1,ABCD-EFGH-JKLM-2345\n", "voter_id,code\nP1,abcd-efgh-jklm-2345\n",
		"voter_id,code\n,ABCD-EFGH-JKLM-2345\n", "voter_id,code\nP1,ABCD-EFGH-JKLM-2345,x\n", "voter_id,code\nP1,ABCD-EFGH-JKLM-O345\n"} {
		if _, err := web.ParseCodes([]byte(bad)); err == nil {
			t.Errorf("ParseCodes(%q) succeeded", bad)
		}
	}
}

// TestConsoleLetterTooLong: a contact line too long for a postcard is a
// clear error, and A4 still has room for it.
func TestConsoleLetterTooLong(t *testing.T) {
	needLetterFont(t)
	f := getConsole(t)
	mux := http.NewServeMux()
	mux.Handle("/api/", f.api)
	mux.Handle("/", web.New(f.api, web.Options{AdminToken: consoleToken, City: "つくば市", Contact: strings.Repeat("つくば市役所 市民協働課（本庁舎2階）電話 029-883-1111。", 8),
		Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	id := "console-toolong"
	f.readyElection(t, "referendum", id)
	path := "/admin/elections/" + id
	a := signInAs(t, ts.URL, "ja", url.Values{"token": {consoleToken}})
	csrf := a.csrf()
	_, body := a.post(path+"/roll", url.Values{"csrf": {csrf}, "voters": {"L0001"}})
	codes := codesOnPage(t, body)
	csvText := "voter_id,code\n" + codes[0][0] + "," + codes[0][1] + "\n"
	resp, body := a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {csvText}, "format": {"postcard"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a postcard too long: %d, want 422", resp.StatusCode)
	}
	contains(t, body, "お知らせに収まりません", "A4 を選んでください")
	resp, body = a.post(path+"/codes", url.Values{"csrf": {csrf}, "codes": {csvText}, "format": {"a4"}, "from": {"1"}})
	checkPDF(t, resp, body, "a4", codes)
}
