package board

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func partBody(t testing.TB, trustee int, q string, part, parts int, data string) []byte {
	t.Helper()
	b, err := json.Marshal(PartBody{Trustee: trustee, Question: q, Part: part, Parts: parts, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }

func TestSplitJoinParts(t *testing.T) {
	for _, n := range []int{1, 2, PartSize - 1, PartSize, PartSize + 1, 2 * PartSize, 2*PartSize + 3} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		parts := SplitParts(3, "q", msg)
		if len(parts) != PartCount(n) {
			t.Fatalf("%d bytes: %d parts, want %d", n, len(parts), PartCount(n))
		}
		var bodies [][]byte
		for i, p := range parts {
			if p.Part != i+1 || p.Parts != len(parts) || p.Trustee != 3 || p.Question != "q" {
				t.Fatalf("%d bytes: part %d is %+v", n, i+1, p)
			}
			body, _ := json.Marshal(p)
			if _, _, err := DecodePart(body); err != nil {
				t.Fatalf("%d bytes: part %d: %v", n, i+1, err)
			}
			bodies = append(bodies, body)
		}
		got, err := JoinParts(bodies)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: joined %d bytes, %v", n, len(got), err)
		}
	}
}

func TestDecodePartRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"non-canonical base64 (trailing bits)", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"QR=="}`, "strict padded base64"},
		{"unpadded base64", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"QQ"}`, "strict padded base64"},
		{"base64 with a line break", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"QUFB\nQUFB"}`, "strict padded base64"},
		{"URL alphabet", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"-_-_"}`, "strict padded base64"},
		{"empty data", `{"trustee":1,"question":"q","part":1,"parts":1,"data":""}`, "holds 0 bytes"},
		{"a short part before the last", string(partBody(t, 1, "q", 1, 2, b64(PartSize-1))), "part 1 of 2 holds 44999 bytes"},
		{"a long part before the last", string(partBody(t, 1, "q", 1, 2, b64(PartSize+1))), "part 1 of 2 holds 45001 bytes"},
		{"a last part too long", string(partBody(t, 1, "q", 2, 2, b64(PartSize+1))), "part 2 of 2 holds 45001 bytes"},
		{"part 0", string(partBody(t, 1, "q", 0, 1, b64(3))), "part 0 of 1"},
		{"part beyond parts", string(partBody(t, 1, "q", 3, 2, b64(3))), "part 3 of 2"},
		{"parts 0", string(partBody(t, 1, "q", 1, 0, b64(3))), "part 1 of 0"},
		{"parts beyond MaxParts", string(partBody(t, 1, "q", 1, MaxParts+1, b64(PartSize))), "part 1 of 1048577"},
		{"negative part", string(partBody(t, 1, "q", -1, 1, b64(3))), "part -1 of 1"},
		{"trustee 0", string(partBody(t, 0, "q", 1, 1, b64(3))), "trustee 0 is not in 1..64"},
		{"trustee 65", string(partBody(t, 65, "q", 1, 1, b64(3))), "trustee 65 is not in 1..64"},
		{"unknown field", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"QQ==","x":1}`, "unknown field"},
		{"trailing data", `{"trustee":1,"question":"q","part":1,"parts":1,"data":"QQ=="}{}`, "part:"},
		{"keys in another order", `{"question":"q","trustee":1,"part":1,"parts":1,"data":"QQ=="}`, "not in its one form"},
		{"a space", `{"trustee":1, "question":"q","part":1,"parts":1,"data":"QQ=="}`, "not in its one form"},
		{"an escaped character", `{"trustee":1,"question":"\u0071","part":1,"parts":1,"data":"QQ=="}`, "not in its one form"},
		{"data not a string", `{"trustee":1,"question":"q","part":1,"parts":1,"data":5}`, "part:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodePart([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	// The bounds themselves are accepted.
	for _, body := range [][]byte{partBody(t, 64, "q", 1, 1, b64(PartSize)), partBody(t, 1, "q", MaxParts, MaxParts, b64(1)), partBody(t, 1, "q", 1, 2, b64(PartSize))} {
		if _, _, err := DecodePart(body); err != nil {
			t.Fatalf("%.80s: %v", body, err)
		}
	}
}

func partEntry(typ string, body []byte) Entry { return Entry{Type: typ, Election: "e", Body: body} }

// message returns the entries of a message of n bytes.
func message(t testing.TB, typ string, trustee int, q string, n int) []Entry {
	t.Helper()
	var out []Entry
	for _, p := range SplitParts(trustee, q, bytes.Repeat([]byte{1}, n)) {
		body, _ := json.Marshal(p)
		out = append(out, partEntry(typ, body))
	}
	return out
}

func feedAll(a *Assembler, entries []Entry) ([]*Message, error) {
	var out []*Message
	for i, e := range entries {
		m, err := a.Feed(int64(i), e)
		if err != nil {
			return out, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func TestAssembler(t *testing.T) {
	other := Entry{Type: TypeDecryption, Election: "e", Body: []byte(`{}`)}
	three := message(t, TypeMix, 2, "q", 2*PartSize+5)
	share := message(t, TypeMixDecryption, 2, "q", PartSize+1)
	cat := func(lists ...[]Entry) []Entry {
		var out []Entry
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	t.Run("messages between other entries", func(t *testing.T) {
		var a Assembler
		ms, err := feedAll(&a, cat([]Entry{other}, three, []Entry{other}, share, message(t, TypeMix, 3, "r", 10)))
		if err != nil || len(ms) != 3 || a.Pending() {
			t.Fatalf("%d messages, pending %v, %v", len(ms), a.Pending(), err)
		}
		if ms[0].First != 1 || ms[0].Type != TypeMix || len(ms[0].Data) != 2*PartSize+5 || ms[1].First != 5 || ms[1].Type != TypeMixDecryption || ms[2].Question != "r" || ms[2].Trustee != 3 {
			t.Fatalf("messages %+v %+v %+v", ms[0].First, ms[1].First, ms[2].Question)
		}
	})
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"an entry between two parts", cat(three[:1], []Entry{other}, three[1:]), "entry 1 (decryption) interrupts the mix message of trustee 2 for question \"q\", at part 2 of 3"},
		{"another message between two parts", cat(three[:2], share), "does not continue the mix message of trustee 2"},
		{"a part of another trustee", cat(three[:1], message(t, TypeMix, 3, "q", 2*PartSize+5)[1:2]), "does not continue"},
		{"a part of another question", cat(three[:1], message(t, TypeMix, 2, "z", 2*PartSize+5)[1:2]), "does not continue"},
		{"a part of another type", cat(three[:1], message(t, TypeMixDecryption, 2, "q", 2*PartSize+5)[1:2]), "does not continue"},
		{"a part with another count", cat(three[:1], message(t, TypeMix, 2, "q", 3*PartSize+5)[1:2]), "does not continue"},
		{"a part skipped", cat(three[:1], three[2:]), "does not continue"},
		{"a part repeated", cat(three[:1], three[:1]), "does not continue"},
		{"a message that starts at part 2", three[1:], "part 2 of 3 without the parts before it"},
		{"an undecodable part", []Entry{partEntry(TypeMix, []byte(`{}`))}, "entry 0 (mix): part: missing required field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Assembler
			_, err := feedAll(&a, tc.entries)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("a log that ends inside a message", func(t *testing.T) {
		var a Assembler
		if _, err := feedAll(&a, three[:2]); err != nil || !a.Pending() {
			t.Fatalf("pending %v, %v", a.Pending(), err)
		}
		if _, err := JoinParts([][]byte{three[0].Body, three[1].Body}); err == nil {
			t.Fatal("JoinParts joined an incomplete message")
		}
	})
	t.Run("Size", func(t *testing.T) {
		refused := errors.New("no mix now")
		var asked []string
		a := Assembler{Size: func(typ string, trustee int, q string) (int, error) {
			asked = append(asked, fmt.Sprint(typ, trustee, q))
			if q == "closed" {
				return 0, refused
			}
			return 2*PartSize + 5, nil
		}}
		if ms, err := feedAll(&a, three); err != nil || len(ms) != 1 {
			t.Fatalf("%v", err)
		}
		if len(asked) != 2 || asked[0] != "mix2q" {
			t.Fatalf("Size asked %v", asked)
		}
		for _, tc := range []struct {
			name    string
			entries []Entry
			want    string
		}{
			{"refused", message(t, TypeMix, 2, "closed", 10), "entry 0 (mix of trustee 2 for question \"closed\"): no mix now"},
			{"too few parts", message(t, TypeMix, 2, "q", PartSize+5), "2 parts; a message of 90005 bytes has 3"},
			{"the right parts, the wrong size", message(t, TypeMix, 2, "q", 2*PartSize+4), "holds 90004 bytes, not 90005"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := a
				b.open = nil
				_, err := feedAll(&b, tc.entries)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want %q", err, tc.want)
				}
				if tc.name == "refused" && !errors.Is(err, refused) {
					t.Fatalf("%v does not wrap Size's error", err)
				}
			})
		}
	})
}

func FuzzDecodePart(f *testing.F) {
	f.Add([]byte(`{"trustee":1,"question":"q","part":1,"parts":1,"data":"QQ=="}`))
	f.Add(partBody(f, 64, "opinion", 1, 2, b64(PartSize)))
	f.Add([]byte(`{"trustee":1,"question":"q","part":1,"parts":1,"data":"QR=="}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, data, err := DecodePart(body)
		if err != nil {
			return
		}
		if b.Trustee < 1 || b.Trustee > 64 || b.Part < 1 || b.Part > b.Parts || b.Parts > MaxParts {
			t.Fatalf("accepted %+v", b)
		}
		if base64.StdEncoding.EncodeToString(data) != b.Data {
			t.Fatalf("data %q is not the canonical encoding of its bytes", b.Data)
		}
		if len(data) < 1 || len(data) > PartSize || b.Part < b.Parts && len(data) != PartSize {
			t.Fatalf("part %d of %d with %d bytes accepted", b.Part, b.Parts, len(data))
		}
		// A body has one form: the part's encoding.
		var canon bytes.Buffer
		enc := json.NewEncoder(&canon)
		enc.SetEscapeHTML(false)
		enc.Encode(b)
		if !bytes.Equal(bytes.TrimSuffix(canon.Bytes(), []byte("\n")), body) {
			t.Fatalf("accepted %q, whose canonical form is %q", body, canon.Bytes())
		}
	})
}

