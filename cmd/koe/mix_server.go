package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/mixnet"
)

// serverPlace: the mix's state and lists come from the server's mix
// routes (SPEC.md §16.6), its rounds and shares are posted there. What the
// trustee mixes and decrypts is the chain it rebuilt from the verified
// board (loadChains): the routes only tell it whether the server has moved
// on since, and their list must be the one it verified.

// checkMixState compares the server's state of c's mix with the chain
// rebuilt from the board the trustee verified: the same rounds, by the
// same trustees, and the same latest list.
func (p *serverPlace) checkMixState(c *mixnet.Chain) error {
	ctx := context.Background()
	st, err := p.c.Mixes(ctx, p.id)
	if err != nil {
		return err
	}
	var q *api.MixState
	for i := range st.Questions {
		if st.Questions[i].Question == c.ID {
			q = &st.Questions[i]
		}
	}
	if q == nil {
		return fmt.Errorf("the server %s shows no mix of question %q", p.c.Base, c.ID)
	}
	if len(q.Rounds) != len(c.Rounds) {
		return withHint(fmt.Errorf("question %q: the server now has %d rounds, the board you verified %d: another trustee posted meanwhile", c.ID, len(q.Rounds), len(c.Rounds)), "run koe trustee mix again")
	}
	for r, round := range q.Rounds {
		if round.Round != r+1 || round.Trustee != c.Rounds[r].Trustee {
			return fmt.Errorf("question %q: the server says round %d is trustee %d's, its board trustee %d's", c.ID, round.Round, round.Trustee, c.Rounds[r].Trustee)
		}
	}
	if q.Count != c.Input.Len() || q.Width != c.Input.Width() {
		return fmt.Errorf("question %q: the server mixes %d answers of %d ciphertexts, its board counts %d of %d", c.ID, q.Count, q.Width, c.Input.Len(), c.Input.Width())
	}
	list, err := p.c.MixList(ctx, p.id, c.ID, len(c.Rounds))
	if err != nil {
		return err
	}
	if !bytes.Equal(list, c.Last().Bytes()) {
		return withHint(fmt.Errorf("question %q: the server's list %d is not the one its board implies", c.ID, len(c.Rounds)), "the server shows you something other than its board; tell the administrator and the other trustees")
	}
	return nil
}

func (p *serverPlace) publishRound(c *mixnet.Chain, j int, msg []byte) (string, error) {
	r, err := p.c.PostMix(context.Background(), p.id, c.ID, msg)
	switch {
	case client.IsCode(err, api.CodeDuplicate):
		return "", withHint(fmt.Errorf("already mixed: %w", err), "each trustee mixes a question once")
	case client.IsCode(err, api.CodeMixComplete):
		return "", withHint(fmt.Errorf("the mix is complete: %w", err), "another trustee posted the last round meanwhile; decrypt: koe trustee decrypt")
	case err != nil:
		return "", err
	case r != len(c.Rounds)+1:
		return "", fmt.Errorf("the server took it as round %d, not %d", r, len(c.Rounds)+1)
	}
	return p.describe(), nil
}

func (p *serverPlace) publishMixShare(c *mixnet.Chain, j int, share []byte) (string, error) {
	err := p.c.PostMixShare(context.Background(), p.id, c.ID, share)
	if client.IsCode(err, api.CodeDuplicate) {
		return "", withHint(fmt.Errorf("already decrypted: %w", err), "each trustee decrypts a question's final list once")
	}
	if err != nil {
		return "", err
	}
	return p.describe(), nil
}
