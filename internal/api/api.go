// Package api holds the wire types of koe's HTTP API (SPEC.md §15): the
// paths, the election states, the JSON bodies of requests and answers and
// the stable error codes, shared by the server (internal/server and its
// role packages), the client (internal/client) and the web pages
// (internal/web), so that each wire format is declared once.
package api

import (
	"encoding/json"
	"net/url"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/oidcreg"
	"github.com/koe-vote/koe/internal/record"
)

// Prefix is the path of the API's version 1 (SPEC.md §15.1).
const Prefix = "/api/v1"

// ElectionPath returns /api/v1/elections/{id} plus a suffix.
func ElectionPath(id, suffix string) string {
	return Prefix + "/elections/" + url.PathEscape(id) + suffix
}

// Election states (SPEC.md §15.2).
const (
	StateSetup     = "setup"     // created; trustees run the key ceremony; the roll is imported
	StateOpen      = "open"      // voters register and cast
	StateClosed    = "closed"    // no more ballots
	StateTallied   = "tallied"   // the encrypted tally is on the board; trustees decrypt
	StatePublished = "published" // the results are on the board
)

// ElectionInfo is the public description of an election (GET /elections/{id}).
type ElectionInfo struct {
	ID           string          `json:"id"`
	State        string          `json:"state"`
	Title        ballot.Text     `json:"title"`
	Kind         string          `json:"kind"`
	Manifest     json.RawMessage `json:"manifest,omitempty"`
	RegistrarKey string          `json:"registrarKey"`
	BoardKey     string          `json:"boardKey"`
	Origin       string          `json:"origin"`
	Params       *record.Params  `json:"params,omitempty"`    // once the ceremony is complete
	DigitalID    *DigitalIDInfo  `json:"digitalID,omitempty"` // if voters may register by digital ID (§15.6)
}

// Created is the administrator's answer to creating an election: the
// trustees' tokens are shown once, here, and never again.
type Created struct {
	ElectionInfo
	TrusteeTokens []string `json:"trusteeTokens"`
}

// DigitalIDInfo is the public side of an election's digital-ID
// registration: who signs voters in and who is eligible.
type DigitalIDInfo struct {
	Issuer string         `json:"issuer"`
	Scopes []string       `json:"scopes"`
	Rules  []oidcreg.Rule `json:"rules,omitempty"`
}

// RegisterRequest asks the registrar for a blind signature (SPEC.md §15.3).
type RegisterRequest struct {
	Voter   string `json:"voter"`   // the voter id on the roll
	Code    string `json:"code"`    // the one-time code from the voter's letter
	Blinded []byte `json:"blinded"` // the blinded credential message (base64)
}

// RegisterResponse carries the registrar's blind signature and the
// voter's receipt for the issuance: the value its credential-issued entry
// names (SPEC.md §15.3), hex.
type RegisterResponse struct {
	BlindSignature []byte `json:"blindSignature"`
	Issuance       string `json:"issuance"`
}

// ReissueRequest asks the registrar for new one-time codes for voters who
// lost their letter (SPEC.md §15.3 Re-issue): 1 to MaxReissue voter ids.
// With SkipRegistered, voters who registered are listed in the answer
// instead of refusing the request (for re-issuing every unused code of a
// roll file).
type ReissueRequest struct {
	Voters         []string `json:"voters"`
	SkipRegistered bool     `json:"skipRegistered"`
}

// MaxReissue is the most voters one re-issue request names.
const MaxReissue = 100_000

// ReissueResponse carries the new codes, shown once, and the voters left
// as they were: registered already, or not on the roll.
type ReissueResponse struct {
	Codes      []VoterCode `json:"codes"`
	Registered []string    `json:"registered"`
	Unknown    []string    `json:"unknown"`
}

// VoterCode is a voter id and its one-time code, for a letter.
type VoterCode struct {
	Voter string `json:"voter"`
	Code  string `json:"code"`
}

// OIDCStartRequest starts a digital-ID sign-in (SPEC.md §15.6).
type OIDCStartRequest struct {
	Blinded []byte `json:"blinded"` // the blinded credential message (base64)
}

// OIDCStartResponse is where to send the voter's browser.
type OIDCStartResponse struct {
	AuthorizationURL string `json:"authorizationURL"`
}

// OIDCCallbackResponse is the callback's JSON answer on success: the
// blind signature and the voter's receipt, the value d (hex) that the
// issuance's credential-issued entry names (SPEC.md §15.6).
type OIDCCallbackResponse struct {
	BlindSignature []byte `json:"blindSignature"`
	Issuance       string `json:"issuance"`
}

// CastResponse is the voter's receipt for a cast ballot (SPEC.md §13.4).
type CastResponse struct {
	TrackingCode string         `json:"trackingCode"` // for people: base32 in groups of four
	Receipt      *board.Receipt `json:"receipt"`
}

// CredentialState is what the ballot box knows of a credential key: its
// last accepted counter and where that cast is on the board, both public
// on the board already (SPEC.md §15.4). Last and Index are both absent
// for a key that never cast.
type CredentialState struct {
	Next  uint64  `json:"next"`            // the counter the credential's next cast must carry
	Last  *uint64 `json:"last,omitempty"`  // the counter of its last accepted cast
	Index *int64  `json:"index,omitempty"` // the board index of that cast
}
