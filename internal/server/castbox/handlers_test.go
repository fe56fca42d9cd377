package castbox

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/ballot"
)

func TestParseTracking(t *testing.T) {
	var code [32]byte
	for i := range code {
		code[i] = byte(i * 7)
	}
	human := ballot.FormatTrackingCode(code)
	for _, s := range []string{hex.EncodeToString(code[:]), human, strings.ToLower(human), strings.ReplaceAll(human, "-", "")} {
		got, ok := parseTracking(s)
		if !ok || got != code {
			t.Errorf("parseTracking(%q) = %x, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "00", hex.EncodeToString(code[:31]), human[:len(human)-1], human + "A", "!" + human[1:]} {
		if _, ok := parseTracking(s); ok {
			t.Errorf("parseTracking(%q) accepted", s)
		}
	}
}

// FuzzParseTracking: an accepted tracking code reads back from its hex
// and its human form.
func FuzzParseTracking(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Add(ballot.FormatTrackingCode([32]byte{1, 2, 3}))
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := parseTracking(s)
		if !ok {
			return
		}
		for _, again := range []string{hex.EncodeToString(code[:]), ballot.FormatTrackingCode(code)} {
			if got, ok := parseTracking(again); !ok || got != code {
				t.Fatalf("%q read as %x, but %q reads as %x, %v", s, code, again, got, ok)
			}
		}
	})
}
