package vectors

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/credential"
)

// roll.json: the eligibility values of SPEC.md §15.3 and §15.6 — the
// roll commitment c of a letter, the digital-ID value d of a blinded
// message, and the board bodies that carry them (§13.2), with bodies a
// decoder must refuse.

type rollFile struct {
	Comment     string             `json:"comment"`
	Commitments []rollCommitment   `json:"commitments"`
	DigitalID   []digitalIDVector  `json:"digital_id"`
	RollEntry   rollEntryVector    `json:"roll_entry"`
	Bodies      []issuedBodyVector `json:"bodies"`
}

type rollCommitment struct {
	Election string `json:"election"`
	Voter    string `json:"voter"` // as typed
	Code     string `json:"code"`  // as typed
	// NormalVoter and NormalCode are the normalised forms hashed; c is
	// absent, and Valid false, when normalisation must fail.
	NormalVoter string `json:"normal_voter,omitempty"`
	NormalCode  string `json:"normal_code,omitempty"`
	C           string `json:"c,omitempty"`
	Issued      string `json:"issued_body,omitempty"` // the credential-issued body naming c
	Valid       bool   `json:"valid"`
}

type digitalIDVector struct {
	Election string `json:"election"`
	Blinded  string `json:"blinded"` // hex
	D        string `json:"d"`
	Issued   string `json:"issued_body"`
}

type rollEntryVector struct {
	Commitments []string `json:"commitments"` // as the registrar holds them, unsorted
	Body        string   `json:"body"`        // the roll entry's body: sorted
}

