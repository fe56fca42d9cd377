package demo

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

// ServerCeremony runs the key ceremony of a server's election with
// in-process trustees, each posting its messages with its own token, and
// returns the trustees (for decrypting later).
func ServerCeremony(ctx context.Context, base, id string, manifest []byte, tokens []string) ([]*ceremony.Trustee, error) {
	manifest, err := ServerManifest(ctx, base, id, manifest)
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	p := ceremony.Params{N: m.Trustees, T: m.Threshold}
	h := ballot.Hash(manifest)
	ts := make([]*ceremony.Trustee, p.N)
	cs := make([]*client.Client, p.N)
	for j := 1; j <= p.N; j++ {
		cs[j-1] = client.New(base, tokens[j-1])
		tr, ann, err := ceremony.NewTrustee(crand.Reader, p, h[:], j, fmt.Sprintf("受託者 %d (trustee %d)", j, j))
		if err != nil {
			return nil, err
		}
		ts[j-1] = tr
		if err := cs[j-1].PostCeremony(ctx, id, ceremony.RoundAnnounce, ann); err != nil {
			return nil, err
		}
	}
	transcript := func() (*ceremony.Transcript, error) { return cs[0].Transcript(ctx, id, p) }
	for i, tr := range ts {
		cur, err := transcript()
		if err != nil {
			return nil, err
		}
		d, err := tr.Deal(crand.Reader, h[:], cur.Announcements)
		if err != nil {
			return nil, err
		}
		if err := cs[i].PostCeremony(ctx, id, ceremony.RoundDeal, d); err != nil {
			return nil, err
		}
	}
	for i, tr := range ts {
		cur, err := transcript()
		if err != nil {
			return nil, err
		}
		v, err := tr.Receive(h[:], cur.Announcements, cur.Dealings)
		if err != nil {
			return nil, err
		}
		if err := cs[i].PostCeremony(ctx, id, ceremony.RoundVerdict, v); err != nil {
			return nil, err
		}
	}
	for i, tr := range ts {
		cur, err := transcript()
		if err != nil {
			return nil, err
		}
		rs, err := tr.Respond(h[:], cur.Announcements, cur.Verdicts)
		if err != nil {
			return nil, err
		}
		if rs == nil {
			rs = []ceremony.Response{}
		}
		if err := cs[i].PostCeremony(ctx, id, ceremony.RoundRespond, rs); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// ImportRoll adds n voters named PREFIX000… to a server's roll and returns
// their one-time codes by voter id.
func ImportRoll(ctx context.Context, admin *client.Client, id, prefix string, n int) (map[string]string, error) {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%05d\n", prefix, i)
	}
	raw, err := admin.Raw(ctx, "POST", api.ElectionPath(id, "/roll"), "text/csv", []byte(b.String()))
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		voter, code, _ := strings.Cut(strings.TrimSpace(line), ",")
		codes[voter] = code
	}
	return codes, nil
}

// ServerDecrypt has the trustees numbered in which (1-based, at least the
// threshold) finish the ceremony from the server's transcript, verify the
// board up to the tally, decrypt the election's encrypted tally and post
// their partial decryptions, each with its own token. The election must be
// tallied.
func ServerDecrypt(ctx context.Context, base, id string, manifest []byte, trustees []*ceremony.Trustee, tokens []string, which []int) error {
	return serverDecrypt(ctx, base, id, manifest, trustees, tokens, which, true)
}

// ServerDecryptTally is ServerDecrypt without the mix: the trustees
// decrypt the tally only (for tests that mix themselves).
func ServerDecryptTally(ctx context.Context, base, id string, manifest []byte, trustees []*ceremony.Trustee, tokens []string, which []int) error {
	return serverDecrypt(ctx, base, id, manifest, trustees, tokens, which, false)
}

