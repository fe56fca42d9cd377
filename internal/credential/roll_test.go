package credential

import (
	"strings"
	"testing"
)

func TestRollCommitment(t *testing.T) {
	c, err := RollCommitment("e", "V-001", "ABCD-EFGH-JKLM-NPQR")
	if err != nil {
		t.Fatal(err)
	}
	// The same letter typed differently is the same commitment.
	for _, typed := range [][2]string{
		{" V-001 ", "abcd efgh jklm npqr"},
		{"V-001\t", "ABCDEFGHJKLMNPQR"},
		{"\u3000V-001", "ABCD\uff0dEFGH\u3000JKLM-NPQR"},
		// What a Japanese phone types with the IME on: full-width letters
		// and digits, and whichever dash the IME picks.
		{"Ｖ－００１", "ＡＢＣＤ－ＥＦＧＨ－ＪＫＬＭ－ＮＰＱＲ"},
		{"v\u2010001", "ａｂｃｄーｅｆｇｈ\u2212ｊｋｌｍ\u2013ｎｐｑｒ"},
		{"V ー 001", "ABCD\u2015EFGH\u2014JKLM\u2011NPQR"},
		{"v-001", "ａｂｃｄ ｅｆｇｈ ｊｋｌｍ ｎｐｑｒ"},
	} {
		got, err := RollCommitment("e", typed[0], typed[1])
		if err != nil || got != c {
			t.Errorf("%q/%q: %x, %v; want %x", typed[0], typed[1], got, err, c)
		}
	}
	// Every input matters.
	for _, other := range [][3]string{
		{"f", "V-001", "ABCD-EFGH-JKLM-NPQR"},
		{"e", "V-002", "ABCD-EFGH-JKLM-NPQR"},
		{"e", "V-001", "ABCD-EFGH-JKLM-NPQS"},
		{"e", "V001", "ABCD-EFGH-JKLM-NPQR"},
		{"e", "V_001", "ABCD-EFGH-JKLM-NPQR"},
	} {
		if got, _ := RollCommitment(other[0], other[1], other[2]); got == c {
			t.Errorf("%q gives the same commitment", other)
		}
	}
}

func TestRollCommitmentRejects(t *testing.T) {
	for name, in := range map[string][2]string{
		"empty voter":       {"", "ABCD-EFGH-JKLM-NPQR"},
		"blank voter":       {" \t\u3000", "ABCD-EFGH-JKLM-NPQR"},
		"long voter":        {strings.Repeat("x", MaxVoterID+1), "ABCD-EFGH-JKLM-NPQR"},
		"invalid UTF-8":     {"V\xff", "ABCD-EFGH-JKLM-NPQR"},
		"short code":        {"V", "ABCD-EFGH-JKLM"},
		"long code":         {"V", "ABCD-EFGH-JKLM-NPQR-S"},
		"0 in the code":     {"V", "ABCD-EFGH-JKLM-NPQ0"},
		"I in the code":     {"V", "ABCD-EFGH-JKLM-NPQI"},
		"non-ASCII in code": {"V", "ABCD-EFGH-JKLM-NPQé"},
		"empty code":        {"V", ""},
	} {
		if _, err := RollCommitment("e", in[0], in[1]); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
	if _, err := NormalizeCode("ABCD-EFGH-JKLM-NPQ0"); err != ErrCode {
		t.Errorf("a bad code gives %v, want ErrCode", err)
	}
}

// TestNormalizeVoter: ids that differ only in width, case of ASCII
// letters, spaces or the dash typed are one id; anything else is kept.
func TestNormalizeVoter(t *testing.T) {
	for in, want := range map[string]string{
		"Ｋ０００５":      "K0005",
		"k0005":      "K0005",
		"田中 太郎":      "田中太郎",
		"田中\u3000太郎": "田中太郎",
		"住民ー0042":    "住民-0042",
		"ｼﾞｭｳﾐﾝ":     "ジュウミン",
		"Ä-1":        "Ä-1",
		"ä-1":        "ä-1",
		"a \u0301":   "Á",
	} {
		got, err := NormalizeVoter(in)
		if err != nil || got != want {
			t.Errorf("NormalizeVoter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDigitalIDEntry(t *testing.T) {
	a := DigitalIDEntry("e", []byte{1, 2, 3})
	if a == DigitalIDEntry("f", []byte{1, 2, 3}) || a == DigitalIDEntry("e", []byte{1, 2, 4}) {
		t.Fatal("d does not depend on the election and the blinded message")
	}
	if a != DigitalIDEntry("e", []byte{1, 2, 3}) {
		t.Fatal("d is not deterministic: a retry would name another entry")
	}
}

func FuzzRollCommitment(f *testing.F) {
	f.Add("V-001", "abcd-efgh-jklm-npqr")
	f.Add(" 住民 ", "ABCD\u3000EFGH\uff0dJKLM NPQR")
	f.Fuzz(func(t *testing.T, voter, code string) {
		c, err := RollCommitment("e", voter, code)
		if err != nil {
			return
		}
		// Normalised forms are fixed points and give the same commitment.
		v, _ := NormalizeVoter(voter)
		k, _ := NormalizeCode(code)
		v2, err1 := NormalizeVoter(v)
		k2, err2 := NormalizeCode(k)
		if err1 != nil || err2 != nil || v2 != v || k2 != k {
			t.Fatalf("normalisation is not idempotent: %q→%q→%q, %q→%q→%q", voter, v, v2, code, k, k2)
		}
		if again, _ := RollCommitment("e", v, k); again != c {
			t.Fatal("the normalised letter gives another commitment")
		}
		if len(k) != 19 {
			t.Fatalf("normalised code %q", k)
		}
	})
}
