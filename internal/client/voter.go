package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/strictjson"

	"github.com/koe-vote/koe/internal/api"
)

// Election is what a voter's device needs of an election: fetched from
// the server, and checked (the manifest against its hash, the key against
// the ceremony's parameters).
type Election struct {
	ID        string
	State     string
	E         *ballot.Election
	Registrar *credential.PublicKey
	BoardKey  string
}

// Election fetches an open election.
func (c *Client) Election(ctx context.Context, id string) (*Election, error) {
	var in api.ElectionInfo
	if err := c.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil {
		return nil, err
	}
	if len(in.Manifest) == 0 {
		// The answer for one election always carries its manifest (SPEC.md §15.1).
		return nil, fmt.Errorf("%w: GET %s: no manifest", ErrAnswer, api.ElectionPath(id, ""))
	}
	if in.Params == nil {
		return nil, fmt.Errorf("election %s has no key yet (its ceremony is not complete)", id)
	}
	manifest, err := c.Raw(ctx, "GET", api.ElectionPath(id, "/manifest"), "", nil)
	if err != nil {
		return nil, err
	}
	keyBytes, err := decodeHex32(in.Params.JointKey)
	if err != nil {
		return nil, err
	}
	K, err := group.DecodePublicKey(keyBytes)
	if err != nil {
		return nil, err
	}
	pub := new(credential.PublicKey)
	if err := pub.UnmarshalText([]byte(in.RegistrarKey)); err != nil {
		return nil, err
	}
	e, err := ballot.NewElection(manifest, K, pub.ID())
	if err != nil {
		return nil, err
	}
	if fmt.Sprintf("%x", e.Context) != in.Params.Context {
		return nil, fmt.Errorf("election %s: the server's context does not follow from its manifest, key and registrar key", id)
	}
	return &Election{ID: in.ID, State: in.State, E: e, Registrar: pub, BoardKey: in.BoardKey}, nil
}

// RegistrarKey fetches the registrar's public key of an election.
func (c *Client) RegistrarKey(ctx context.Context, id string) (*credential.PublicKey, error) {
	var in api.ElectionInfo
	if err := c.Do(ctx, "GET", api.ElectionPath(id, ""), "", nil, &in); err != nil {
		return nil, err
	}
	pub := new(credential.PublicKey)
	if err := pub.UnmarshalText([]byte(in.RegistrarKey)); err != nil {
		return nil, fmt.Errorf("election %s: %w", id, err)
	}
	return pub, nil
}

// Register obtains an anonymous credential for a voter on the roll. It
// checks the registrar's receipt: the issuance entry it records names the
// voter's roll commitment, recomputed here from the letter (SPEC.md §15.3);
// CheckRoll finds it on the board later.
func (c *Client) Register(ctx context.Context, el *Election, voter, code string) (*credential.Credential, error) {
	commitment, err := credential.RollCommitment(el.ID, voter, code)
	if err != nil {
		return nil, err
	}
	pending, blinded, err := credential.Request(rand.Reader, el.Registrar, el.E.Context)
	if err != nil {
		return nil, err
	}
	var resp api.RegisterResponse
	req := api.RegisterRequest{Voter: voter, Code: code, Blinded: blinded}
	if err := c.JSON(ctx, "POST", api.ElectionPath(el.ID, "/register"), req, &resp); err != nil {
		return nil, err
	}
	if resp.Issuance != hex.EncodeToString(commitment[:]) {
		return nil, fmt.Errorf("election %s: the registrar recorded the issuance under %q, not under this letter's roll commitment %x", el.ID, resp.Issuance, commitment)
	}
	return pending.Finalize(resp.BlindSignature)
}

// Receipt is the server's answer to a cast.
type Receipt = api.CastResponse

// Seal encrypts a plaintext into a cast envelope signed by the credential.
// It returns the envelope and the ballot's nonces (to spoil it instead).
func Seal(el *Election, cred *credential.Credential, pt ballot.Plaintext, counter uint64) (*ballotbox.Envelope, *ballot.Ballot, ballot.Nonces, error) {
	// A fresh salt per ballot: if this ballot is challenged instead of
	// cast, its binding names no credential (SPEC.md §14.3).
	var salt [credential.SaltSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, nil, nil, err
	}
	b, nonces, err := ballot.Encrypt(rand.Reader, el.E, credential.Binding(cred.PublicKey, salt), pt)
	if err != nil {
		return nil, nil, nil, err
	}
	sig := cred.SignCast(el.E.Context, b.TrackingCode(), counter)
	return &ballotbox.Envelope{Ballot: b.Bytes(), Credential: cred.Bytes(), Salt: salt[:], Counter: counter, Signature: sig}, b, nonces, nil
}

