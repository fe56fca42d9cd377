package trusteeflow

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
)

// The steps of a trustee, in order, as the trustee page names them. Mix
// is a step only in an election with text or rank questions.
const (
	StepKeygen  = "keygen"
	StepDeal    = "deal"
	StepShares  = "shares"
	StepRespond = "respond"
	StepFinish  = "finish"
	StepMix     = "mix"
	StepDecrypt = "decrypt"
)

// ceremonySteps are the steps of the key ceremony and the round whose
// message each one publishes (finish publishes nothing).
var ceremonySteps = []struct{ step, round string }{
	{StepKeygen, ceremony.RoundAnnounce},
	{StepDeal, ceremony.RoundDeal},
	{StepShares, ceremony.RoundVerdict},
	{StepRespond, ceremony.RoundRespond},
}

// Steps lists the trustee's steps for the session's election.
func (s *Session) Steps() []string {
	out := []string{StepKeygen, StepDeal, StepShares, StepRespond, StepFinish}
	if len(s.M.Mixed()) > 0 {
		out = append(out, StepMix)
	}
	return append(out, StepDecrypt)
}

// Due is the step a trustee is at: the one it can do now, or the one it
// waits for the others (or the administrator) to make possible.
type Due struct {
	Step   string `json:"step"`
	Number int    `json:"number"` // 1-based, of Total
	Total  int    `json:"total"`
	// Waiting, if not "", is what must happen first: a ceremony round
	// that every trustee must finish, or "tally" (the administrator
	// closes and tallies the election).
	Waiting string `json:"waiting,omitempty"`
	Have    int    `json:"have,omitempty"` // trustees who finished the round waited for
	Need    int    `json:"need,omitempty"`
}

func (s *Session) due(step string) Due {
	d := Due{Step: step, Total: len(s.Steps())}
	for i, st := range s.Steps() {
		if st == step {
			d.Number = i + 1
		}
	}
	return d
}

// Announced lists the trustees who have published their announcement.
func (s *Session) Announced() ([]int, error) {
	msgs, err := s.Place.Messages(ceremony.RoundAnnounce)
	if err != nil {
		return nil, err
	}
	var out []int
	for j := 1; j <= s.P.N; j++ {
		if _, ok := msgs[j]; ok {
			out = append(out, j)
		}
	}
	return out, nil
}

// Due says which step the unlocked trustee is at, from the ceremony's
// messages at the place and its key file. After the ceremony it is the
// decryption (with the mix first, if the election has text or rank
// questions) once the tally exists.
func (s *Session) Due() (Due, error) {
	j := s.T.Index
	for i, cs := range ceremonySteps {
		msgs, err := s.Place.Messages(cs.round)
		if err != nil {
			return Due{}, err
		}
		if _, ok := msgs[j]; ok {
			continue
		}
		d := s.due(cs.step)
		if i == 0 {
			return d, fmt.Errorf("trustee %d's key file is on this device but its announcement is not at %s: the key was made for another election, or its announcement was never published", j, s.Place.Describe())
		}
		prev := ceremonySteps[i-1].round
		if have, err := s.Place.Messages(prev); err != nil {
			return d, err
		} else if len(have) < s.P.N {
			d.Waiting, d.Have, d.Need = prev, len(have), s.P.N
		}
		return d, nil
	}
	if !s.T.Finished() {
		d := s.due(StepFinish)
		if have, err := s.Place.Messages(ceremony.RoundRespond); err != nil {
			return d, err
		} else if len(have) < s.P.N {
			d.Waiting, d.Have, d.Need = ceremony.RoundRespond, len(have), s.P.N
		}
		return d, nil
	}
	step := StepDecrypt
	if len(s.M.Mixed()) > 0 {
		step = StepMix
	}
	d := s.due(step)
	if _, err := s.Place.Tally(); client.IsCode(err, api.CodeNoTally) || errors.Is(err, ErrNoTally) {
		d.Waiting = "tally"
	} else if err != nil {
		return d, err
	}
	return d, nil
}

