package board

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/koe-vote/koe/internal/strictjson"
)

// PartSize is the number of message bytes in every part of a mix or
// mix-decryption message but its last (SPEC.md §13.2, §16.6): 45,000 bytes
// are 60,000 base64 characters, so a part's entry stays inside MaxEntrySize.
const PartSize = 45000

// MaxParts bounds the parts of one message.
const MaxParts = 1 << 20

// PartBody is the body of a mix or mix-decryption entry: one part of a
// trustee's message about one mixed question (SPEC.md §13.2).
type PartBody struct {
	Trustee  int    `json:"trustee"`
	Question string `json:"question"`
	Part     int    `json:"part"`  // 1..Parts
	Parts    int    `json:"parts"` // ⌈len(message)/PartSize⌉
	Data     string `json:"data"`  // base64 (standard, padded) of the part's bytes
}

// PartCount returns the number of parts of a message of n bytes (n ≥ 1).
func PartCount(n int) int { return (n + PartSize - 1) / PartSize }

// SplitParts cuts a message into the bodies of its entries, in order.
func SplitParts(trustee int, question string, msg []byte) []PartBody {
	parts := PartCount(len(msg))
	out := make([]PartBody, 0, parts)
	for p := 0; p < parts; p++ {
		chunk := msg[p*PartSize : min(len(msg), (p+1)*PartSize)]
		out = append(out, PartBody{Trustee: trustee, Question: question, Part: p + 1, Parts: parts,
			Data: base64.StdEncoding.EncodeToString(chunk)})
	}
	return out
}

// DecodePart decodes a mix or mix-decryption entry's body strictly and
// returns it with its data's bytes. It checks what one part alone can:
// 1 ≤ part ≤ parts ≤ MaxParts, trustee in 1..64, PartSize bytes of data
// in every part but the last, 1..PartSize in the last, and that the body
// is the one encoding of its fields (compact, keys in order).
func DecodePart(body []byte) (*PartBody, []byte, error) {
	var b PartBody
	if err := strictjson.Decode(body, &b); err != nil {
		return nil, nil, fmt.Errorf("part: %w", err)
	}
	if b.Trustee < 1 || b.Trustee > 64 {
		return nil, nil, fmt.Errorf("part: trustee %d is not in 1..64", b.Trustee)
	}
	if b.Parts < 1 || b.Parts > MaxParts || b.Part < 1 || b.Part > b.Parts {
		return nil, nil, fmt.Errorf("part: part %d of %d", b.Part, b.Parts)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b.Data)
	if err != nil || base64.StdEncoding.EncodeToString(data) != b.Data {
		return nil, nil, fmt.Errorf("part: data is not strict padded base64")
	}
	if b.Part < b.Parts && len(data) != PartSize || b.Part == b.Parts && (len(data) < 1 || len(data) > PartSize) {
		return nil, nil, fmt.Errorf("part %d of %d holds %d bytes", b.Part, b.Parts, len(data))
	}
	// The body is exactly its canonical form (SPEC.md §16.6: compact, the
	// keys in the order of PartBody), so one part has one encoding.
	var canon bytes.Buffer
	enc := json.NewEncoder(&canon)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&b); err != nil || !bytes.Equal(bytes.TrimSuffix(canon.Bytes(), []byte("\n")), body) {
		return nil, nil, fmt.Errorf("part: the body is not in its one form (compact JSON, keys trustee, question, part, parts, data in this order)")
	}
	return &b, data, nil
}

// Message is a whole mix or mix-decryption message, its parts joined.
type Message struct {
	Type     string // TypeMix or TypeMixDecryption
	Trustee  int
	Question string
	Data     []byte
	First    int64 // the index of its first part's entry
}

