package ceremony

import (
	"encoding/json"
	"fmt"

	"github.com/koe-vote/koe/internal/strictjson"
)

// The ceremony's rounds (SPEC.md §6.2), by the names under which their
// messages are posted, stand on the board (the board.Type… entry types of
// the same names) and are filed in a record (ceremony/<round>-<j>.json).
const (
	RoundAnnounce = "announce"
	RoundDeal     = "deal"
	RoundVerdict  = "verdict"
	RoundRespond  = "respond"
)

// Rounds lists the rounds in order.
var Rounds = [...]string{RoundAnnounce, RoundDeal, RoundVerdict, RoundRespond}

// AddMessage decodes trustee j's message of a round (one of Rounds; a
// respond message is the JSON array of the trustee's responses) and adds
// it to the transcript. It is an error if the message is another
// trustee's, or if the round is not one of Rounds.
func (tr *Transcript) AddMessage(round string, j int, data []byte) error {
	signed := func(by int) error {
		if by != j {
			return fmt.Errorf("ceremony: the message of trustee %d is signed as trustee %d's", j, by)
		}
		return nil
	}
	switch round {
	case RoundAnnounce:
		a, err := DecodeAnnouncement(tr.Params, data)
		if err != nil {
			return err
		}
		if err := signed(a.Index); err != nil {
			return err
		}
		tr.Announcements = append(tr.Announcements, *a)
	case RoundDeal:
		d, err := DecodeDealing(tr.Params, data)
		if err != nil {
			return err
		}
		if err := signed(d.From); err != nil {
			return err
		}
		tr.Dealings = append(tr.Dealings, *d)
	case RoundVerdict:
		v, err := DecodeVerdict(tr.Params, data)
		if err != nil {
			return err
		}
		if err := signed(v.From); err != nil {
			return err
		}
		tr.Verdicts = append(tr.Verdicts, *v)
	case RoundRespond:
		var raws []json.RawMessage
		if err := strictjson.Decode(data, &raws); err != nil {
			return fmt.Errorf("ceremony: want a JSON array of responses: %w", err)
		}
		rs := make([]Response, 0, len(raws))
		for _, raw := range raws {
			r, err := DecodeResponse(tr.Params, raw)
			if err != nil {
				return err
			}
			if err := signed(r.Dealer); err != nil {
				return err
			}
			rs = append(rs, *r)
		}
		tr.Responses = append(tr.Responses, rs...)
	default:
		return fmt.Errorf("ceremony: no round %q (announce, deal, verdict, respond)", round)
	}
	return nil
}

// IsRound reports whether s names one of the rounds.
func IsRound(s string) bool {
	for _, r := range Rounds {
		if s == r {
			return true
		}
	}
	return false
}
