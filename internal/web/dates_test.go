package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
)

// TestScheduleShown: a survey's opening and closing times are shown on
// its public page and in the booth in the resident's language and the
// city's time zone (Japan), not as a raw timestamp.
func TestScheduleShown(t *testing.T) {
	f := getConsole(t)
	var m ballot.Manifest
	if err := json.Unmarshal(exampleAs(t, "survey", "nittei-2027", 3, 2), &m); err != nil {
		t.Fatal(err)
	}
	m.Opens, m.Closes = "2027-01-10T00:00:00Z", "2027-01-31T08:00:00Z"
	data, _ := json.Marshal(&m)
	if err := f.admin.Do(context.Background(), "POST", "/api/v1/elections", "application/json", data, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, opens, closes string
	}{
		{"ja", "2027年1月10日 09:00", "2027年1月31日 17:00"},
		{"en", "10 January 2027, 09:00", "31 January 2027, 17:00"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			lang := &http.Cookie{Name: "lang", Value: tc.lang}
			_, page := get(t, f.url+"/elections/nittei-2027", "", lang)
			for _, want := range []string{tc.opens, tc.closes} {
				if !strings.Contains(page, want) {
					t.Errorf("the public page does not show %q", want)
				}
			}
			if strings.Contains(page, "2027-01-10 09:00 JST") {
				t.Error("the public page shows the raw timestamp")
			}
			_, booth := get(t, f.url+"/elections/nittei-2027/vote", "", lang)
			if !strings.Contains(booth, tc.opens) {
				t.Errorf("the booth of a survey not yet open does not say when it opens (%q)", tc.opens)
			}
		})
	}
}