// NextCounter asks the ballot box for the counter the credential's next
// cast must carry (its last accepted counter plus one, or 1 for its first
// cast; SPEC.md §15.4) and checks the answer against the board: the entry
// it names must be a ballot cast with this credential and that counter.
// The credential key is public on its cast entries already, so asking
// links nothing new. A ballot box that understates the counter only gets
// the cast refused as a replay, and one that overstates it, as a gap.
func (c *Client) NextCounter(ctx context.Context, el *Election, cred *credential.Credential) (uint64, error) {
	path := api.ElectionPath(el.ID, "/credentials/"+hex.EncodeToString(cred.PublicKey))
	state, err := c.Raw(ctx, "GET", path, "", nil)
	if err != nil {
		return 0, err
	}
	var st api.CredentialState
	if err := strictjson.Decode(state, &st); err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	var entry []byte
	if st.Index != nil {
		if entry, err = c.Raw(ctx, "GET", api.ElectionPath(el.ID, fmt.Sprintf("/entries/%d", *st.Index)), "", nil); err != nil {
			return 0, err
		}
	}
	return CheckCounter(cred.PublicKey, state, entry)
}

// CheckCounter checks the ballot box's answer state to GET
// /credentials/{vk} (SPEC.md §15.4) against entry, the board entry it
// names (nil if it names none), and returns the next counter: 1 for a key
// that never cast, else the counter of its last cast, which entry must be,
// plus one.
func CheckCounter(vk []byte, state, entry []byte) (uint64, error) {
	var st api.CredentialState
	if err := strictjson.Decode(state, &st); err != nil {
		return 0, fmt.Errorf("the ballot box's counter: %w", err)
	}
	switch {
	case st.Index == nil && st.Last == nil:
		if st.Next != 1 {
			return 0, fmt.Errorf("the ballot box says this credential never cast, yet its next counter is %d", st.Next)
		}
		return 1, nil
	case st.Index == nil || st.Last == nil || *st.Index < 0 || *st.Last == 0 || *st.Last == math.MaxUint64 || st.Next != *st.Last+1:
		return 0, fmt.Errorf("the ballot box's counter does not add up: %s", state)
	}
	e, err := board.DecodeEntry(entry)
	if err != nil {
		return 0, fmt.Errorf("board entry %d: %w", *st.Index, err)
	}
	if e.Type != board.TypeBallot {
		return 0, fmt.Errorf("board entry %d, named as this credential's last cast, is a %s entry", *st.Index, e.Type)
	}
	env, err := ballotbox.ParseEnvelope(e.Body)
	if err != nil {
		return 0, fmt.Errorf("board entry %d: %w", *st.Index, err)
	}
	if len(vk) != ed25519.PublicKeySize || len(env.Credential) < len(vk) || !bytes.Equal(env.Credential[:len(vk)], vk) || env.Counter != *st.Last {
		return 0, fmt.Errorf("board entry %d is not this credential's cast with counter %d", *st.Index, *st.Last)
	}
	return st.Next, nil
}

// Cast submits an envelope and returns the receipt.
func (c *Client) Cast(ctx context.Context, id string, env *ballotbox.Envelope) (*Receipt, error) {
	var r Receipt
	if err := c.JSON(ctx, "POST", api.ElectionPath(id, "/ballots"), env, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Spoil publishes an opened ballot (a Benaloh challenge).
func (c *Client) Spoil(ctx context.Context, id string, sp *ballot.Spoiled) error {
	return c.JSON(ctx, "POST", api.ElectionPath(id, "/spoiled"), sp, nil)
}

// CheckReceipt fetches the receipt of a tracking code and verifies it
// against the board's key: the entry is fetched from the board's tiles.
func (c *Client) CheckReceipt(ctx context.Context, id, tracking string) (*Receipt, error) {
	var r Receipt
	if err := c.Do(ctx, "GET", api.ElectionPath(id, "/receipts/"+tracking), "", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func decodeHex32(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%q is not 64 hex digits", s)
	}
	return b, nil
}

// VerifyCast fetches the board entry a receipt names and checks that it
// holds this envelope and that the receipt proves it is on the board,
// under the election's board key.
func (c *Client) VerifyCast(ctx context.Context, el *Election, env *ballotbox.Envelope, r *Receipt) error {
	entry, err := c.Raw(ctx, "GET", api.ElectionPath(el.ID, fmt.Sprintf("/entries/%d", r.Receipt.Index)), "", nil)
	if err != nil {
		return err
	}
	e, err := board.DecodeEntry(entry)
	if err != nil {
		return err
	}
	got, err := ballotbox.ParseEnvelope(e.Body)
	if err != nil {
		return err
	}
	if e.Type != board.TypeBallot || !bytes.Equal(got.Ballot, env.Ballot) || got.Counter != env.Counter {
		return fmt.Errorf("board entry %d is not this ballot", r.Receipt.Index)
	}
	v, err := board.ParseVerifierKey(el.BoardKey)
	if err != nil {
		return err
	}
	return board.VerifyReceipt(r.Receipt, entry, v)
}

// Reissue asks the registrar for new one-time codes for voters who lost
// their letter and have not registered (SPEC.md §15.3 Re-issue), with the
// administrator's token. The answer is the only copy of the new codes.
func (c *Client) Reissue(ctx context.Context, election string, voters []string, skipRegistered bool) (*api.ReissueResponse, error) {
	var out api.ReissueResponse
	req := api.ReissueRequest{Voters: voters, SkipRegistered: skipRegistered}
	if err := c.JSON(ctx, "POST", api.ElectionPath(election, "/roll/reissue"), req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
