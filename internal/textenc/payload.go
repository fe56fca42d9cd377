package textenc

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/koe-vote/koe/internal/group"
)

// WidthOf is Width for a maximum length already known to be in
// [1, MaxChars]: ⌈(2 + 4·maxChars)/30⌉ elements.
func WidthOf(maxChars int) int { return (2 + 4*maxChars + BlockSize - 1) / BlockSize }

// Payload returns the 30·w-byte payload of the text answer s (SPEC.md
// §16.2): u16be(byte length) ‖ UTF-8 of s ‖ zero padding. s must be valid
// UTF-8 of at most maxChars characters.
func Payload(s string, maxChars int) ([]byte, error) {
	w, err := Width(maxChars)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrText)
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return nil, fmt.Errorf("%w: %d characters, at most %d allowed", ErrText, n, maxChars)
	}
	p := make([]byte, w*BlockSize)
	binary.BigEndian.PutUint16(p, uint16(len(s)))
	copy(p[2:], s)
	return p, nil
}

// DecodePayload returns the text answer of a payload strictly: exactly 30·w
// bytes, a length prefix of at most 4·maxChars, zero padding, valid UTF-8
// of at most maxChars characters.
func DecodePayload(p []byte, maxChars int) (string, error) {
	w, err := Width(maxChars)
	if err != nil {
		return "", err
	}
	if len(p) != w*BlockSize {
		return "", fmt.Errorf("%w: payload of %d bytes, want %d", ErrText, len(p), w*BlockSize)
	}
	n := int(binary.BigEndian.Uint16(p))
	if n > 4*maxChars {
		return "", fmt.Errorf("%w: length prefix %d exceeds %d bytes", ErrText, n, 4*maxChars)
	}
	text, pad := p[2:2+n], p[2+n:]
	for _, c := range pad {
		if c != 0 {
			return "", fmt.Errorf("%w: non-zero padding", ErrText)
		}
	}
	if !utf8.Valid(text) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrText)
	}
	if c := utf8.RuneCount(text); c > maxChars {
		return "", fmt.Errorf("%w: %d characters, at most %d allowed", ErrText, c, maxChars)
	}
	return string(text), nil
}

// EmbedPayload returns the elements of a payload: Embed of each 30-byte
// block in order. len(p) must be a multiple of 30.
func EmbedPayload(p []byte) ([]*group.Element, error) {
	if len(p)%BlockSize != 0 {
		return nil, fmt.Errorf("%w: payload of %d bytes is not whole blocks", ErrText, len(p))
	}
	out := make([]*group.Element, len(p)/BlockSize)
	for i := range out {
		var err error
		if out[i], err = Embed(p[i*BlockSize : (i+1)*BlockSize]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
