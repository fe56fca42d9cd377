package board

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/koe-vote/koe/internal/ceremony"
)

var (
	hexA = strings.Repeat("0a", 32)
	hexB = strings.Repeat("0b", 32)
)

func TestDecodeRollRejects(t *testing.T) {
	many := make([]string, MaxRollChunk+1)
	for i := range many {
		many[i] = strings.Repeat("00", 30) + string("0123456789abcdef"[i>>8&15]) + string("0123456789abcdef"[i>>4&15]) + "0" + string("0123456789abcdef"[i&15])
	}
	tooMany, _ := json.Marshal(RollBody{Commitments: many})
	for name, body := range map[string]string{
		"empty list":      `{"commitments":[]}`,
		"null list":       `{"commitments":null}`,
		"missing list":    `{}`,
		"descending":      `{"commitments":["` + hexB + `","` + hexA + `"]}`,
		"duplicate":       `{"commitments":["` + hexA + `","` + hexA + `"]}`,
		"upper case":      `{"commitments":["` + strings.ToUpper(hexA) + `"]}`,
		"short":           `{"commitments":["` + hexA[:62] + `"]}`,
		"long":            `{"commitments":["` + hexA + `00"]}`,
		"not hex":         `{"commitments":["` + strings.Repeat("zz", 32) + `"]}`,
		"number":          `{"commitments":[1]}`,
		"koe/v1 counts":   `{"added":1,"voters":1}`,
		"unknown field":   `{"commitments":["` + hexA + `"],"voters":1}`,
		"trailing":        `{"commitments":["` + hexA + `"]} {}`,
		"too many":        string(tooMany),
		"not an object":   `["` + hexA + `"]`,
		"duplicated keys": `{"commitments":["` + hexA + `"],"commitments":["` + hexB + `"]}`,
	} {
		if _, err := DecodeRoll([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		} else if !strings.HasPrefix(err.Error(), "roll entry: ") {
			t.Errorf("%s: error %q does not say what it is about", name, err)
		}
	}
	cs, err := DecodeRoll([]byte(`{"commitments":["` + hexA + `","` + hexB + `"]}`))
	if err != nil || len(cs) != 2 || cs[0][0] != 0x0a || cs[1][31] != 0x0b {
		t.Fatalf("a valid roll entry: %x, %v", cs, err)
	}
}

func TestDecodeIssuedRejects(t *testing.T) {
	for name, body := range map[string]string{
		"neither":        `{}`,
		"both":           `{"roll":"` + hexA + `","digitalId":"` + hexB + `"}`,
		"empty roll":     `{"roll":""}`,
		"null":           `{"roll":null}`,
		"upper case":     `{"digitalId":"` + strings.ToUpper(hexA) + `"}`,
		"short":          `{"roll":"` + hexA[:62] + `"}`,
		"koe/v1 voter":   `{"voter":"` + hexA + `"}`,
		"unknown field":  `{"roll":"` + hexA + `","time":1}`,
		"not an object":  `"` + hexA + `"`,
		"trailing bytes": `{"roll":"` + hexA + `"}x`,
	} {
		if _, err := DecodeIssued([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		} else if !strings.HasPrefix(err.Error(), "credential-issued entry: ") {
			t.Errorf("%s: error %q does not say what it is about", name, err)
		}
	}
	for _, body := range []string{`{"roll":"` + hexA + `"}`, `{"digitalId":"` + hexB + `"}`} {
		in, err := DecodeIssued([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		again, _ := json.Marshal(in.Body())
		if string(again) != body {
			t.Errorf("%s re-encodes as %s", body, again)
		}
	}
}

func TestDecodeReissueRejects(t *testing.T) {
	for name, body := range map[string]string{
		"empty":          `{}`,
		"no roll":        `{"revoked":"` + hexA + `"}`,
		"no revoked":     `{"roll":"` + hexA + `"}`,
		"same":           `{"revoked":"` + hexA + `","roll":"` + hexA + `"}`,
		"upper case":     `{"revoked":"` + strings.ToUpper(hexA) + `","roll":"` + hexB + `"}`,
		"short":          `{"revoked":"` + hexA + `","roll":"` + hexB[:62] + `"}`,
		"null":           `{"revoked":null,"roll":"` + hexB + `"}`,
		"voter named":    `{"revoked":"` + hexA + `","roll":"` + hexB + `","voter":"K0001"}`,
		"duplicate key":  `{"revoked":"` + hexA + `","roll":"` + hexB + `","roll":"` + hexB + `"}`,
		"trailing bytes": `{"revoked":"` + hexA + `","roll":"` + hexB + `"}x`,
		"not an object":  `["` + hexA + `","` + hexB + `"]`,
	} {
		if _, err := DecodeReissue([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		} else if !strings.HasPrefix(err.Error(), "reissue entry: ") {
			t.Errorf("%s: error %q does not say what it is about", name, err)
		}
	}
	body := `{"revoked":"` + hexA + `","roll":"` + hexB + `"}`
	re, err := DecodeReissue([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(re.Body()); string(again) != body {
		t.Errorf("%s re-encodes as %s", body, again)
	}
}

func TestRollEntriesChunks(t *testing.T) {
	cs := make([][32]byte, 2*MaxRollChunk+3)
	for i := range cs {
		cs[i][0], cs[i][1] = byte(len(cs)-i>>8), byte(len(cs)-i)
	}
	bodies := RollEntries(cs)
	if len(bodies) != 3 || len(bodies[2].Commitments) != 3 {
		t.Fatalf("%d entries", len(bodies))
	}
	var last []byte
	for _, b := range bodies {
		raw, _ := json.Marshal(b)
		if len(raw) > 60<<10-200 {
			t.Fatalf("a roll entry's body is %d bytes, too large for an entry", len(raw))
		}
		got, err := DecodeRoll(raw)
		if err != nil {
			t.Fatal(err)
		}
		if last != nil && bytes.Compare(last, got[0][:]) >= 0 {
			t.Fatal("the entries are not in ascending order")
		}
		last = got[len(got)-1][:]
	}
}

func FuzzDecodeRoll(f *testing.F) {
	f.Add([]byte(`{"commitments":["` + hexA + `","` + hexB + `"]}`))
	f.Add([]byte(`{"commitments":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := DecodeRoll(data)
		if err != nil {
			return
		}
		// What decodes re-encodes to a body that decodes to the same.
		raw, _ := json.Marshal(RollEntries(cs)[0])
		again, err := DecodeRoll(raw)
		if err != nil || len(again) != len(cs) {
			t.Fatalf("re-encoded %s: %v", raw, err)
		}
		for i := range cs {
			if again[i] != cs[i] {
				t.Fatal("the round trip changed a commitment")
			}
		}
	})
}

func FuzzDecodeIssued(f *testing.F) {
	f.Add([]byte(`{"roll":"` + hexA + `"}`))
	f.Add([]byte(`{"digitalId":"` + hexB + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeIssued(data)
		if err != nil {
			return
		}
		raw, _ := json.Marshal(in.Body())
		again, err := DecodeIssued(raw)
		if err != nil || again != in {
			t.Fatalf("re-encoded %s: %+v, %v", raw, again, err)
		}
	})
}

func FuzzDecodeReissue(f *testing.F) {
	f.Add([]byte(`{"revoked":"` + hexA + `","roll":"` + hexB + `"}`))
	f.Add([]byte(`{"revoked":"` + hexA + `","roll":"` + hexA + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		re, err := DecodeReissue(data)
		if err != nil {
			return
		}
		raw, _ := json.Marshal(re.Body())
		again, err := DecodeReissue(raw)
		if err != nil || again != re {
			t.Fatalf("re-encoded %s: %+v, %v", raw, again, err)
		}
	})
}

// BenchmarkRoll100k publishes and reads back a roll of 100,000 voters:
// the bodies of its roll entries, encoded and strictly decoded.
func BenchmarkRoll100k(b *testing.B) {
	cs := make([][32]byte, 100_000)
	for i := range cs {
		cs[i] = [32]byte{byte(i >> 16), byte(i >> 8), byte(i), 0xee}
	}
	for b.Loop() {
		bytes := 0
		bodies := RollEntries(cs)
		for _, body := range bodies {
			raw, _ := json.Marshal(body)
			bytes += len(raw)
			if _, err := DecodeRoll(raw); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(bodies)), "entries")
		b.ReportMetric(float64(bytes), "body-bytes")
	}
}

// TestCeremonyRoundsAreEntryTypes: a ceremony message stands on the board
// in an entry whose type is its round's name (SPEC.md §13.2), so no
// table translates between them.
func TestCeremonyRoundsAreEntryTypes(t *testing.T) {
	want := [...]string{TypeAnnounce, TypeDeal, TypeVerdict, TypeRespond}
	if ceremony.Rounds != want {
		t.Fatalf("ceremony.Rounds = %q, the board's ceremony entry types are %q", ceremony.Rounds, want)
	}
	for _, r := range ceremony.Rounds {
		if !KnownType(r) {
			t.Errorf("round %q is not a board entry type", r)
		}
	}
}
