package verify

import (
	"fmt"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/tally"
)

// mixRules are the board rules of the mix (SPEC.md §16.6 Entries and
// Lifecycle) that need no ballot: kept by the lifecycle as the entries are
// read in log order, for a whole board (checkLifecycle) as for a Follower.
// Every entry is fed to a board.Assembler, so a message's parts are
// consecutive, in order, of one type, trustee, question and part count,
// and their number is the one the message's exact size gives. A round must
// be by a qualified trustee who has not mixed the question, while it has
// fewer than t rounds; a share by a qualified trustee who has not
// decrypted it, once it has its t rounds; neither below the privacy
// threshold. The results entry requires every mixed question's t rounds
// and t shares. The proofs of the rounds and shares are checked on the
// record's files (§11 step 11), which §13.6 step 3 ties to these entries.
type mixRules struct {
	threshold int
	privacy   int
	keys      map[int]*group.Element // the qualified trustees
	questions map[string]*mixState   // the mixed questions, by id
	order     []string               // their ids in manifest order
	count     int                    // N, the counted ballots: set before the tally entry
	parts     board.Assembler
}

type mixState struct {
	width  int
	rounds []int // the trustee of each round
	shares map[int]bool
}

func newMixRules(e *ballot.Election, keys map[int]*group.Element) *mixRules {
	m := &mixRules{threshold: e.Manifest.Threshold, privacy: e.Manifest.PrivacyThreshold(), keys: keys, questions: map[string]*mixState{}}
	for _, qi := range e.Manifest.Mixed() {
		id := e.Manifest.Questions[qi].ID
		m.questions[id] = &mixState{width: e.Style.Questions[qi].Selections, shares: map[int]bool{}}
		m.order = append(m.order, id)
	}
	m.parts.Size = m.size
	return m
}

// size is the Assembler's Size: the exact size of the message trustee may
// post about question now, or why it may post none.
func (m *mixRules) size(typ string, trustee int, question string) (int, error) {
	q := m.questions[question]
	switch {
	case q == nil:
		return 0, fmt.Errorf("%q is not a text or rank question of the manifest", question)
	case m.count < m.privacy:
		return 0, fmt.Errorf("no mix: the tally counts %d ballots, below the privacy threshold of %d", m.count, m.privacy)
	case m.keys[trustee] == nil:
		return 0, fmt.Errorf("trustee %d is not a qualified trustee", trustee)
	}
	if typ == board.TypeMix {
		if len(q.rounds) >= m.threshold {
			return 0, fmt.Errorf("question %q already has its %d rounds", question, m.threshold)
		}
		for r, j := range q.rounds {
			if j == trustee {
				return 0, fmt.Errorf("trustee %d already mixed question %q (round %d)", trustee, question, r+1)
			}
		}
		return mixnet.RoundSize(m.count, q.width), nil
	}
	if len(q.rounds) < m.threshold {
		return 0, fmt.Errorf("a decryption of question %q before its %d rounds (it has %d)", question, m.threshold, len(q.rounds))
	}
	if q.shares[trustee] {
		return 0, fmt.Errorf("trustee %d already decrypted question %q", trustee, question)
	}
	return tally.ListShareSize(m.count * q.width), nil
}

// feed takes the board's next entry, of any type.
func (m *mixRules) feed(i int, en board.Entry) error {
	msg, err := m.parts.Feed(int64(i), en)
	if err != nil || msg == nil {
		return err
	}
	q := m.questions[msg.Question]
	if msg.Type == board.TypeMix {
		q.rounds = append(q.rounds, msg.Trustee)
	} else {
		q.shares[msg.Trustee] = true
	}
	return nil
}

// ready checks, at the results entry, that every mixed question has its t
// rounds and at least t shares.
func (m *mixRules) ready() error {
	for _, id := range m.order {
		q := m.questions[id]
		if len(q.rounds) < m.threshold || len(q.shares) < m.threshold {
			return fmt.Errorf("the results come before question %q's mix is done: %d of its %d rounds, %d decryptions (%d needed)", id, len(q.rounds), m.threshold, len(q.shares), m.threshold)
		}
	}
	return nil
}

// end checks a whole board: it does not end inside a message.
func (m *mixRules) end() error {
	if m.parts.Pending() {
		return fmt.Errorf("the board ends inside a mix message (SPEC.md §16.6)")
	}
	return nil
}
