package api

import "net/url"

// MixesPath returns the path of a mixed question's routes (SPEC.md §16.6):
// /api/v1/elections/{id}/mixes/{question} plus a suffix.
func MixesPath(id, question, suffix string) string {
	return ElectionPath(id, "/mixes/"+url.PathEscape(question)+suffix)
}

// MixedPath returns /api/v1/elections/{id}/mixed/{question}.
func MixedPath(id, question string) string {
	return ElectionPath(id, "/mixed/"+url.PathEscape(question))
}

// Mixes is the state of an election's mix (GET /elections/{id}/mixes,
// SPEC.md §16.6): the ceremony's threshold t (the rounds each question
// needs) and its mixed questions in manifest order.
type Mixes struct {
	Threshold int        `json:"threshold"`
	Questions []MixState `json:"questions"`
}

// MixState is one mixed question's mix: N vectors of width w, the rounds
// posted (in order) and the trustees whose decryption shares of the final
// list are posted (ascending).
type MixState struct {
	Question    string     `json:"question"`
	Count       int        `json:"count"`
	Width       int        `json:"width"`
	Rounds      []MixRound `json:"rounds"`
	Decryptions []int      `json:"decryptions"`
}

// MixRound is one posted round of a mix: round r (1..t) by trustee j.
type MixRound struct {
	Round   int `json:"round"`
	Trustee int `json:"trustee"`
}

// MixPosted answers a posted round (POST …/mixes/{question}).
type MixPosted struct {
	Question string `json:"question"`
	Round    int    `json:"round"`
}

// MixSharePosted answers a posted list decryption share (POST
// …/mixes/{question}/decryptions).
type MixSharePosted struct {
	Question string `json:"question"`
	Trustee  int    `json:"trustee"`
}
