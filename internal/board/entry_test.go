package board_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

func TestEntryEncoding(t *testing.T) {
	e := board.Entry{
		Type:     board.TypeBallot,
		Election: "e1",
		Time:     time.Date(2026, 11, 23, 19, 57, 1, 999, time.FixedZone("JST", 9*3600)),
		Body:     json.RawMessage(`{"ballot":"<AAEC>","n":[1,2]}`),
	}
	got, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"ballot","election":"e1","time":"2026-11-23T10:57:01Z","body":{"ballot":"<AAEC>","n":[1,2]}}`
	if string(got) != want {
		t.Fatalf("Encode =\n%s\nwant\n%s", got, want)
	}
	d, err := board.DecodeEntry(got)
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != e.Type || d.Election != e.Election || !d.Time.Equal(time.Date(2026, 11, 23, 10, 57, 1, 0, time.UTC)) ||
		string(d.Body) != string(e.Body) || d.Time.Location() != time.UTC {
		t.Fatalf("DecodeEntry = %+v", d)
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := board.Entry{Type: board.TypeOpen, Election: "e1", Time: time.Unix(1, 0), Body: json.RawMessage(`{}`)}
	tests := []struct {
		name string
		edit func(*board.Entry)
	}{
		{"unknown type", func(e *board.Entry) { e.Type = "vote" }},
		{"no election", func(e *board.Entry) { e.Election = "" }},
		{"zero time", func(e *board.Entry) { e.Time = time.Time{} }},
		{"body not object", func(e *board.Entry) { e.Body = json.RawMessage(`[1]`) }},
		{"body not compact", func(e *board.Entry) { e.Body = json.RawMessage(`{ }`) }},
		{"body invalid", func(e *board.Entry) { e.Body = json.RawMessage(`{"a":}`) }},
		{"body empty", func(e *board.Entry) { e.Body = nil }},
		{"too big", func(e *board.Entry) {
			e.Body = json.RawMessage(`{"a":"` + strings.Repeat("x", board.MaxEntrySize) + `"}`)
		}},
	}
	if _, err := ok.Encode(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.edit(&e)
			if b, err := e.Encode(); err == nil {
				t.Fatalf("Encode accepted %s", b)
			}
		})
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	const ok = `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`
	if _, err := board.DecodeEntry([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"not object", `[]`},
		{"unknown field", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{},"x":1}`},
		{"missing body", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z"}`},
		{"missing type", `{"election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"trailing data", ok + `{}`},
		{"trailing space", ok + ` `},
		{"leading space", ` ` + ok},
		{"key order", `{"election":"e1","type":"open","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"key case", `{"Type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"duplicate key", `{"type":"open","type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"whitespace", `{"type": "open","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"escaped string", `{"type":"\u006fpen","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"unknown type", `{"type":"vote","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"empty election", `{"type":"open","election":"","time":"2026-11-23T10:57:01Z","body":{}}`},
		{"fractional time", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01.5Z","body":{}}`},
		{"offset time", `{"type":"open","election":"e1","time":"2026-11-23T19:57:01+09:00","body":{}}`},
		{"lowercase z", `{"type":"open","election":"e1","time":"2026-11-23t10:57:01z","body":{}}`},
		{"bad date", `{"type":"open","election":"e1","time":"2026-02-30T10:57:01Z","body":{}}`},
		{"zero time", `{"type":"open","election":"e1","time":"0001-01-01T00:00:00Z","body":{}}`},
		{"null time", `{"type":"open","election":"e1","time":null,"body":{}}`},
		{"body array", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":[]}`},
		{"body null", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":null}`},
		{"body spaced", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{"a": 1}}`},
		{"invalid utf-8", "{\"type\":\"open\",\"election\":\"e\xff\",\"time\":\"2026-11-23T10:57:01Z\",\"body\":{}}"},
		{"too big", `{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{"a":"` + strings.Repeat("x", board.MaxEntrySize) + `"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := board.DecodeEntry([]byte(tt.in)); err == nil {
				t.Fatalf("DecodeEntry accepted %+v", e)
			} else {
				t.Log(err)
			}
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{}}`))
	f.Add([]byte(`{"type":"ballot","election":"選挙","time":"9999-12-31T23:59:59Z","body":{"a":"<\u2028>"}}`))
	f.Add([]byte(`{"type":"open","election":"e1","time":"2026-11-23T10:57:01Z","body":{"a": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := board.DecodeEntry(data)
		if err != nil {
			return
		}
		enc, err := e.Encode()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		if string(enc) != string(data) {
			t.Fatalf("decoded %q, re-encoded %q", data, enc)
		}
	})
}

func BenchmarkDecodeEntry(b *testing.B) {
	e := board.Entry{Type: board.TypeBallot, Election: "e1", Time: time.Unix(1e9, 0),
		Body: json.RawMessage(`{"ballot":"` + strings.Repeat("A", 4000) + `"}`)}
	enc, err := e.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := board.DecodeEntry(enc); err != nil {
			b.Fatal(err)
		}
	}
}
