// Package linkage is the timing attack of SPEC.md §15.5 on the secrecy of
// who cast which ballot: an attacker who knows when each voter registered
// (the registrar, or anyone watching the registration requests) reads the
// public board and links each voter to the first ballot of a credential
// by board order or by entry time. koe's tests and `koe bench linkage`
// measure with it how many voters the board gives away.
package linkage

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
)

// Registration is what the attacker knows of one voter's registration.
type Registration struct {
	Voter string
	Time  time.Time // when the registration request was made
	// Issued is the board index of the voter's credential-issued entry
	// (the registrar knows it: the entry names the voter's hash); -1 if
	// the attacker does not know it.
	Issued int64
}

// Ballot is the first ballot of one credential on the board.
type Ballot struct {
	Index      int64
	Time       time.Time
	Credential string // base64 of the credential, as the entry holds it
}

// Board is what the attacker reads from the public board.
type Board struct {
	Issued  []int64  // indexes of the credential-issued entries, in board order
	Ballots []Ballot // each credential's first ballot, in board order
}

// Read decodes the board's entries (index 0 first).
func Read(entries [][]byte) (*Board, error) {
	b := &Board{}
	seen := map[string]bool{}
	for i, raw := range entries {
		e, err := board.DecodeEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		switch e.Type {
		case board.TypeCredentialIssued:
			b.Issued = append(b.Issued, int64(i))
		case board.TypeBallot:
			env, err := ballotbox.ParseEnvelope(e.Body)
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
			if len(env.Credential) == 0 {
				return nil, fmt.Errorf("entry %d: a ballot without a credential", i)
			}
			c := base64.StdEncoding.EncodeToString(env.Credential)
			if !seen[c] {
				seen[c] = true
				b.Ballots = append(b.Ballots, Ballot{Index: int64(i), Time: e.Time, Credential: c})
			}
		}
	}
	return b, nil
}

// CredentialOf is how a voter's credential appears in Ballot.Credential.
func CredentialOf(encoded []byte) string { return base64.StdEncoding.EncodeToString(encoded) }

// A Guess maps voters to the credential the attacker links them to.
type Guess map[string]string

// ByOrder links each first ballot, in board order, to the latest
// credential-issued entry before it whose voter is not linked yet (the
// attack of abuse-test §7: a voter who casts at once lands right behind
// their issuance). Voters whose Issued is -1 are given the issuance
// entries by rank: the k-th registration in time the k-th entry (right
// when entries are appended one by one as requests come in).
func ByOrder(regs []Registration, b *Board) Guess {
	rs := slices.Clone(regs)
	slices.SortStableFunc(rs, func(x, y Registration) int { return x.Time.Compare(y.Time) })
	for k := range rs {
		if rs[k].Issued < 0 && k < len(b.Issued) {
			rs[k].Issued = b.Issued[k]
		}
	}
	slices.SortStableFunc(rs, func(x, y Registration) int { return cmp.Compare(x.Issued, y.Issued) })
	linked := make([]bool, len(rs))
	g := Guess{}
	for _, bal := range b.Ballots {
		for k := len(rs) - 1; k >= 0; k-- {
			if !linked[k] && rs[k].Issued < bal.Index {
				linked[k], g[rs[k].Voter] = true, bal.Credential
				break
			}
		}
	}
	return g
}

// ByTime links each first ballot, in board order, to the voter not linked
// yet who registered last before the ballot's entry time (entry times are
// to the second, so a registration in the same second counts as before).
func ByTime(regs []Registration, b *Board) Guess {
	rs := slices.Clone(regs)
	slices.SortStableFunc(rs, func(x, y Registration) int { return x.Time.Compare(y.Time) })
	linked := make([]bool, len(rs))
	g := Guess{}
	for _, bal := range b.Ballots {
		until := bal.Time.Add(time.Second)
		for k := len(rs) - 1; k >= 0; k-- {
			if !linked[k] && rs[k].Time.Before(until) {
				linked[k], g[rs[k].Voter] = true, bal.Credential
				break
			}
		}
	}
	return g
}

// Correct counts the voters among voters whom g links to their own
// credential (truth maps each voter to it).
func Correct(g Guess, truth map[string]string, voters []string) int {
	n := 0
	for _, v := range voters {
		if c, ok := g[v]; ok && c == truth[v] {
			n++
		}
	}
	return n
}

// Chance is how many of voters an attacker links, in expectation, who
// knows for each voter the entry time of their ballot and guesses among
// the first ballots of that time: the sum of one over their number.
func Chance(b *Board, truth map[string]string, voters []string) float64 {
	sameTime := map[time.Time]int{}
	at := map[string]time.Time{}
	for _, bal := range b.Ballots {
		sameTime[bal.Time]++
		at[bal.Credential] = bal.Time
	}
	var sum float64
	for _, v := range voters {
		if t, ok := at[truth[v]]; ok {
			sum += 1 / float64(sameTime[t])
		}
	}
	return sum
}
