package api

// Error is the JSON body of every error answer (SPEC.md §15.1).
type Error struct {
	Error   string `json:"error"`   // a stable code callers branch on (the Code constants)
	Message string `json:"message"` // what went wrong, for people
}

// The stable error codes of the API (SPEC.md §15.1). The digital-ID
// callback adds the reasons of oidcreg (oidcreg.Reason…).
const (
	CodeMalformed             = "malformed"
	CodeWrongState            = "wrong-state"
	CodeClosesPassed          = "closes-passed" // opening an election whose close time has passed
	CodeTooLarge              = "too-large"
	CodeDuplicate             = "duplicate"
	CodeClosed                = "closed"
	CodeRateLimited           = "rate-limited"
	CodeNotEligible           = "not-eligible"
	CodeNoDigitalId           = "no-digital-id"
	CodeUnknownState          = "unknown-state"
	CodeUnauthorized          = "unauthorized"
	CodeSpoiled               = "spoiled"
	CodeReusedCiphertext      = "reused-ciphertext"
	CodeNotFound              = "not-found"
	CodeInvalidOidc           = "invalid-oidc"
	CodeInternal              = "internal"
	CodeWrongTrustee          = "wrong-trustee"
	CodeWrongCounter          = "wrong-counter"
	CodeTooManyCasts          = "too-many-casts"
	CodeTooFewShares          = "too-few-shares"
	CodeReplay                = "replay"
	CodeProviderError         = "provider-error"
	CodeNotQualified          = "not-qualified"
	CodeNotOpen               = "not-open"
	CodeNoTally               = "no-tally"
	CodeNoResults             = "no-results"
	CodeNoRound               = "no-round"
	CodeNoElection            = "no-election"
	CodeInvalidSpoiled        = "invalid-spoiled"
	CodeInvalidShare          = "invalid-share"
	CodeInvalidMessage        = "invalid-message"
	CodeInvalidManifest       = "invalid-manifest"
	CodeExists                = "exists"
	CodeCeremonyIncomplete    = "ceremony-incomplete"
	CodeCast                  = "cast"
	CodeBelowPrivacyThreshold = "below-privacy-threshold"
	CodeBadRequest            = "bad-request"
	CodeAlreadyRegistered     = "already-registered"
	CodeInvalidBallot         = "invalid-ballot"
	CodeInvalidCredential     = "invalid-credential"
	CodeInvalidSignature      = "invalid-signature"
	CodeBadID                 = "bad-id"         // a path names no valid election id
	CodeNotCosigned           = "not-cosigned"   // the witnesses have not (yet) cosigned enough of the board
	CodeInvalidMix            = "invalid-mix"    // a mix round that is not valid (SPEC.md §16.6)
	CodeMixComplete           = "mix-complete"   // a round for a question that has its t rounds
	CodeMixIncomplete         = "mix-incomplete" // a list decryption share, or the results, before the t rounds
	CodeMixMoved              = "mix-moved"      // a round checked against a list that another round followed meanwhile
	CodeNoQuestion            = "no-question"    // a path names no mixed question of the election
	CodeManifestFixed         = "manifest-fixed" // editing a draft's manifest once a trustee has begun the key ceremony
	CodeStaleManifest         = "stale-manifest" // a ceremony message bound to a superseded manifest of a draft
	CodeDeletedID             = "deleted-id"     // creating an election with the id of a deleted draft
	CodeRevoked               = "revoked"        // a one-time code replaced by a re-issued letter (SPEC.md §15.3)
)
