package ceremony

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"
)

// fuzzDecoder checks that whatever a decoder accepts re-encodes to a
// document it accepts again, with the same encoding.
func fuzzDecoder[T any](f *testing.F, seeds [][]byte, decode func([]byte) (*T, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decode(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("cannot re-encode an accepted value: %v", err)
		}
		v2, err := decode(b)
		if err != nil {
			t.Fatalf("re-encoding rejected: %v\n%s", err, b)
		}
		if b2, _ := json.Marshal(v2); !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b, b2)
		}
	})
}

// fuzzParams are the parameters of the complained fixture.
var fuzzParams = Params{N: 4, T: 2}

func FuzzDecodeAnnouncement(f *testing.F) {
	tr := complained(f)
	fuzzDecoder(f, [][]byte{mustMarshal(f, tr.Announcements[0])},
		func(b []byte) (*Announcement, error) { return DecodeAnnouncement(fuzzParams, b) })
}

func FuzzDecodeDealing(f *testing.F) {
	tr := complained(f)
	fuzzDecoder(f, [][]byte{mustMarshal(f, tr.Dealings[0])},
		func(b []byte) (*Dealing, error) { return DecodeDealing(fuzzParams, b) })
}

func FuzzDecodeVerdict(f *testing.F) {
	tr := complained(f)
	fuzzDecoder(f, [][]byte{mustMarshal(f, tr.Verdicts[0]), mustMarshal(f, tr.Verdicts[1])},
		func(b []byte) (*Verdict, error) { return DecodeVerdict(fuzzParams, b) })
}

func FuzzDecodeResponse(f *testing.F) {
	tr := complained(f)
	fuzzDecoder(f, [][]byte{mustMarshal(f, tr.Responses[0])},
		func(b []byte) (*Response, error) { return DecodeResponse(fuzzParams, b) })
}

func FuzzDecodeTranscript(f *testing.F) {
	// A one-trustee transcript keeps the seed small.
	tt, a, err := NewTrustee(rand.Reader, Params{N: 1, T: 1}, testContext, 1, "Solo")
	if err != nil {
		f.Fatal(err)
	}
	d, err := tt.Deal(rand.Reader, testContext, []Announcement{*a})
	if err != nil {
		f.Fatal(err)
	}
	small := &Transcript{Params: Params{N: 1, T: 1}, Announcements: []Announcement{*a}, Dealings: []Dealing{*d},
		Verdicts: []Verdict{{From: 1, Complaints: []Complaint{}}}}
	fuzzDecoder(f, [][]byte{mustMarshal(f, small)}, DecodeTranscript)
}

func FuzzDecodeResult(f *testing.F) {
	res, err := complained(f).Verify(testContext)
	if err != nil {
		f.Fatal(err)
	}
	fuzzDecoder(f, [][]byte{mustMarshal(f, res)}, DecodeResult)
}

func FuzzDecodeTrustee(f *testing.F) {
	tt, _, err := NewTrustee(rand.Reader, Params{N: 2, T: 2}, testContext, 1, "Alice")
	if err != nil {
		f.Fatal(err)
	}
	b, err := tt.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	r := runCeremony(f, Params{N: 2, T: 1}, hooks{})
	if _, err := r.trustee(1).Finish(testContext, r.tr); err != nil {
		f.Fatal(err)
	}
	if b, err = r.trustee(1).MarshalBinary(); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var x Trustee
		if err := x.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var y Trustee
		if err := y.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-encoding rejected: %v", err)
		}
		if b2, _ := y.MarshalBinary(); !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b, b2)
		}
	})
}
