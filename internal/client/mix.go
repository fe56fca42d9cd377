package client

import (
	"context"
	"strconv"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/tally"
)

// The mix of text and rank answers (SPEC.md §16.6). Posting needs the
// trustee's token (Client.Token), as PostDecryption does.

// Mixes fetches the state of the election's mix: for each mixed question
// its size, the rounds posted and the trustees who decrypted its final
// list. It says what the server holds; nothing proves it is the board's.
func (c *Client) Mixes(ctx context.Context, id string) (*api.Mixes, error) {
	var out api.Mixes
	if err := c.Do(ctx, "GET", api.ElectionPath(id, "/mixes"), "", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MixList fetches list r of a question's mix, encoded as SPEC.md §16.3
// (64·N·w bytes): r = 0 is the input (the counted ballots' vectors),
// r ≥ 1 the output of round r. Decode it with shuffle.DecodeList.
func (c *Client) MixList(ctx context.Context, id, question string, round int) ([]byte, error) {
	return c.Raw(ctx, "GET", api.MixesPath(id, question, "/lists/"+strconv.Itoa(round)), "", nil)
}

// PostMix posts this trustee's round of a question's mix (its message:
// output list ‖ proof, as mixnet.Chain.Mix makes it) and returns the
// round's number once its entries are on the board.
func (c *Client) PostMix(ctx context.Context, id, question string, msg []byte) (int, error) {
	var out api.MixPosted
	if err := c.Do(ctx, "POST", api.MixesPath(id, question, ""), "application/octet-stream", msg, &out); err != nil {
		return 0, err
	}
	return out.Round, nil
}

// PostMixShare posts this trustee's decryption share of a question's
// final list (as mixnet.Chain.Decrypt makes it).
func (c *Client) PostMixShare(ctx context.Context, id, question string, share []byte) error {
	var out api.MixSharePosted
	return c.Do(ctx, "POST", api.MixesPath(id, question, "/decryptions"), "application/octet-stream", share, &out)
}

// Mixed fetches a question's decrypted answers and counts (mixed/Q.json)
// once the results are published.
func (c *Client) Mixed(ctx context.Context, id, question string) (*tally.MixedResult, error) {
	var out tally.MixedResult
	if err := c.Do(ctx, "GET", api.MixedPath(id, question), "", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
