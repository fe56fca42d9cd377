package demo

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/record"
)

// ServerCeremony runs the key ceremony of a server's election with
// in-process trustees, each posting its messages with its own token, and
// returns the trustees (for decrypting later).
func ServerCeremony(ctx context.Context, base, id string, manifest []byte, tokens []string) ([]*ceremony.Trustee, error) {
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
		if err := cs[j-1].PostCeremony(ctx, id, record.Announce, ann); err != nil {
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
		if err := cs[i].PostCeremony(ctx, id, record.Deal, d); err != nil {
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
		if err := cs[i].PostCeremony(ctx, id, record.Verdict, v); err != nil {
			return nil, err
		}
	}
	for i, tr := range ts {
		cur, err := transcript()
		if err != nil {
			return nil, err
		}
		rs, err := tr.Respond(h[:], cur.Verdicts)
		if err != nil {
			return nil, err
		}
		if rs == nil {
			rs = []ceremony.Response{}
		}
		if err := cs[i].PostCeremony(ctx, id, record.Respond, rs); err != nil {
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
	raw, err := admin.Raw(ctx, "POST", client.ElectionPath(id, "/roll"), "text/csv", []byte(b.String()))
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
