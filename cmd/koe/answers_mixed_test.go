package main

import (
	"slices"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
)

// TestAnswersTextAndRank: koe vote and koe ballot take text and rank
// answers both as --answers JSON and as --answer pairs (a ranking as
// comma-separated option ids, first ranked first).
func TestAnswersTextAndRank(t *testing.T) {
	data, err := examples.Manifest("city-survey")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Plaintext(ballot.Answers{"science-city": 3.0, "priorities": []any{"bike-lanes", "shelters"}, "opinion": "図書館を夜も開けてください"})
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]func() (ballot.Answers, error){
		"pairs": func() (ballot.Answers, error) {
			return answersFrom("", []string{"science-city=3", "priorities=bike-lanes,shelters", "opinion=図書館を夜も開けてください"}, m)
		},
		"json": func() (ballot.Answers, error) {
			return answersFrom(`{"science-city":3,"priorities":["bike-lanes","shelters"],"opinion":"図書館を夜も開けてください"}`, nil, m)
		},
	} {
		answers, err := a()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pt, err := m.Plaintext(answers)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for qi := range pt {
			if !slices.Equal(pt[qi], want[qi]) {
				t.Fatalf("%s: question %d: %v, want %v", name, qi+1, pt[qi], want[qi])
			}
		}
	}
	answers, err := answersFrom("", []string{"science-city=3", "priorities=bike-lanes,bike-lanes"}, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Plaintext(answers); err == nil {
		t.Fatal("a ranking with an option twice is accepted")
	}
}
