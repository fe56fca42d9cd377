package credential

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/koe-vote/koe/internal/group"
)

// Eligibility on the board (SPEC.md §15.3, §15.6). The roll is published
// at open as one commitment per voter,
//
//	c = H256("koe/v2/roll/commitment"; String("election", E), String("voter", v), String("code", code))
//
// of the election id E, the normalised voter id v and the normalised
// one-time code of the voter's letter. The code has 80 random bits and is
// known only to the voter (and, until it prints the letters, to the
// registrar), so c names nobody to anyone else, yet the voter can
// recompute it. A registration by roll appends a credential-issued entry
// naming c; one by digital ID appends an entry naming
//
//	d = H256("koe/v2/roll/digital-id"; String("election", E), Bytes("blinded", b))
//
// for the blinded message b the voter's device sent. Neither value depends
// on the credential: b is uniformly distributed whatever credential it
// blinds (RFC 9474 blindness), and the registrar, who saw b, learns
// nothing new from d.

// MaxVoterID is the longest voter id on a roll, in bytes.
const MaxVoterID = 128

// codeAlphabet is the one-time codes' alphabet: 32 characters, without
// 0, 1, I and O.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// ErrCode is returned for a one-time code that is not 16 characters of
// the code alphabet.
var ErrCode = errors.New("credential: a one-time code is 16 characters of " + codeAlphabet + " (dashes, spaces, case and full-width forms are ignored)")

// dashes are the characters read as '-' (SPEC.md §15.3) after NFKC: the
// hyphens and dashes of U+2010–U+2015, U+2043 (hyphen bullet), U+2212
// (minus sign) and U+30FC (the katakana-hiragana prolonged sound mark, which
// a Japanese IME types for '-'). NFKC has already turned U+FF0D, U+FE63 and
// U+FF70 into '-' and U+30FC.
var dashes = strings.NewReplacer("\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2014", "-", "\u2015", "-", "\u2043", "-", "\u2212", "-", "\u30fc", "-")

// fold is the normalisation shared by voter ids and codes (SPEC.md §15.3):
// NFKC; every dash read as '-', every Unicode White_Space character
// removed, ASCII letters upper-cased (other letters keep their case); NFKC
// again, since removing a space may let a combining mark compose. The
// result is a fixed point: the second NFKC only composes characters that
// are stable under NFKC, which makes no dash, space or ASCII letter.
func fold(s string) string {
	return norm.NFKC.String(mapFold(norm.NFKC.String(s)))
}

func mapFold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.White_Space, r):
			return -1
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, dashes.Replace(s))
}

// NormalizeVoter returns the voter id v as the roll holds it: the input
// in Unicode NFKC, with every dash read as '-', without any white space
// and with ASCII letters upper-cased (so "ｋ０００１", "k 0001" and "K0001"
// are one id, as are "Ｋ－０１" and "K-01"), which must then be valid UTF-8
// of 1 to MaxVoterID bytes.
func NormalizeVoter(voter string) (string, error) {
	if !utf8.ValidString(voter) {
		return "", fmt.Errorf("credential: a voter id is 1 to %d bytes of UTF-8, not counting spaces", MaxVoterID)
	}
	v := fold(voter)
	if v == "" || len(v) > MaxVoterID {
		return "", fmt.Errorf("credential: a voter id is 1 to %d bytes of UTF-8, not counting spaces", MaxVoterID)
	}
	return v, nil
}

// NormalizeCode returns the one-time code as the letter prints it, four
// groups of four characters joined by '-': the input folded as a voter id
// is and without its dashes must be 16 characters of the code alphabet.
func NormalizeCode(code string) (string, error) {
	if !utf8.ValidString(code) {
		return "", ErrCode
	}
	c := strings.ReplaceAll(fold(code), "-", "")
	if len(c) != 16 {
		return "", ErrCode
	}
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(codeAlphabet, c[i]) < 0 {
			return "", ErrCode
		}
	}
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16], nil
}

// RollCommitment returns c, the commitment to a voter on the roll of
// election (SPEC.md §15.3), from the voter id and one-time code of the
// voter's letter, each normalised first.
func RollCommitment(election, voter, code string) ([32]byte, error) {
	v, err := NormalizeVoter(voter)
	if err != nil {
		return [32]byte{}, err
	}
	c, err := NormalizeCode(code)
	if err != nil {
		return [32]byte{}, err
	}
	return group.NewDigest("koe/v2/roll/commitment").String("election", election).String("voter", v).String("code", c).Digest32(), nil
}

// DigitalIDEntry returns d, the value a digital-ID registration's
// credential-issued entry names (SPEC.md §15.6), from the blinded message
// the voter's device sent. A retry of the same request names the same d.
func DigitalIDEntry(election string, blinded []byte) [32]byte {
	return group.NewDigest("koe/v2/roll/digital-id").String("election", election).Bytes("blinded", blinded).Digest32()
}