func serverDecrypt(ctx context.Context, base, id string, manifest []byte, trustees []*ceremony.Trustee, tokens []string, which []int, mix bool) error {
	manifest, err := ServerManifest(ctx, base, id, manifest)
	if err != nil {
		return err
	}
	m, err := ballot.ParseManifest(manifest)
	if err != nil {
		return err
	}
	voter := client.New(base, "")
	el, err := voter.Election(ctx, id)
	if err != nil {
		return err
	}
	pub, err := voter.Tally(ctx, id)
	if err != nil {
		return err
	}
	// As every trustee must (SPEC.md §9.2): verify the board up to the
	// tally, and decrypt only the sum of exactly its counted ballots.
	dir, err := voter.FetchRecord(ctx, id)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rep, _, acc := verify.Counted(dir, verify.Options{})
	if acc == nil {
		return fmt.Errorf("the record does not verify up to the tally: %v", rep.Failures())
	}
	if err := verify.CheckTally(acc, pub); err != nil {
		return fmt.Errorf("the tally served %v", err)
	}
	h := ballot.Hash(manifest)
	tr, err := voter.Transcript(ctx, id, ceremony.Params{N: m.Trustees, T: m.Threshold})
	if err != nil {
		return err
	}
	for _, j := range which {
		if j < 1 || j > len(trustees) {
			return fmt.Errorf("no trustee %d", j)
		}
		if _, err := trustees[j-1].Finish(h[:], tr); err != nil {
			return fmt.Errorf("trustee %d: %w", j, err)
		}
		share, err := tally.Decrypt(crand.Reader, el.E, acc, j, trustees[j-1].Share())
		if err != nil {
			return fmt.Errorf("trustee %d: %w", j, err)
		}
		if err := client.New(base, tokens[j-1]).PostDecryption(ctx, id, share); err != nil {
			return fmt.Errorf("trustee %d: %w", j, err)
		}
	}
	if len(m.Mixed()) == 0 || !mix {
		return nil
	}
	res, err := tr.Verify(h[:])
	if err != nil {
		return err
	}
	return serverMix(ctx, base, id, el.E, dir, res.VerificationKeys, trustees, tokens, which)
}

// serverMix has the first t trustees of which mix every text and rank
// question in turn, one round each, and then every trustee of which post
// its decryption share of each final list (SPEC.md §16.6). The mix starts
// from the counted ballots of the record in dir, which the caller
// verified; each round and share is checked before it is posted.
func serverMix(ctx context.Context, base, id string, e *ballot.Election, dir string, keys map[int]*group.Element, trustees []*ceremony.Trustee, tokens []string, which []int) error {
	ballots, err := record.DecodeBallots(dir, e)
	if err != nil {
		return err
	}
	t := e.Manifest.Threshold
	if len(which) < t {
		return fmt.Errorf("%d trustees cannot mix %d rounds", len(which), t)
	}
	for _, qi := range e.Manifest.Mixed() {
		c, err := mixnet.NewChain(e, qi, ballots, keys, t)
		if err != nil {
			return err
		}
		for _, j := range which[:t] {
			msg, err := c.Mix(crand.Reader, j, trustees[j-1].Share())
			if err != nil {
				return fmt.Errorf("trustee %d mixing %q: %w", j, c.ID, err)
			}
			if err := c.AddRound(j, msg); err != nil {
				return fmt.Errorf("trustee %d mixing %q: %w", j, c.ID, err)
			}
			if _, err := client.New(base, tokens[j-1]).PostMix(ctx, id, c.ID, msg); err != nil {
				return fmt.Errorf("trustee %d posting its round of %q: %w", j, c.ID, err)
			}
		}
		for _, j := range which {
			share, err := c.Decrypt(crand.Reader, j, trustees[j-1].Share())
			if err != nil {
				return fmt.Errorf("trustee %d decrypting %q: %w", j, c.ID, err)
			}
			if err := c.AddShare(j, share); err != nil {
				return fmt.Errorf("trustee %d decrypting %q: %w", j, c.ID, err)
			}
			if err := client.New(base, tokens[j-1]).PostMixShare(ctx, id, c.ID, share); err != nil {
				return fmt.Errorf("trustee %d posting its decryption of %q: %w", j, c.ID, err)
			}
		}
	}
	return nil
}

// ServerManifest fetches the manifest of a server's election and checks it
// against the one posted: the same bytes, or — if the posted one named no
// board key — the same manifest with the server's board object filled in
// (SPEC.md §15.2). The server's bytes are the election's from then on.
func ServerManifest(ctx context.Context, base, id string, posted []byte) ([]byte, error) {
	got, err := client.New(base, "").Raw(ctx, "GET", api.ElectionPath(id, "/manifest"), "", nil)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(got, posted) {
		return got, nil
	}
	pm, err := ballot.ParseManifest(posted)
	if err != nil {
		return nil, err
	}
	sm, err := ballot.ParseManifest(got)
	if err != nil {
		return nil, fmt.Errorf("demo: the server's manifest: %w", err)
	}
	if pm.Board != nil || sm.Board == nil || len(sm.Board.Witnesses) != 0 {
		return nil, errors.New("demo: the server's manifest is not the one posted")
	}
	sm.Board = nil
	a, _ := json.Marshal(pm)
	b, _ := json.Marshal(sm)
	if !bytes.Equal(a, b) {
		return nil, errors.New("demo: the server's manifest is not the one posted")
	}
	return got, nil
}
