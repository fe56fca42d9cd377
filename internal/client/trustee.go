package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/tally"
)

// CeremonyMessage is one trustee's message of one round, as the board holds it.
type CeremonyMessage struct {
	Trustee int             `json:"trustee"`
	Message json.RawMessage `json:"message"`
}

// Ceremony fetches every ceremony message on the election's board, by round,
// from the plain endpoint: nothing proves that they are the board's. It is
// for displays; a trustee reads the ceremony with CeremonyFromBoard.
func (c *Client) Ceremony(ctx context.Context, id string) (map[string][]CeremonyMessage, error) {
	var out map[string][]CeremonyMessage
	err := c.Do(ctx, "GET", api.ElectionPath(id, "/ceremony"), "", nil, &out)
	return out, err
}

// BoardKey fetches the election's board key (a note verifier key), which a
// trustee pins on first use and compares with the one the administrator
// announced.
func (c *Client) BoardKey(ctx context.Context, id string) (string, error) {
	var in api.ElectionInfo
	if err := c.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil {
		return "", err
	}
	if in.BoardKey == "" {
		return "", fmt.Errorf("election %s: the server gives no board key", id)
	}
	return in.BoardKey, nil
}

// BoardCeremony is the manifest and the key ceremony as the board holds
// them, read from its tiles under a signed checkpoint (SPEC.md §6.6).
type BoardCeremony struct {
	Manifest   []byte                    // the manifest entry's manifest bytes
	Messages   map[string]map[int][]byte // round → trustee → message
	Checkpoint *board.Checkpoint         // the checkpoint every entry was proved against
}

// CeremonyFromBoard reads the manifest and the ceremony messages from the
// election's board (ReadBoard: every entry proved against a checkpoint
// signed under verifier, consistent with prev if not nil), up to the open
// entry. It refuses a board with no manifest, a manifest after a ceremony
// message or two messages of one trustee in one round; of a draft's
// manifests the last counts.
func (c *Client) CeremonyFromBoard(ctx context.Context, id string, verifier note.Verifier, prev []byte) (*BoardCeremony, error) {
	v, err := c.ReadBoard(ctx, id, verifier, prev, func(e board.Entry) bool { return e.Type == board.TypeOpen })
	if err != nil {
		return nil, err
	}
	out := &BoardCeremony{Messages: map[string]map[int][]byte{}, Checkpoint: v.Checkpoint}
	for i, e := range v.Entries {
		switch round, ok := e.Type, ceremony.IsRound(e.Type); {
		case e.Type == board.TypeManifest:
			var b board.ManifestBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fmt.Errorf("board entry %d (manifest): %w", i, err)
			}
			if len(out.Messages) > 0 {
				return nil, fmt.Errorf("board entry %d: a manifest after the key ceremony began (SPEC.md §13.6 L1)", i)
			}
			// A later manifest supersedes a draft's earlier one (SPEC.md §15.2).
			if out.Manifest, err = strictjson.Base64(b.Manifest); err != nil {
				return nil, fmt.Errorf("board entry %d (manifest): %w", i, err)
			}
		case ok:
			var b board.CeremonyBody
			if err := strictjson.Decode(e.Body, &b); err != nil {
				return nil, fmt.Errorf("board entry %d (%s): %w", i, e.Type, err)
			}
			if out.Messages[round] == nil {
				out.Messages[round] = map[int][]byte{}
			}
			if _, dup := out.Messages[round][b.Trustee]; dup {
				return nil, fmt.Errorf("board entry %d: trustee %d's second %s message", i, b.Trustee, round)
			}
			out.Messages[round][b.Trustee] = b.Message
		}
	}
	if out.Manifest == nil {
		return nil, fmt.Errorf("election %s: the board holds no manifest", id)
	}
	return out, nil
}

// PostCeremony posts this trustee's message of a round (ceremony.RoundAnnounce, …).
func (c *Client) PostCeremony(ctx context.Context, id, round string, msg any) error {
	return c.JSON(ctx, "POST", api.ElectionPath(id, "/ceremony/"+round), msg, nil)
}

// Transcript fetches the ceremony messages from the plain endpoint (see
// Ceremony) and decodes them as a transcript.
func (c *Client) Transcript(ctx context.Context, id string, p ceremony.Params) (*ceremony.Transcript, error) {
	msgs, err := c.Ceremony(ctx, id)
	if err != nil {
		return nil, err
	}
	tr := &ceremony.Transcript{Params: p}
	for _, round := range []string{ceremony.RoundAnnounce, ceremony.RoundDeal, ceremony.RoundVerdict, ceremony.RoundRespond} {
		for _, m := range msgs[round] {
			if err := tr.AddMessage(round, m.Trustee, m.Message); err != nil {
				return nil, err
			}
		}
	}
	return tr, nil
}

// Tally fetches the encrypted tally.
func (c *Client) Tally(ctx context.Context, id string) (*tally.Encrypted, error) {
	var t tally.Encrypted
	err := c.Do(ctx, "GET", api.ElectionPath(id, "/tally"), "", nil, &t)
	return &t, err
}

// PostDecryption posts this trustee's partial decryption.
func (c *Client) PostDecryption(ctx context.Context, id string, s *tally.Share) error {
	return c.JSON(ctx, "POST", api.ElectionPath(id, "/decryptions"), s, nil)
}

// FetchRecord downloads the election's record, as the server derives it
// from its board (the entries, the signed checkpoint and its key, SPEC.md
// §13.6), and unpacks it into a new temporary directory, which the caller
// removes. Nothing in it is trusted until it has been verified.
func (c *Client) FetchRecord(ctx context.Context, id string) (string, error) {
	archive, err := c.Raw(ctx, "GET", api.ElectionPath(id, "/record"), "", nil)
	if err != nil {
		return "", err
	}
	dir, err := record.Unpack(bytes.NewReader(archive), "")
	if err != nil {
		return "", fmt.Errorf("the record of %s: %w", id, err)
	}
	return dir, nil
}
