package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postReceipt posts a receipt file to the receipt check, as the page's
// form does.
func postReceipt(t *testing.T, f *fixture, id string, file []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "koe-receipt.json")
	w.Write(file)
	mw.WriteField("receipt", "")
	mw.Close()
	req, _ := http.NewRequest("POST", f.url+"/elections/"+id+"/receipt?lang=en", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	return string(page)
}

func TestReceiptFileCheck(t *testing.T) {
	f := getFixture(t)
	ok := "Checked: your ballot is still recorded on the board."
	if page := postReceipt(t, f, f.survey, f.receipt); !strings.Contains(page, ok) {
		t.Fatalf("the genuine receipt did not check:\n%s", page)
	}
	tampered := map[string][]byte{
		"another index":      bytes.Replace(f.receipt, []byte(`"index":`), []byte(`"index":1`), 1),
		"altered proof":      bytes.Replace(f.receipt, []byte(`"proof":["`), []byte(`"proof":["0`), 1),
		"altered checkpoint": bytes.Replace(f.receipt, []byte(`\n\n`), []byte(`\nx\n\n`), 1),
		"another election":   bytes.Replace(f.receipt, []byte(`"election":"`+f.survey), []byte(`"election":"x`+f.survey), 1),
	}
	for name, file := range tampered {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(file, f.receipt) {
				t.Fatal("the receipt was not altered")
			}
			page := postReceipt(t, f, f.survey, file)
			if strings.Contains(page, ok) {
				t.Fatal("accepted")
			}
			if !strings.Contains(page, "The receipt did not check out.") && !strings.Contains(page, "This is not a receipt.") {
				t.Fatalf("no clear refusal:\n%s", page)
			}
		})
	}
	for name, tc := range map[string]struct{ file, want string }{
		"empty":    {"", "Choose a receipt file or paste one."},
		"not JSON": {"koe receipt", "This is not a receipt."},
		"unknown":  {`{"receipt":{"election":"x","extra":1}}`, "This is not a receipt."},
		"too big":  {strings.Repeat(" ", 40<<10), "too large"},
	} {
		t.Run(name, func(t *testing.T) {
			if page := postReceipt(t, f, f.survey, []byte(tc.file)); !strings.Contains(page, tc.want) {
				t.Fatalf("want %q:\n%s", tc.want, page)
			}
		})
	}
	// The receipt of one election does not check on another's page.
	if page := postReceipt(t, f, f.booth.id, f.receipt); strings.Contains(page, ok) {
		t.Fatal("a receipt checked on another election's page")
	}
}

func TestReceiptQRCode(t *testing.T) {
	f := getFixture(t)
	resp, body := get(t, f.url+"/elections/"+f.survey+"/qr?code="+url.QueryEscape(f.tracking), "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
		t.Fatalf("QR code: %s %s %.80s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if n := strings.Count(body, "h1v1h-1z"); n < 200 {
		t.Errorf("the QR code has %d dark modules", n)
	}
	for _, bad := range []string{"", "<script>", strings.Repeat("A", 200)} {
		resp, _ := get(t, f.url+"/elections/"+f.survey+"/qr?code="+url.QueryEscape(bad), "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("code %q: %s", bad, resp.Status)
		}
	}
}

func TestBoothPageStates(t *testing.T) {
	f := getFixture(t)
	for _, id := range []string{f.survey, f.setup} {
		resp, page := get(t, f.url+"/elections/"+id+"/vote", "ja")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="booth-closed"`) || strings.Contains(page, `id="step-register"`) {
			t.Errorf("%s: %s, a booth for an election that is not open", id, resp.Status)
		}
		// After the close the page checks the device's receipts against
		// the final board (SPEC.md §13.8): its script runs in that mode
		// only; before the open there is nothing to check.
		closed := id == f.survey
		if strings.Contains(page, `"closed":true`) != closed || strings.Contains(page, `id="final"`) != closed {
			t.Errorf("%s: the final receipt check is offered = %v, want %v", id, !closed, closed)
		}
	}
	resp, _ := get(t, f.url+"/elections/no-such/vote", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the booth of no election: %s", resp.Status)
	}
}

// checkOpenBooth checks the page of an open election's booth: its
// settings name the election's keys, and its script is served.
func checkOpenBooth(t *testing.T, f *fixture, id string) {
	t.Helper()
	_, page := get(t, f.url+"/elections/"+id+"/vote", "en")
	for _, want := range []string{`id="booth-config"`, `"registrarKey":"koe-registrar-pub-v1:`, `"jointKey":"`, `"context":"`,
		`<script type="module" src="/static/booth/booth.js">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the booth page lacks %s", want)
		}
	}
	resp, js := get(t, f.url+"/static/booth/booth.js", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || len(js) < 50_000 {
		t.Errorf("the booth's script: %s %s, %d bytes (build it with web/booth/build.sh)", resp.Status, resp.Header.Get("Content-Type"), len(js))
	}
}

// TestStaticGzip: the booth's script goes gzipped to browsers that accept
// it, and unchanged to those that do not.
func TestStaticGzip(t *testing.T) {
	f := getFixture(t)
	plain, err := http.Get(f.url + "/static/site.css") // Go's client asks for gzip and undoes it
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(plain.Body)
	plain.Body.Close()
	if !plain.Uncompressed || len(want) < 1000 {
		t.Fatalf("site.css: uncompressed %v, %d bytes", plain.Uncompressed, len(want))
	}
	req, _ := http.NewRequest("GET", f.url+"/static/site.css", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(got, want) {
		t.Fatalf("without gzip: encoding %q, %d bytes, want the %d of the file", resp.Header.Get("Content-Encoding"), len(got), len(want))
	}
}