// Report is what a step did, for the trustee page to put in words.
type Report struct {
	Due   Due    `json:"due"` // the step that was done
	Index int    `json:"index"`
	Where string `json:"where"`
	// KeyChanged: the key file was rewritten; the trustee must keep the
	// new one in place of the old.
	KeyChanged bool `json:"keyChanged"`
	// shares
	Complaints []ceremony.Complaint `json:"complaints,omitempty"`
	// respond
	Responses int   `json:"responses"`
	Against   []int `json:"against,omitempty"`
	// finish
	Qual     []int  `json:"qual,omitempty"`
	JointKey string `json:"jointKey,omitempty"`
	// mix and decrypt: what the trustee checked first, and did
	Checks    int       `json:"checks,omitempty"`
	Ballots   int       `json:"ballots,omitempty"`
	Already   bool      `json:"already,omitempty"` // the tally was decrypted before
	Decrypted bool      `json:"decrypted,omitempty"`
	Mixed     []Outcome `json:"mixed,omitempty"`
	MixShares []Outcome `json:"mixShares,omitempty"`
}

// Keygen makes trustee index's secrets and publishes its announcement
// (round 1). The key file's bytes are handed to keep before the
// announcement is published, as koe trustee keygen writes the file first.
func (s *Session) Keygen(index int, name string, pass []byte, keep func(sealed []byte) error) (*Report, error) {
	if index < 1 || index > s.P.N {
		return nil, fmt.Errorf("the trustee number must be 1..%d", s.P.N)
	}
	if err := s.CheckNotAnnounced(index); err != nil {
		return nil, err
	}
	t, ann, err := ceremony.NewTrustee(rand.Reader, s.P, s.Ctx, index, name)
	if err != nil {
		return nil, err
	}
	sealed, err := SealKey(t, pass)
	if err != nil {
		return nil, err
	}
	if err := keep(sealed); err != nil {
		return nil, err
	}
	where, err := s.Place.Publish(ceremony.RoundAnnounce, index, ann)
	if err != nil {
		return nil, err
	}
	return &Report{Due: s.due(StepKeygen), Index: index, Where: where, KeyChanged: true}, nil
}

// Run does the step that is due, if the trustee can do it now.
func (s *Session) Run() (*Report, error) {
	d, err := s.Due()
	if err != nil {
		return nil, err
	}
	r := &Report{Due: d, Index: s.T.Index}
	if d.Waiting != "" {
		return r, nil
	}
	save := s.Save
	s.Save = func(t *ceremony.Trustee) error {
		r.KeyChanged = true
		return save(t)
	}
	defer func() { s.Save = save }()
	switch d.Step {
	case StepDeal:
		r.Where, err = s.Deal()
	case StepShares:
		var v *ceremony.Verdict
		v, r.Where, err = s.Shares()
		if v != nil {
			r.Complaints = v.Complaints
		}
	case StepRespond:
		var rs []ceremony.Response
		rs, r.Against, r.Where, err = s.Respond()
		r.Responses = len(rs)
	case StepFinish:
		var res *ceremony.Result
		if res, err = s.Finish(); err == nil {
			r.Qual, r.JointKey = res.Qual, hex.EncodeToString(res.JointKey.Bytes())
		}
	case StepMix, StepDecrypt:
		err = s.decrypt(r)
	}
	return r, err
}

// decrypt verifies the record up to the tally, mixes every question that
// still needs this trustee's round, and decrypts the tally and every
// question whose mix is complete, as koe trustee mix then koe trustee
// decrypt do.
func (s *Session) decrypt(r *Report) error {
	s.Mixing = r.Due.Step == StepMix
	e, res, _, err := s.Election()
	if err != nil {
		return err
	}
	v, err := s.VerifiedTally(e, res)
	if err != nil {
		return err
	}
	r.Checks, r.Ballots = v.Checks, v.Acc.Ballots
	if len(v.Chains) > 0 {
		if r.Mixed, err = s.Mix(v.Chains); err != nil {
			return err
		}
	}
	s.Mixing = false
	if v.Decrypted {
		r.Already = true
	} else {
		if r.Where, err = s.DecryptTally(e, res, v); err != nil {
			return err
		}
		r.Decrypted = true
	}
	r.MixShares, err = s.DecryptMixed(v.Chains)
	return err
}
