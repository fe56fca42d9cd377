package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/strictjson"
)

// A malicious or broken server's odd JSON is refused with ErrAnswer,
// naming what is wrong, never decoded to zero values (SPEC §2.3, §15.1).
func TestDoDecodesStrictly(t *testing.T) {
	const good = `{"trackingCode":"ABCD","receipt":{"election":"e1","tracking":"00","index":1,"leafHash":"00","proof":[],"checkpoint":"c"}}`
	for _, tc := range []struct {
		name, body, want string
		is               error
	}{
		{"null field", strings.Replace(good, `"ABCD"`, `null`, 1), "null", strictjson.ErrNull},
		{"null receipt", `{"trackingCode":"ABCD","receipt":null}`, "null", strictjson.ErrNull},
		{"null document", `null`, "null", strictjson.ErrNull},
		{"missing field", strings.Replace(good, `"index":1,`, ``, 1), `missing required field "index"`, strictjson.ErrMissing},
		{"missing receipt", `{"trackingCode":"ABCD"}`, `missing required field "receipt"`, strictjson.ErrMissing},
		{"unknown field", strings.Replace(good, `{"trackingCode"`, `{"extra":1,"trackingCode"`, 1), `unknown field "extra"`, nil},
		{"recased field", strings.Replace(good, `"trackingCode"`, `"TrackingCode"`, 1), `unknown field "TrackingCode"`, nil},
		{"duplicate key", strings.Replace(good, `{"trackingCode":"ABCD"`, `{"trackingCode":"ABCD","trackingCode":"EFGH"`, 1), `duplicate field "trackingCode"`, nil},
		{"trailing data", good + `{}`, "trailing data", nil},
		{"invalid UTF-8", strings.Replace(good, "ABCD", "AB\xffD", 1), "UTF-8", strictjson.ErrUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			var r client.Receipt
			err := client.New(srv.URL, "").Do(context.Background(), "GET", "/receipt", "", nil, &r)
			if !errors.Is(err, client.ErrAnswer) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Do = %v, want ErrAnswer mentioning %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Do = %v, want it to wrap %v", err, tc.is)
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(good)) }))
	defer srv.Close()
	var r client.Receipt
	if err := client.New(srv.URL, "").Do(context.Background(), "GET", "/receipt", "", nil, &r); err != nil || r.Receipt.Index != 1 {
		t.Fatalf("a well-formed answer: %v, %+v", err, r)
	}
}

// The election answer lacking its manifest, or with a field the client
// does not know, is refused by Client.Election.
func TestElectionDecodesStrictly(t *testing.T) {
	for _, body := range []string{
		`{"id":"e1","state":"open","title":{"ja":"x"},"kind":"vote","registrarKey":"k","boardKey":"b","origin":"o"}`,
		`{"id":"e1","state":"open","title":{"ja":"x"},"kind":"vote","manifest":{},"registrarKey":"k","boardKey":"b","origin":"o","params":null}`,
		`{"id":"e1","state":"open","title":{"ja":"x"},"kind":"vote","manifest":{},"registrarKey":"k","boardKey":"b","origin":"o","admin":"x"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		_, err := client.New(srv.URL, "").Election(context.Background(), "e1")
		srv.Close()
		if !errors.Is(err, client.ErrAnswer) {
			t.Errorf("Election(%s) = %v, want ErrAnswer", body, err)
		}
	}
}

// An error answer that is not koe's strict error message keeps its text
// under the code "http"; a well-formed one gives its code.
func TestErrorAnswers(t *testing.T) {
	for body, code := range map[string]string{
		`{"error":"closed","message":"the election is closed"}`: "closed",
		`{"error":"closed","message":"m","error":"not-open"}`:   "http",
		`{"error":"closed"}`:                         "http",
		`{"error":"closed","message":"m","extra":1}`: "http",
		`<html>bad gateway</html>`:                   "http",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(body))
		}))
		_, err := client.New(srv.URL, "").Raw(context.Background(), "GET", "/", "", nil)
		srv.Close()
		if !client.IsCode(err, code) {
			t.Errorf("error answer %s: %v, want code %q", body, err, code)
		}
	}
}
