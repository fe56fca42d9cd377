package ceremony

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// complained is a 3-of-4 ceremony in which dealer 2 sent trustee 4 a bad
// share and answered the complaint, and dealer 3 did the same to trustee 1
// but did not answer.
var complainedCache *Transcript

func complained(t testing.TB) *Transcript {
	t.Helper()
	if complainedCache != nil {
		return complainedCache
	}
	r := runCeremony(t, Params{N: 4, T: 2}, hooks{
		dealings: func(t testing.TB, r *run, ds []Dealing) []Dealing {
			resealTo(t, r, ds, 2, 4, wrongShare(r, 2, 4).Encode(nil))
			resealTo(t, r, ds, 3, 1, wrongShare(r, 3, 1).Encode(nil))
			return ds
		},
		responses: func(r *run, i int, rs []Response) []Response {
			if i == 3 {
				return nil
			}
			return rs
		},
	})
	complainedCache = r.tr
	return r.tr
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJSONRoundTrip(t *testing.T) {
	tr := complained(t)
	if len(tr.Responses) != 1 || len(tr.Verdicts[0].Complaints) != 1 {
		t.Fatalf("fixture: responses %v, verdict of 1 %v", tr.Responses, tr.Verdicts[0])
	}
	res, err := tr.Verify(testContext)
	if err != nil {
		t.Fatal(err)
	}
	p := tr.Params
	tests := []struct {
		name   string
		v      any
		decode func([]byte) (any, error)
	}{
		{"announcement", tr.Announcements[1], func(b []byte) (any, error) { return DecodeAnnouncement(p, b) }},
		{"dealing", tr.Dealings[2], func(b []byte) (any, error) { return DecodeDealing(p, b) }},
		{"verdict", tr.Verdicts[3], func(b []byte) (any, error) { return DecodeVerdict(p, b) }},
		{"empty verdict", tr.Verdicts[1], func(b []byte) (any, error) { return DecodeVerdict(p, b) }},
		{"response", tr.Responses[0], func(b []byte) (any, error) { return DecodeResponse(p, b) }},
		{"transcript", tr, func(b []byte) (any, error) { return DecodeTranscript(b) }},
		{"result", res, func(b []byte) (any, error) { return DecodeResult(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustMarshal(t, tt.v)
			v, err := tt.decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if b2 := mustMarshal(t, v); !bytes.Equal(b, b2) {
				t.Fatalf("round trip changed the encoding:\n%s\n%s", b, b2)
			}
			// json.Unmarshal goes through the same strict decoder.
			if err := json.Unmarshal(append(b, "x"...), v); err == nil {
				t.Fatal("json.Unmarshal accepted trailing data")
			}
		})
	}
	tr2, err := DecodeTranscript(mustMarshal(t, tr))
	if err != nil {
		t.Fatal(err)
	}
	res2, err := tr2.Verify(testContext)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustMarshal(t, res), mustMarshal(t, res2)) {
		t.Fatal("decoded transcript verifies to another result")
	}
}

func TestJSONShapes(t *testing.T) {
	tr := complained(t)
	res, err := tr.Verify(testContext)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v      any
		prefix string
	}{
		{tr.Announcements[0], `{"index":1,"name":"Trustee 1","hpkePublicKey":"`},
		{tr.Dealings[0], `{"from":1,"announcementsHash":"` + hex.EncodeToString(tr.Dealings[0].AnnouncementsHash[:]) + `","shares":[{"to":2,"ciphertext":"`},
		{tr.Verdicts[1], `{"from":2,"announcementsHash":"` + hex.EncodeToString(tr.Verdicts[1].AnnouncementsHash[:]) + `","dealingsHash":"` + hex.EncodeToString(tr.Verdicts[1].DealingsHash[:]) + `","complaints":[],"signature":"`},
		{tr.Verdicts[0], `{"from":1,"announcementsHash":"` + hex.EncodeToString(tr.Verdicts[0].AnnouncementsHash[:]) + `","dealingsHash":"` + hex.EncodeToString(tr.Verdicts[0].DealingsHash[:]) + `","complaints":[{"against":3,"reason":"share does not match the commitments"}],"signature":"`},
		{tr.Responses[0], `{"dealer":2,"to":4,"share":"`},
		{tr, `{"params":{"n":4,"t":2},"announcements":[{"index":1,`},
		{res, `{"qual":[1,2,4],"jointKey":"`},
	} {
		if b := mustMarshal(t, tt.v); !bytes.HasPrefix(b, []byte(tt.prefix)) {
			t.Errorf("encoding %.120s… does not start with %s", b, tt.prefix)
		}
	}
	b := string(mustMarshal(t, res))
	if !strings.Contains(b, `"disqualified":[{"trustee":3,"reason":"no response to the complaint of trustee 1"}]`) {
		t.Errorf("result %s", b)
	}
}

