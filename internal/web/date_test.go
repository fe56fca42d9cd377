package web

import (
	"testing"
	"time"
)

// TestDate: a manifest's deadline is shown as a resident reads it, in the
// site's time zone, without seconds or a raw timestamp.
func TestDate(t *testing.T) {
	site := &Site{opts: Options{Location: time.FixedZone("JST", 9*60*60)}}
	for lang, want := range map[string]string{"ja": "2026年12月20日 17:00", "en": "20 December 2026, 17:00"} {
		v := &view{Lang: lang, site: site}
		if got := v.Date("2026-12-20T08:00:00Z"); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	if got := (&view{Lang: "ja", site: site}).Date("not a time"); got != "not a time" {
		t.Errorf("a malformed time is shown as %q", got)
	}
}
