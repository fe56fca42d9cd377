package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

// CeremonyMessage is one trustee's message of one round, as the board holds it.
type CeremonyMessage struct {
	Trustee int             `json:"trustee"`
	Message json.RawMessage `json:"message"`
}

// Ceremony fetches every ceremony message on the election's board, by round.
func (c *Client) Ceremony(ctx context.Context, id string) (map[string][]CeremonyMessage, error) {
	var out map[string][]CeremonyMessage
	err := c.Do(ctx, "GET", ElectionPath(id, "/ceremony"), "", nil, &out)
	return out, err
}

// PostCeremony posts this trustee's message of a round (record.Announce, …).
func (c *Client) PostCeremony(ctx context.Context, id, round string, msg any) error {
	return c.JSON(ctx, "POST", ElectionPath(id, "/ceremony/"+round), msg, nil)
}

// Transcript fetches the ceremony messages and decodes them as a transcript.
func (c *Client) Transcript(ctx context.Context, id string, p ceremony.Params) (*ceremony.Transcript, error) {
	msgs, err := c.Ceremony(ctx, id)
	if err != nil {
		return nil, err
	}
	tr := &ceremony.Transcript{Params: p}
	for _, round := range []string{record.Announce, record.Deal, record.Verdict, record.Respond} {
		for _, m := range msgs[round] {
			if err := record.AddMessage(tr, round, m.Trustee, m.Message); err != nil {
				return nil, err
			}
		}
	}
	return tr, nil
}

// Tally fetches the encrypted tally.
func (c *Client) Tally(ctx context.Context, id string) (*tally.Encrypted, error) {
	var t tally.Encrypted
	err := c.Do(ctx, "GET", ElectionPath(id, "/tally"), "", nil, &t)
	return &t, err
}

// PostDecryption posts this trustee's partial decryption.
func (c *Client) PostDecryption(ctx context.Context, id string, s *tally.Share) error {
	return c.JSON(ctx, "POST", ElectionPath(id, "/decryptions"), s, nil)
}

// FetchRecord downloads the election's record, as the server derives it
// from its board (the entries, the signed checkpoint and its key, SPEC.md
// §13.6), and unpacks it into a new temporary directory, which the caller
// removes. Nothing in it is trusted until it has been verified.
func (c *Client) FetchRecord(ctx context.Context, id string) (string, error) {
	archive, err := c.Raw(ctx, "GET", ElectionPath(id, "/record"), "", nil)
	if err != nil {
		return "", err
	}
	dir, err := record.Unpack(bytes.NewReader(archive), "")
	if err != nil {
		return "", fmt.Errorf("the record of %s: %w", id, err)
	}
	return dir, nil
}