// hexField returns the first value of a string field in a JSON document.
func hexField(b []byte, field string) string {
	s := string(b)
	i := strings.Index(s, `"`+field+`":`)
	i += len(field) + 3
	if s[i] == '[' {
		i++
	}
	i++ // opening quote
	return s[i : i+strings.IndexByte(s[i:], '"')]
}

func TestDecodersReject(t *testing.T) {
	tr := complained(t)
	p := tr.Params
	ann := string(mustMarshal(t, tr.Announcements[0]))
	deal := string(mustMarshal(t, tr.Dealings[0]))
	verdict := string(mustMarshal(t, tr.Verdicts[0]))
	resp := string(mustMarshal(t, tr.Responses[0]))
	trans := string(mustMarshal(t, tr))
	res, err := tr.Verify(testContext)
	if err != nil {
		t.Fatal(err)
	}
	result := string(mustMarshal(t, res))

	decAnn := func(s string) error { _, err := DecodeAnnouncement(p, []byte(s)); return err }
	decDeal := func(s string) error { _, err := DecodeDealing(p, []byte(s)); return err }
	decVerdict := func(s string) error { _, err := DecodeVerdict(p, []byte(s)); return err }
	decResp := func(s string) error { _, err := DecodeResponse(p, []byte(s)); return err }
	decTrans := func(s string) error { _, err := DecodeTranscript([]byte(s)); return err }
	decResult := func(s string) error { _, err := DecodeResult([]byte(s)); return err }

	commitment := hexField([]byte(ann), "commitments")
	share := hexField([]byte(resp), "share")
	ct := hexField([]byte(deal), "ciphertext")
	dealSig := hexField([]byte(deal), "signature")
	dealAnns := hexField([]byte(deal), "announcementsHash")
	verdictDeals := hexField([]byte(verdict), "dealingsHash")
	verdictSig := hexField([]byte(verdict), "signature")
	respSig := hexField([]byte(resp), "signature")
	complaints := verdict[strings.Index(verdict, `"complaints":`):strings.Index(verdict, `,"signature"`)]
	rep := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("fixture does not contain %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	const ell = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"

	tests := []struct {
		name   string
		decode func(string) error
		input  string
		want   string
	}{
		{"announcement: unknown field", decAnn, rep(ann, `{`, `{"extra":1,`), `unknown field "extra"`},
		{"announcement: recased field", decAnn, rep(ann, `"name"`, `"Name"`), `unknown field "Name"`},
		{"announcement: duplicate field", decAnn, rep(ann, `{`, `{"index":2,`), `duplicate field "index"`},
		{"announcement: trailing data", decAnn, ann + `{}`, "trailing data"},
		{"announcement: trailing garbage", decAnn, ann + `x`, ""},
		{"announcement: uppercase hex", decAnn, rep(ann, commitment, strings.ToUpper(commitment)), "not lowercase hex"},
		{"announcement: short hex", decAnn, rep(ann, commitment, commitment[2:]), "62 hex digits, want 64"},
		{"announcement: odd hex", decAnn, rep(ann, commitment, commitment[1:]), "63 hex digits"},
		{"announcement: non-canonical element", decAnn, rep(ann, commitment, strings.Repeat("ff", 32)), "not a canonical encoding"},
		{"announcement: identity commitment", decAnn, rep(ann, commitment, strings.Repeat("00", 32)), "identity"},
		{"announcement: index 0", decAnn, rep(ann, `"index":1`, `"index":0`), "index 0 outside"},
		{"announcement: index beyond n", decAnn, rep(ann, `"index":1`, `"index":5`), "index 5 outside 1..4"},
		{"announcement: fractional index", decAnn, rep(ann, `"index":1`, `"index":1.0`), ""},
		{"announcement: string index", decAnn, rep(ann, `"index":1`, `"index":"1"`), ""},
		{"announcement: wrong t", func(s string) error { _, err := DecodeAnnouncement(Params{4, 3}, []byte(s)); return err }, ann, "2 commitments, want t = 3"},
		{"announcement: proofs missing", decAnn, rep(ann, `"proofs":[`, `"proofs":[],"x":[`), "unknown field"},
		{"announcement: null", decAnn, `null`, ""},
		{"dealing: null shares", decDeal, `{"from":1,"shares":null}`, "null is not allowed"},
		{"dealing: too few shares", decDeal, deal[:strings.Index(deal, `"shares":`)] + `"shares":[],"signature":"` + dealSig + `"}`, "0 shares, want 3"},
		{"dealing: announcements hash missing", decDeal, rep(deal, `"announcementsHash":"`+dealAnns+`",`, ``), `missing required field "announcementsHash"`},
		{"dealing: short announcements hash", decDeal, rep(deal, dealAnns, dealAnns[2:]), "announcementsHash: 62 hex digits"},
		{"dealing: uppercase announcements hash", decDeal, rep(deal, dealAnns, strings.ToUpper(dealAnns)), "not lowercase hex"},
		{"dealing: signature missing", decDeal, rep(deal, `,"signature":"`+dealSig+`"`, ``), `missing required field "signature"`},
		{"dealing: short signature", decDeal, rep(deal, dealSig, dealSig[2:]), "signature: 126 hex digits"},
		{"dealing: non-canonical signature R", decDeal, rep(deal, dealSig, strings.Repeat("ff", 32)+dealSig[64:]), "signature"},
		{"dealing: non-canonical signature s", decDeal, rep(deal, dealSig, dealSig[:64]+ell), "signature"},
		{"dealing: short ciphertext", decDeal, rep(deal, ct, ct[2:]), "2334 hex digits, want 2336"},
		{"dealing: uppercase ciphertext", decDeal, rep(deal, ct, strings.ToUpper(ct)), "not lowercase hex"},
		{"dealing: share to self", decDeal, rep(deal, `"to":2`, `"to":1`), "dealer itself"},
		{"dealing: duplicate recipient", decDeal, rep(deal, `"to":3`, `"to":2`), "two shares for trustee 2"},
		{"verdict: missing complaints", decVerdict, rep(verdict, complaints+`,`, ``), `missing required field "complaints"`},
		{"verdict: against self", decVerdict, rep(verdict, complaints, `"complaints":[{"against":1,"reason":"x"}]`), "against itself"},
		{"verdict: empty reason", decVerdict, rep(verdict, complaints, `"complaints":[{"against":2,"reason":""}]`), "reason"},
		{"verdict: control character", decVerdict, rep(verdict, complaints, `"complaints":[{"against":2,"reason":"a\u0007"}]`), "control character"},
		{"verdict: duplicate complaint", decVerdict, rep(verdict, complaints, `"complaints":[{"against":2,"reason":"x"},{"against":2,"reason":"y"}]`), "two complaints"},
		{"verdict: dealings hash missing", decVerdict, rep(verdict, `"dealingsHash":"`+verdictDeals+`",`, ``), `missing required field "dealingsHash"`},
		{"verdict: uppercase dealings hash", decVerdict, rep(verdict, verdictDeals, strings.ToUpper(verdictDeals)), "not lowercase hex"},
		{"verdict: announcements hash missing", decVerdict, rep(verdict, `"announcementsHash":"`+dealAnns+`",`, ``), `missing required field "announcementsHash"`},
		{"verdict: signature missing", decVerdict, rep(verdict, `,"signature":"`+verdictSig+`"`, ``), `missing required field "signature"`},
		{"verdict: identity signature R", decVerdict, rep(verdict, verdictSig, strings.Repeat("ff", 32)+verdictSig[64:]), "signature"},
		{"response: signature missing", decResp, rep(resp, `,"signature":"`+respSig+`"`, ``), `missing required field "signature"`},
		{"response: long signature", decResp, rep(resp, respSig, respSig+"00"), "signature: 130 hex digits"},
		{"verdict: recased nested field", decVerdict, rep(verdict, `"against"`, `"AGAINST"`), `unknown field "AGAINST"`},
		{"response: non-canonical scalar", decResp, rep(resp, share, ell), "not a canonical encoding"},
		{"response: uppercase", decResp, rep(resp, share, strings.ToUpper(share)), "not lowercase hex"},
		{"response: long", decResp, rep(resp, share, share+"00"), "66 hex digits"},
		{"response: to self", decResp, rep(resp, `"to":4`, `"to":2`), "dealer itself"},
		{"announcement: index missing", decAnn, rep(ann, `"index":1,`, ``), `missing required field "index"`},
		{"announcement: name missing", decAnn, rep(ann, `"name":`, `"x":`), `unknown field "x"`},
		{"dealing: from missing", decDeal, rep(deal, `"from":1,`, ``), `missing required field "from"`},
		{"dealing: share recipient missing", decDeal, rep(deal, `"to":2,`, ``), `missing required field "to"`},
		{"verdict: complaint reason missing", decVerdict, rep(verdict, complaints, `"complaints":[{"against":2}]`), `missing required field "reason"`},
		{"response: share missing", decResp, rep(resp, `"share":"`+share+`",`, ``), `missing required field "share"`},
		{"transcript: params t missing", decTrans, rep(trans, `,"t":2`, ``), `missing required field "t"`},
		{"transcript: unknown top-level field", decTrans, rep(trans, `{"params"`, `{"x":1,"params"`), `unknown field "x"`},
		{"transcript: unknown nested field", decTrans, rep(trans, `"n":4`, `"n":4,"q":1`), `unknown field "q"`},
		{"transcript: misplaced known field", decTrans, rep(trans, `"n":4`, `"n":4,"from":1`), `unknown field "from"`},
		{"transcript: trailing data", decTrans, trans + ` []`, "trailing data"},
		{"transcript: missing responses", decTrans, rep(trans, `,"responses":[`, `,"x":[`), "unknown field"},
		{"transcript: null responses", decTrans, trans[:strings.Index(trans, `,"responses":`)] + `,"responses":null}`, "null is not allowed"},
		{"transcript: uppercase commitment", decTrans, rep(trans, commitment, strings.ToUpper(commitment)), "not lowercase hex"},
		{"transcript: wrong t", decTrans, rep(trans, `"t":2`, `"t":3`), "announcement of trustee 1: 2 commitments, want t = 3"},
		{"transcript: duplicate index", decTrans, rep(trans, `"index":2`, `"index":1`), "trustee 1 announced twice"},
		{"transcript: missing dealing", decTrans, rep(trans, `"dealings":[`+deal+`,`, `"dealings":[`), "trustee 1 published no dealing"},
		{"transcript: missing verdict", decTrans, rep(trans, verdict+`,`, ``), "trustee 1 published no verdict"},
		{"transcript: deeply nested", decTrans, strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested too deeply"},
		{"result: unsorted qual", decResult, rep(result, `"qual":[1,2,4]`, `"qual":[2,1,4]`), ""},
		{"result: uppercase key", decResult, rep(result, hexField([]byte(result), "jointKey"), strings.ToUpper(hexField([]byte(result), "jointKey"))), "not lowercase hex"},
		{"result: qualified and disqualified", decResult, rep(result, `"trustee":3`, `"trustee":4`), "in qual"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.input)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
