package ceremony

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestAddMessageRoundTrip rebuilds a transcript message by message, by
// round, and gets the same transcript.
func TestAddMessageRoundTrip(t *testing.T) {
	tr := complained(t)
	got := &Transcript{Params: tr.Params}
	for _, a := range tr.Announcements {
		mustAdd(t, got, RoundAnnounce, a.Index, mustMarshal(t, a))
	}
	for _, d := range tr.Dealings {
		mustAdd(t, got, RoundDeal, d.From, mustMarshal(t, d))
	}
	for _, v := range tr.Verdicts {
		mustAdd(t, got, RoundVerdict, v.From, mustMarshal(t, v))
	}
	byDealer := map[int][]Response{}
	for _, r := range tr.Responses {
		byDealer[r.Dealer] = append(byDealer[r.Dealer], r)
	}
	for _, d := range tr.Dealings {
		if rs, ok := byDealer[d.From]; ok {
			mustAdd(t, got, RoundRespond, d.From, mustMarshal(t, rs))
		}
	}
	if !reflect.DeepEqual(mustMarshal(t, got), mustMarshal(t, tr)) {
		t.Fatal("the transcript rebuilt by AddMessage differs from the original")
	}
}

func mustAdd(t *testing.T, tr *Transcript, round string, j int, data []byte) {
	t.Helper()
	if err := tr.AddMessage(round, j, data); err != nil {
		t.Fatalf("AddMessage(%s, %d): %v", round, j, err)
	}
}

// TestAddMessageRejects: an unknown round is an error (never a panic), a
// message filed as another trustee's is refused, and nothing of a refused
// message is added.
func TestAddMessageRejects(t *testing.T) {
	tr := complained(t)
	a := mustMarshal(t, tr.Announcements[0]) // trustee 1's
	d := mustMarshal(t, tr.Dealings[0])
	var rs []Response
	for _, r := range tr.Responses {
		if r.Dealer == tr.Responses[0].Dealer {
			rs = append(rs, r)
		}
	}
	resp := mustMarshal(t, rs)
	for _, tc := range []struct {
		name, round string
		j           int
		data        []byte
		want        string
	}{
		{"unknown round", "complain", 1, a, "no round"},
		{"empty round", "", 1, a, "no round"},
		{"board type", "election-key", 1, a, "no round"},
		{"announcement of another trustee", RoundAnnounce, 2, a, "signed as trustee 1's"},
		{"dealing of another trustee", RoundDeal, tr.Dealings[0].From + 1, d, "signed as trustee"},
		{"responses of another dealer", RoundRespond, tr.Responses[0].Dealer + 1, resp, "signed as trustee"},
		{"responses not an array", RoundRespond, tr.Responses[0].Dealer, mustMarshal(t, rs[0]), "JSON array"},
		{"responses null", RoundRespond, 1, []byte(`null`), ""},
		{"announcement in the deal round", RoundDeal, 1, a, ""},
		{"garbage", RoundVerdict, 1, []byte(`{"from":1`), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := &Transcript{Params: tr.Params}
			err := got.AddMessage(tc.round, tc.j, tc.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if len(got.Announcements)+len(got.Dealings)+len(got.Verdicts)+len(got.Responses) != 0 {
				t.Fatal("a refused message was added to the transcript")
			}
		})
	}
}

func TestIsRound(t *testing.T) {
	for _, r := range Rounds {
		if !IsRound(r) {
			t.Errorf("IsRound(%q) = false", r)
		}
	}
	for _, s := range []string{"", "Announce", "announce ", "manifest", "complaint"} {
		if IsRound(s) {
			t.Errorf("IsRound(%q) = true", s)
		}
	}
}

// FuzzAddMessage: AddMessage never panics, whatever the round and the
// data, and what it accepts is one message of that round, re-encodable.
func FuzzAddMessage(f *testing.F) {
	tr := complained(f)
	f.Add(RoundAnnounce, 1, mustMarshal(f, tr.Announcements[0]))
	f.Add(RoundDeal, tr.Dealings[0].From, mustMarshal(f, tr.Dealings[0]))
	f.Add(RoundVerdict, tr.Verdicts[0].From, mustMarshal(f, tr.Verdicts[0]))
	f.Add(RoundRespond, tr.Responses[0].Dealer, mustMarshal(f, []Response{tr.Responses[0]}))
	f.Add("nope", 1, []byte(`{}`))
	f.Fuzz(func(t *testing.T, round string, j int, data []byte) {
		got := &Transcript{Params: fuzzParams}
		if err := got.AddMessage(round, j, data); err != nil {
			return
		}
		if !IsRound(round) {
			t.Fatalf("accepted a message of round %q", round)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("cannot re-encode: %v", err)
		}
	})
}
