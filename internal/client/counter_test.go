package client

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
)

func counterEntry(t testing.TB, typ string, vk []byte, counter uint64) []byte {
	t.Helper()
	env := ballotbox.Envelope{Ballot: []byte{1}, Credential: append(bytes.Clone(vk), make([]byte, 40)...), Salt: make([]byte, 32), Counter: counter, Signature: make([]byte, 64)}
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := board.Entry{Type: typ, Election: "e", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Body: body}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestCheckCounter(t *testing.T) {
	vk, other := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32)
	good := counterEntry(t, board.TypeBallot, vk, 2)
	for _, tc := range []struct {
		name  string
		state string
		entry []byte
		want  uint64
		err   string // a part of the error; "" for none
	}{
		{"first cast", `{"next": 1}`, nil, 1, ""},
		{"after two casts", `{"next": 3, "last": 2, "index": 9}`, good, 3, ""},
		{"indented, as the server writes it", "{\n  \"next\": 3,\n  \"last\": 2,\n  \"index\": 9\n}\n", good, 3, ""},
		{"first cast with another counter", `{"next": 5}`, nil, 0, "never cast"},
		{"next is not last + 1", `{"next": 5, "last": 2, "index": 9}`, good, 0, "does not add up"},
		{"last without index", `{"next": 3, "last": 2}`, nil, 0, "does not add up"},
		{"index without last", `{"next": 3, "index": 9}`, good, 0, "does not add up"},
		{"last 0", `{"next": 1, "last": 0, "index": 9}`, good, 0, "does not add up"},
		{"negative index", `{"next": 3, "last": 2, "index": -1}`, good, 0, "does not add up"},
		{"last at the top", `{"next": 0, "last": 18446744073709551615, "index": 9}`, good, 0, "does not add up"},
		{"unknown field", `{"next": 1, "first": true}`, nil, 0, "unknown field"},
		{"null", `{"next": null}`, nil, 0, "null"},
		{"not JSON", `next=1`, nil, 0, "counter"},
		{"entry of another counter", `{"next": 3, "last": 2, "index": 9}`, counterEntry(t, board.TypeBallot, vk, 1), 0, "not this credential's cast"},
		{"entry of another credential", `{"next": 3, "last": 2, "index": 9}`, counterEntry(t, board.TypeBallot, other, 2), 0, "not this credential's cast"},
		{"entry not a ballot", `{"next": 3, "last": 2, "index": 9}`, counterEntry(t, board.TypeSpoiled, vk, 2), 0, "is a spoiled entry"},
		{"entry not an entry", `{"next": 3, "last": 2, "index": 9}`, []byte(`{"counter":2}`), 0, "board entry 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckCounter(vk, []byte(tc.state), tc.entry)
			switch {
			case tc.err == "" && (err != nil || got != tc.want):
				t.Fatalf("CheckCounter = %d, %v; want %d", got, err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("CheckCounter = %d, %v; want an error saying %q", got, err, tc.err)
			}
		})
	}
}

func FuzzCheckCounter(f *testing.F) {
	vk := bytes.Repeat([]byte{7}, 32)
	f.Add([]byte(`{"next": 1}`), []byte(nil))
	f.Add([]byte(`{"next": 3, "last": 2, "index": 9}`), counterEntry(f, board.TypeBallot, vk, 2))
	f.Add([]byte(`{"next": 3, "last": 2, "index": 9}`), counterEntry(f, board.TypeSpoiled, vk, 2))
	f.Fuzz(func(t *testing.T, state, entry []byte) {
		next, err := CheckCounter(vk, state, entry)
		if err != nil {
			return
		}
		// An accepted answer names a counter ≥ 1, and one above 1 only
		// with a board entry of this key holding the counter before it.
		if next == 0 {
			t.Fatalf("accepted next counter 0 from %q", state)
		}
		if next > 1 {
			e, err := board.DecodeEntry(entry)
			if err != nil {
				t.Fatalf("accepted %q with an undecodable entry: %v", state, err)
			}
			env, err := ballotbox.ParseEnvelope(e.Body)
			if err != nil || env.Counter != next-1 || !bytes.HasPrefix(env.Credential, vk) {
				t.Fatalf("accepted next %d from entry %q", next, entry)
			}
		}
	})
}
