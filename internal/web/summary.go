package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

// summary is what the pages show of a whole board: counts of its entries
// and the ballots cast in each hour.
type summary struct {
	Size    int64            // entries summarised
	Types   map[string]int64 // entries by type
	Voters  int64            // the roll's size after its last roll entry
	HasRoll bool
	Issued  int64               // credentials issued
	Ballots int64               // ballot entries (re-votes included)
	Spoiled int64               // spoiled ballots
	PerHour map[time.Time]int64 // ballot entries by hour (UTC)
	// Voted holds the distinct credentials among the ballot entries
	// (voterKey): how many voters have cast, re-votes counted once.
	Voted     map[uint64]struct{}
	Trustees  *trusteeBoard // the trustees' work after the tally (progress.go)
	OpenedAt  time.Time
	ClosedAt  time.Time
	LastEntry time.Time
}

func (s *summary) clone() *summary {
	c := *s
	c.Types = maps.Clone(s.Types)
	c.PerHour = maps.Clone(s.PerHour)
	c.Voted = maps.Clone(s.Voted)
	c.Trustees = s.Trustees.clone()
	return &c
}

func (s *summary) add(e board.Entry) {
	s.Size++
	s.Types[e.Type]++
	s.LastEntry = e.Time
	switch e.Type {
	case board.TypeRoll:
		var b board.RollBody
		if json.Unmarshal(e.Body, &b) == nil {
			s.Voters, s.HasRoll = s.Voters+int64(len(b.Commitments)), true
		}
	case board.TypeCredentialIssued:
		s.Issued++
	case board.TypeBallot:
		s.Ballots++
		s.PerHour[e.Time.UTC().Truncate(time.Hour)]++
		if k, ok := voterKey(e.Body); ok {
			s.Voted[k] = struct{}{}
		}
	case board.TypeSpoiled:
		s.Spoiled++
	case board.TypeOpen:
		s.OpenedAt = e.Time
	case board.TypeClose:
		s.ClosedAt = e.Time
	case board.TypeDecryption, board.TypeMix, board.TypeMixDecryption:
		s.Trustees.add(e)
	}
}

func newSummary() *summary {
	return &summary{Types: map[string]int64{}, PerHour: map[time.Time]int64{}, Voted: map[uint64]struct{}{}, Trustees: newTrusteeBoard()}
}

// boardSummary summarises the election's board up to size entries,
// reading only the entries added since the last call.
func (s *Site) boardSummary(ctx context.Context, id string, size int64) (*summary, error) {
	s.cache.mu.Lock()
	prev := s.cache.summaries[id]
	s.cache.mu.Unlock()
	var sum *summary
	if prev != nil && prev.Size <= size {
		sum = prev.clone()
	} else {
		sum = newSummary()
	}
	if sum.Size < size {
		raws, err := s.readEntries(ctx, id, sum.Size, size)
		if err != nil {
			return nil, err
		}
		for i, raw := range raws {
			e, err := board.DecodeEntry(raw)
			if err != nil {
				return nil, fmt.Errorf("board entry %d: %w", sum.Size+int64(i), err)
			}
			sum.add(e)
		}
		s.cache.mu.Lock()
		if cur := s.cache.summaries[id]; cur == nil || cur.Size < sum.Size {
			s.cache.summaries[id] = sum.clone()
		}
		s.cache.mu.Unlock()
	}
	return sum, nil
}

// entryView is one board entry as the explorer lists it.
type entryView struct {
	Index    int64
	Type     string
	Time     time.Time
	Size     int
	Tracking string // ballots and spoiled ballots: the tracking code
	Counter  uint64 // ballots: the envelope's counter
	Trustee  int    // ceremony and decryption entries
	Count    int    // tally and results: the ballots counted
	Detail   string // a short, language-neutral summary (numbers, hashes)
	Info     string // catalogue key of a short description of the entry's type
}

func describeEntry(index int64, raw []byte) entryView {
	v := entryView{Index: index, Size: len(raw), Type: "?"}
	e, err := board.DecodeEntry(raw)
	if err != nil {
		v.Detail = err.Error()
		return v
	}
	v.Type, v.Time, v.Info = e.Type, e.Time, "entry."+e.Type
	switch e.Type {
	case board.TypeManifest:
		var b board.ManifestBody
		if json.Unmarshal(e.Body, &b) == nil {
			if m, err := base64.StdEncoding.DecodeString(b.Manifest); err == nil {
				h := ballot.Hash(m)
				v.Detail = fmt.Sprintf("SHA-256 %x…", h[:8])
			}
		}
	case board.TypeAnnounce, board.TypeDeal, board.TypeVerdict, board.TypeRespond:
		var b board.CeremonyBody
		if json.Unmarshal(e.Body, &b) == nil {
			v.Trustee = b.Trustee
		}
	case board.TypeDecryption:
		var b board.DecryptionBody
		if json.Unmarshal(e.Body, &b) == nil {
			v.Trustee = b.Trustee
		}
	case board.TypeElectionKey:
		var p record.Params
		if json.Unmarshal(e.Body, &p) == nil && len(p.JointKey) >= 16 {
			v.Detail = "K = " + p.JointKey[:16] + "…"
		}
	case board.TypeRoll:
		var b board.RollBody
		if json.Unmarshal(e.Body, &b) == nil {
			v.Detail = fmt.Sprintf("+%d", len(b.Commitments))
		}
	case board.TypeCredentialIssued:
		if in, err := board.DecodeIssued(e.Body); err == nil {
			v.Detail = fmt.Sprintf("%x…", in.Value[:8])
			if in.DigitalID {
				v.Detail = "digital ID " + v.Detail
			}
		}
	case board.TypeBallot:
		if env, err := ballotbox.ParseEnvelope(e.Body); err == nil {
			v.Tracking = ballot.FormatTrackingCode(ballot.TrackingCode(env.Ballot))
			v.Counter = env.Counter
		}
	case board.TypeSpoiled:
		if sp, err := ballot.ParseSpoiled(e.Body); err == nil {
			v.Tracking = ballot.FormatTrackingCode(ballot.TrackingCode(sp.Ballot))
		}
	case board.TypeTally:
		var t tally.Encrypted
		if json.Unmarshal(e.Body, &t) == nil {
			v.Count = t.Ballots
		}
	case board.TypeResults:
		if r, err := tally.ParseResults(e.Body); err == nil {
			v.Count = r.Ballots
		}
	}
	return v
}