type issuedBodyVector struct {
	Type   string `json:"type"` // roll or credential-issued
	Body   string `json:"body"`
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

func genRoll(t *testing.T) *rollFile {
	f := &rollFile{Comment: "SPEC.md §13.2, §15.3, §15.6: c = H256(\"koe/v2/roll/commitment\"; String(\"election\", E), String(\"voter\", v), String(\"code\", code)) of the normalised voter id and one-time code; d = H256(\"koe/v2/roll/digital-id\"; String(\"election\", E), Bytes(\"blinded\", b)); the bodies of roll and credential-issued entries, compact JSON, and bodies that must be refused."}
	for _, c := range []struct{ election, voter, code string }{
		{"shin-chosha-srv", "V-001", "ABCD-EFGH-JKLM-NPQR"},
		{"shin-chosha-srv", "  V-001\t", "abcd efgh jklm npqr"},
		{"shin-chosha-srv", "V-001", "ＡBCD－EFGH-JKLM-NPQR"},
		{"shin-chosha-srv", "住民-0042", "2345-6789-ABCD-EFGH"},
		{"shin-chosha-srv", "Ｖ－００１", "ａｂｃｄーｅｆｇｈ\u2212ｊｋｌｍ\u2013ｎｐｑｒ"},
		{"shin-chosha-srv", "v 001", "ABCD\u3000EFGH\u2010JKLM\u30fcNPQR"},
		{"shin-chosha-srv", "田中\u3000太郎", "ABCD-EFGH-JKLM-NPQR"},
		{"shin-chosha-srv", "ｼﾞｭｳﾐﾝ a \u0301", "ABCD-EFGH-JKLM-NPQR"},
		{"another-election", "V-001", "ABCD-EFGH-JKLM-NPQR"},
		{"shin-chosha-srv", "V-001", "ABCD-EFGH-JKLM-NPQ0"},
		{"shin-chosha-srv", "V-001", "ABCD-EFGH-JKLM"},
		{"shin-chosha-srv", "   ", "ABCD-EFGH-JKLM-NPQR"},
	} {
		v := rollCommitment{Election: c.election, Voter: c.voter, Code: c.code}
		cm, err := credential.RollCommitment(c.election, c.voter, c.code)
		if err == nil {
			v.NormalVoter, _ = credential.NormalizeVoter(c.voter)
			v.NormalCode, _ = credential.NormalizeCode(c.code)
			v.C, v.Valid = hx(cm[:]), true
			body, _ := json.Marshal(board.Issuance{Value: cm}.Body())
			v.Issued = string(body)
		}
		f.Commitments = append(f.Commitments, v)
	}
	for i, n := range []int{256, 384} {
		b := make([]byte, n)
		shake(seedPrefix + "roll/blinded/" + string(rune('1'+i))).Read(b)
		d := credential.DigitalIDEntry("shin-chosha-srv", b)
		body, _ := json.Marshal(board.Issuance{DigitalID: true, Value: d}.Body())
		f.DigitalID = append(f.DigitalID, digitalIDVector{Election: "shin-chosha-srv", Blinded: hx(b), D: hx(d[:]), Issued: string(body)})
	}
	var cs [][32]byte
	for _, c := range f.Commitments {
		if c.Valid && c.Election == "shin-chosha-srv" && c.Voter != "  V-001\t" && c.Code == "ABCD-EFGH-JKLM-NPQR" || c.Voter == "住民-0042" {
			cm, _ := hex.DecodeString(c.C)
			cs = append(cs, [32]byte(cm))
			f.RollEntry.Commitments = append(f.RollEntry.Commitments, c.C)
		}
	}
	body, _ := json.Marshal(board.RollEntries(cs)[0])
	f.RollEntry.Body = string(body)
	a, b := f.Commitments[0].C, f.Commitments[3].C
	if a > b {
		a, b = b, a
	}
	f.Bodies = []issuedBodyVector{
		{Type: "roll", Body: f.RollEntry.Body, Valid: true},
		{Type: "roll", Body: `{"commitments":["` + b + `","` + a + `"]}`, Reason: "not in ascending order"},
		{Type: "roll", Body: `{"commitments":["` + a + `","` + a + `"]}`, Reason: "a commitment listed twice"},
		{Type: "roll", Body: `{"commitments":[]}`, Reason: "no commitments"},
		{Type: "roll", Body: `{"commitments":null}`, Reason: "null for a list"},
		{Type: "roll", Body: `{"added":1,"voters":1}`, Reason: "koe/v1's counts instead of commitments"},
		{Type: "roll", Body: `{"commitments":["` + a[:62] + `"]}`, Reason: "31 bytes"},
		{Type: "credential-issued", Body: f.Commitments[0].Issued, Valid: true},
		{Type: "credential-issued", Body: f.DigitalID[0].Issued, Valid: true},
		{Type: "credential-issued", Body: `{"roll":"` + a + `","digitalId":"` + b + `"}`, Reason: "both roll and digitalId"},
		{Type: "credential-issued", Body: `{}`, Reason: "neither roll nor digitalId"},
		{Type: "credential-issued", Body: `{"voter":"` + a + `"}`, Reason: "koe/v1's voter hash"},
		{Type: "credential-issued", Body: `{"roll":"` + upper(a) + `"}`, Reason: "upper-case hex"},
		{Type: "credential-issued", Body: `{"roll":"` + a + `00"}`, Reason: "33 bytes"},
		{Type: "credential-issued", Body: `{"roll":""}`, Reason: "empty"},
	}
	return f
}

func upper(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= 'a' && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// TestRollVectors checks roll.json against the implementation.
func TestRollVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "roll.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f rollFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Commitments) < 8 || len(f.DigitalID) < 2 || len(f.Bodies) < 15 {
		t.Fatalf("roll.json is incomplete: %d commitments, %d digital-ID values, %d bodies", len(f.Commitments), len(f.DigitalID), len(f.Bodies))
	}
	for _, v := range f.Commitments {
		c, err := credential.RollCommitment(v.Election, v.Voter, v.Code)
		if !v.Valid {
			if err == nil {
				t.Errorf("%q/%q: accepted, want refused", v.Voter, v.Code)
			}
			continue
		}
		if err != nil || hex.EncodeToString(c[:]) != v.C {
			t.Errorf("%q/%q: c = %x (%v), want %s", v.Voter, v.Code, c, err, v.C)
		}
		if nv, _ := credential.NormalizeVoter(v.Voter); nv != v.NormalVoter {
			t.Errorf("%q normalises to %q, want %q", v.Voter, nv, v.NormalVoter)
		}
		if nc, _ := credential.NormalizeCode(v.Code); nc != v.NormalCode {
			t.Errorf("%q normalises to %q, want %q", v.Code, nc, v.NormalCode)
		}
		in, err := board.DecodeIssued([]byte(v.Issued))
		if err != nil || in.DigitalID || in.Value != c {
			t.Errorf("issued body %s: %+v, %v", v.Issued, in, err)
		}
	}
	for _, v := range f.DigitalID {
		d := credential.DigitalIDEntry(v.Election, unhex(t, v.Blinded))
		if hex.EncodeToString(d[:]) != v.D {
			t.Errorf("d = %x, want %s", d, v.D)
		}
		in, err := board.DecodeIssued([]byte(v.Issued))
		if err != nil || !in.DigitalID || in.Value != d {
			t.Errorf("issued body %s: %+v, %v", v.Issued, in, err)
		}
	}
	var cs [][32]byte
	for _, c := range f.RollEntry.Commitments {
		cs = append(cs, [32]byte(unhex(t, c)))
	}
	if body, _ := json.Marshal(board.RollEntries(cs)[0]); string(body) != f.RollEntry.Body {
		t.Errorf("roll entry body %s, want %s", body, f.RollEntry.Body)
	}
	for _, v := range f.Bodies {
		var err error
		if v.Type == "roll" {
			_, err = board.DecodeRoll([]byte(v.Body))
		} else {
			_, err = board.DecodeIssued([]byte(v.Body))
		}
		if v.Valid && err != nil {
			t.Errorf("%s body %s: %v", v.Type, v.Body, err)
		}
		if !v.Valid && err == nil {
			t.Errorf("%s body %s (%s): accepted", v.Type, v.Body, v.Reason)
		}
	}
}
