package board

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Entry types (SPEC.md §13). The board accepts only these.
const (
	TypeManifest         = "manifest"
	TypeAnnounce         = "announce"
	TypeDeal             = "deal"
	TypeVerdict          = "verdict"
	TypeRespond          = "respond"
	TypeElectionKey      = "election-key"
	TypeRegistrarKey     = "registrar-key"
	TypeRoll             = "roll"
	TypeCredentialIssued = "credential-issued"
	TypeReissue          = "reissue" // a lost letter's code revoked and a new one issued (SPEC.md §15.3)
	TypeOpen             = "open"
	TypeBallot           = "ballot"
	TypeSpoiled          = "spoiled"
	TypeClose            = "close"
	TypeTally            = "tally"
	TypeDecryption       = "decryption"
	TypeResults          = "results"
	TypeMix              = "mix"            // one part of a trustee's mix round (SPEC.md §16.6)
	TypeMixDecryption    = "mix-decryption" // one part of a trustee's decryption of a mixed list
)

var knownTypes = map[string]bool{
	TypeManifest: true, TypeAnnounce: true, TypeDeal: true, TypeVerdict: true,
	TypeRespond: true, TypeElectionKey: true, TypeRegistrarKey: true, TypeRoll: true,
	TypeCredentialIssued: true, TypeOpen: true, TypeBallot: true, TypeSpoiled: true,
	TypeClose: true, TypeTally: true, TypeDecryption: true, TypeResults: true,
	TypeMix: true, TypeMixDecryption: true, TypeReissue: true,
}

// KnownType reports whether t is one of the entry types above.
func KnownType(t string) bool { return knownTypes[t] }

// MaxEntrySize is the largest encoded entry, in bytes. Entry bundles
// (tlog-tiles) prefix each entry with a uint16 length, so no entry may
// reach 64 KiB; 60 KiB leaves room.
const MaxEntrySize = 60 << 10

// timeLayout is RFC 3339 in UTC with second precision, e.g. 2026-11-23T10:57:00Z.
const timeLayout = "2006-01-02T15:04:05Z"

// Entry is one entry of an election's board (SPEC.md §13.1).
type Entry struct {
	Type     string          // one of the Type constants
	Election string          // the election id
	Time     time.Time       // when the entry was made; encoded in UTC to the second
	Body     json.RawMessage // a JSON object whose schema depends on Type
}

// Encode returns the canonical encoding of e, which is the leaf of the
// Merkle log: compact JSON with exactly the keys type, election, time and
// body in that order, strings escaped as encoding/json escapes them without
// HTML escaping, time as RFC 3339 UTC with second precision (Time is
// converted to UTC and truncated to the second), and body verbatim, which
// must already be a compact JSON object.
func (e Entry) Encode() ([]byte, error) {
	if !knownTypes[e.Type] {
		return nil, fmt.Errorf("board: unknown entry type %q", e.Type)
	}
	if e.Election == "" || !utf8.ValidString(e.Election) {
		return nil, errors.New("board: entry has an empty or invalid election id")
	}
	t := e.Time.UTC().Truncate(time.Second)
	if t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		return nil, fmt.Errorf("board: entry time %v is zero or out of range", e.Time)
	}
	if err := checkBody(e.Body); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	writeString(&b, e.Type)
	b.WriteString(`,"election":`)
	writeString(&b, e.Election)
	b.WriteString(`,"time":"`)
	b.WriteString(t.Format(timeLayout))
	b.WriteString(`","body":`)
	b.Write(e.Body)
	b.WriteString(`}`)
	if b.Len() > MaxEntrySize {
		return nil, fmt.Errorf("board: entry is %d bytes, more than the maximum %d", b.Len(), MaxEntrySize)
	}
	return b.Bytes(), nil
}

// writeString writes s as a JSON string, as encoding/json does without HTML escaping.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // cannot fail for a string
	// Drop the newline Encode adds.
	b.Truncate(b.Len() - 1)
}

// checkBody checks that body is one compact JSON object.
func checkBody(body []byte) error {
	if len(body) == 0 || body[0] != '{' {
		return errors.New("board: entry body is not a JSON object")
	}
	if !json.Valid(body) {
		return errors.New("board: entry body is not valid JSON")
	}
	var c bytes.Buffer
	if err := json.Compact(&c, body); err != nil {
		return fmt.Errorf("board: entry body: %v", err)
	}
	if !bytes.Equal(c.Bytes(), body) {
		return errors.New("board: entry body is not compact JSON")
	}
	return nil
}

// DecodeEntry decodes an entry, accepting only its canonical encoding
// (see Entry.Encode): unknown, missing or repeated keys, keys out of order,
// whitespace, trailing data, a time not in the exact form, an unknown type
// or an oversize entry are all errors.
func DecodeEntry(data []byte) (Entry, error) {
	if len(data) > MaxEntrySize {
		return Entry{}, fmt.Errorf("board: entry is %d bytes, more than the maximum %d", len(data), MaxEntrySize)
	}
	var v struct {
		Type     *string          `json:"type"`
		Election *string          `json:"election"`
		Time     *string          `json:"time"`
		Body     *json.RawMessage `json:"body"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return Entry{}, fmt.Errorf("board: decoding entry: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("board: trailing data after entry")
	}
	switch {
	case v.Type == nil:
		return Entry{}, errors.New(`board: entry has no "type"`)
	case v.Election == nil:
		return Entry{}, errors.New(`board: entry has no "election"`)
	case v.Time == nil:
		return Entry{}, errors.New(`board: entry has no "time"`)
	case v.Body == nil:
		return Entry{}, errors.New(`board: entry has no "body"`)
	}
	t, err := time.Parse(timeLayout, *v.Time)
	if err != nil || t.Format(timeLayout) != *v.Time {
		return Entry{}, fmt.Errorf("board: entry time %q is not RFC 3339 UTC to the second (like 2026-11-23T10:57:00Z)", *v.Time)
	}
	e := Entry{Type: *v.Type, Election: *v.Election, Time: t, Body: *v.Body}
	enc, err := e.Encode()
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(enc, data) {
		return Entry{}, errors.New(`board: entry is not in canonical form (compact JSON, keys "type", "election", "time", "body" in that order)`)
	}
	e.Body = bytes.Clone(e.Body)
	return e, nil
}