// Assembler joins the parts of mix and mix-decryption messages as a reader
// meets the board's entries in order (SPEC.md §16.6): a message's parts are
// consecutive entries, numbered 1..parts, with the same type, trustee,
// question and parts; any other entry before the last part is an error, as
// is a log that ends inside a message (see Pending).
type Assembler struct {
	// Size, if set, returns the exact size in bytes a message of this
	// type, trustee and question must have, or an error if none may be
	// posted; it is asked at the first part, so a wrong message is refused
	// before its parts are buffered.
	Size func(typ string, trustee int, question string) (int, error)

	open  *Message
	parts int
	next  int
}

// Feed takes the log's next entry (index i). It returns a message when
// e is its last part, nil otherwise.
func (a *Assembler) Feed(i int64, e Entry) (*Message, error) {
	if e.Type != TypeMix && e.Type != TypeMixDecryption {
		if a.open != nil {
			return nil, fmt.Errorf("entry %d (%s) interrupts the %s message of trustee %d for question %q, at part %d of %d", i, e.Type, a.open.Type, a.open.Trustee, a.open.Question, a.next, a.parts)
		}
		return nil, nil
	}
	b, data, err := DecodePart(e.Body)
	if err != nil {
		return nil, fmt.Errorf("entry %d (%s): %w", i, e.Type, err)
	}
	if a.open == nil {
		if b.Part != 1 {
			return nil, fmt.Errorf("entry %d (%s): part %d of %d without the parts before it", i, e.Type, b.Part, b.Parts)
		}
		if a.Size != nil {
			n, err := a.Size(e.Type, b.Trustee, b.Question)
			if err != nil {
				return nil, fmt.Errorf("entry %d (%s of trustee %d for question %q): %w", i, e.Type, b.Trustee, b.Question, err)
			}
			if PartCount(n) != b.Parts {
				return nil, fmt.Errorf("entry %d (%s of trustee %d for question %q): %d parts; a message of %d bytes has %d", i, e.Type, b.Trustee, b.Question, b.Parts, n, PartCount(n))
			}
		}
		a.open = &Message{Type: e.Type, Trustee: b.Trustee, Question: b.Question, First: i}
		a.parts, a.next = b.Parts, 1
	} else if e.Type != a.open.Type || b.Trustee != a.open.Trustee || b.Question != a.open.Question || b.Parts != a.parts || b.Part != a.next {
		return nil, fmt.Errorf("entry %d (%s of trustee %d for question %q, part %d of %d) does not continue the %s message of trustee %d for question %q at part %d of %d", i, e.Type, b.Trustee, b.Question, b.Part, b.Parts, a.open.Type, a.open.Trustee, a.open.Question, a.next, a.parts)
	}
	a.open.Data = append(a.open.Data, data...)
	a.next++
	if b.Part < b.Parts {
		return nil, nil
	}
	msg := a.open
	a.open = nil
	if a.Size != nil {
		if n, _ := a.Size(msg.Type, msg.Trustee, msg.Question); n != len(msg.Data) {
			return nil, fmt.Errorf("entry %d: the %s message of trustee %d for question %q holds %d bytes, not %d", i, msg.Type, msg.Trustee, msg.Question, len(msg.Data), n)
		}
	}
	return msg, nil
}

// Pending reports whether the entries fed so far end inside a message.
func (a *Assembler) Pending() bool { return a.open != nil }

// JoinParts joins the decoded parts of one message given in order, as
// SplitParts cut it; it is Feed's rule for a message read on its own.
func JoinParts(bodies [][]byte) ([]byte, error) {
	var out bytes.Buffer
	var a Assembler
	for i, body := range bodies {
		msg, err := a.Feed(int64(i), Entry{Type: TypeMix, Body: body})
		if err != nil {
			return nil, err
		}
		if msg != nil {
			if i != len(bodies)-1 {
				return nil, fmt.Errorf("part %d ends the message before its last entry", i+1)
			}
			out.Write(msg.Data)
		}
	}
	if a.Pending() {
		return nil, fmt.Errorf("the message's last part is missing")
	}
	return out.Bytes(), nil
}