// FuzzAssembler feeds the Assembler a sequence of entries cut from the
// input: each a mix, mix-decryption or other entry, with a body from it.
// Whatever it accepts, every message it returns is the concatenation of
// consecutive parts of one sender, and a message split by SplitParts is
// always joined back.
func FuzzAssembler(f *testing.F) {
	split := func(typ string, n int) []byte {
		var out []byte
		for _, p := range SplitParts(1, "q", bytes.Repeat([]byte{9}, n)) {
			body, _ := json.Marshal(p)
			out = append(append(append(out, typ[0]), body...), 0)
		}
		return out
	}
	f.Add(split("m", 3))
	f.Add(split("d", PartSize+1))
	f.Add(append(split("m", PartSize+1)[:10], split("o", 1)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a Assembler
		var run []Entry // the parts of the open message
		for i, chunk := range bytes.Split(in, []byte{0}) {
			if len(chunk) == 0 {
				continue
			}
			typ := map[byte]string{'m': TypeMix, 'd': TypeMixDecryption}[chunk[0]]
			if typ == "" {
				typ = TypeClose
			}
			e := Entry{Type: typ, Election: "e", Body: chunk[1:]}
			m, err := a.Feed(int64(i), e)
			if err != nil {
				return
			}
			if typ != TypeClose {
				run = append(run, e)
			}
			if m == nil {
				continue
			}
			var want []byte
			for k, p := range run {
				b, data, err := DecodePart(p.Body)
				if err != nil || b.Part != k+1 || b.Parts != len(run) || b.Trustee != m.Trustee || b.Question != m.Question || p.Type != m.Type {
					t.Fatalf("message %+v joined from part %d %+v (%v)", m.Type, k+1, b, err)
				}
				want = append(want, data...)
			}
			if !bytes.Equal(want, m.Data) {
				t.Fatal("message data is not its parts' data")
			}
			run = nil
		}
		if n := len(in); n > 0 {
			msg := in
			if in[0]%4 == 0 { // now and then, a message of three parts
				full := bytes.Repeat(in, 1+2*PartSize/n)
				msg = full[:min(len(full), 2*PartSize+1+int(in[0]))]
			}
			var bodies [][]byte
			for _, p := range SplitParts(5, "x", msg) {
				body, _ := json.Marshal(p)
				bodies = append(bodies, body)
			}
			got, err := JoinParts(bodies)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("SplitParts then JoinParts: %v", err)
			}
		}
	})
}
