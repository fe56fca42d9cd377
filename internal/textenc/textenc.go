// Package textenc embeds byte strings and text answers in the ristretto255
// group, as specified in SPEC.md §16.1–16.2.
//
// An element carries 30 bytes of data. Its 32-byte canonical encoding (RFC
// 9496 §4.3.2) is
//
//	b[0]    = 2·(k mod 128)        the low 7 bits of a counter k, shifted left
//	b[1:31] = the 30 data bytes
//	b[31]   = k / 128 (< 64)       the high bits of the counter
//
// and Embed takes the smallest k ∈ [0, 2^13) for which b decodes. Extract
// reads the canonical encoding back and strips the counter, so
// Extract(Embed(d)) = d: the map is injective and decodable. Extract is
// strict: it also rejects an element whose counter is not the smallest that
// decodes, so every data block has exactly one element.
//
// A text answer of at most L characters is the UTF-8 string, prefixed by its
// byte length (u16be) and zero-padded to a fixed number of blocks that
// depends only on L, so the ciphertexts do not reveal the length.
package textenc

import (
	"errors"
	"fmt"

	"github.com/koe-vote/koe/internal/group"
)

// BlockSize is the number of data bytes one element carries.
const BlockSize = 30

// MaxCounter bounds the counter k: k < MaxCounter = 2^13.
const MaxCounter = 1 << 13

// MaxChars is the largest maximum length of a text answer, in characters:
// its byte length 4·L must fit the u16be length prefix.
const MaxChars = 16383

var (
	// ErrNotEmbedded is returned for an element that is not the embedding of
	// any data block.
	ErrNotEmbedded = errors.New("textenc: element is not an embedded block")
	// ErrText is wrapped by every error decoding a text answer.
	ErrText = errors.New("textenc: invalid text answer")
)

// Embed returns the element of the 30-byte block d (SPEC.md §16
// §1.1). It panics if len(d) ≠ 30. It fails only if no counter below 2^13
// gives a valid encoding, which happens for no known block (heuristically
// with probability about (3/4)^8192).
func Embed(d []byte) (*group.Element, error) {
	if len(d) != BlockSize {
		panic("textenc: Embed: block length is not 30")
	}
	var b [group.ElementSize]byte
	copy(b[1:31], d)
	for k := range MaxCounter {
		setCounter(&b, k)
		if e, err := group.DecodeElement(b[:]); err == nil {
			return e, nil
		}
	}
	return nil, fmt.Errorf("textenc: no counter below %d embeds the block", MaxCounter)
}

func setCounter(b *[group.ElementSize]byte, k int) {
	b[0] = byte(k%128) << 1
	b[31] = byte(k / 128)
}

// Extract returns the 30-byte block embedded in e, or ErrNotEmbedded if e is
// not Embed of any block: its encoding's b[31] is 64 or more, or a smaller
// counter than the one it holds would also decode.
func Extract(e *group.Element) ([]byte, error) {
	var b [group.ElementSize]byte
	e.Encode(b[:0])
	if b[31] >= MaxCounter/128 {
		return nil, ErrNotEmbedded
	}
	// b[0] is even in every canonical encoding, so k is b[0]/2 + 128·b[31].
	k := int(b[0]>>1) + 128*int(b[31])
	probe := b
	for j := range k {
		setCounter(&probe, j)
		if _, err := group.DecodeElement(probe[:]); err == nil {
			return nil, fmt.Errorf("%w: counter %d is not the smallest (%d decodes)", ErrNotEmbedded, k, j)
		}
	}
	return append([]byte(nil), b[1:31]...), nil
}

// Width returns the number of elements of a text answer of at most maxChars
// characters: ⌈(2 + 4·maxChars)/30⌉. maxChars must be in [1, MaxChars].
func Width(maxChars int) (int, error) {
	if maxChars < 1 || maxChars > MaxChars {
		return 0, fmt.Errorf("%w: maximum length %d characters, want 1..%d", ErrText, maxChars, MaxChars)
	}
	return WidthOf(maxChars), nil
}

// EncodeText returns the elements of the text answer s for a question whose
// maximum length is maxChars characters (SPEC.md §16.2): s must
// be valid UTF-8 of at most maxChars code points; "" is the empty answer.
func EncodeText(s string, maxChars int) ([]*group.Element, error) {
	p, err := Payload(s, maxChars)
	if err != nil {
		return nil, err
	}
	return EmbedPayload(p)
}

// DecodeText returns the text answer held by elems, strictly: exactly
// Width(maxChars) elements, each an embedded block; then the payload's
// checks (DecodePayload).
func DecodeText(elems []*group.Element, maxChars int) (string, error) {
	w, err := Width(maxChars)
	if err != nil {
		return "", err
	}
	if len(elems) != w {
		return "", fmt.Errorf("%w: %d elements, want %d", ErrText, len(elems), w)
	}
	payload := make([]byte, 0, w*BlockSize)
	for i, e := range elems {
		d, err := Extract(e)
		if err != nil {
			return "", fmt.Errorf("%w: element %d: %w", ErrText, i, err)
		}
		payload = append(payload, d...)
	}
	return DecodePayload(payload, maxChars)
}
