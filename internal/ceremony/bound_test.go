package ceremony

import (
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// TestBound: each message verifies alone under the context it was made
// for and under no other (what a server checks as messages are posted).
func TestBound(t *testing.T) {
	p := Params{N: 2, T: 2}
	other := sha256.Sum256([]byte("a superseded manifest"))
	var ts []*Trustee
	var anns []Announcement
	for j := 1; j <= p.N; j++ {
		tr, a, err := NewTrustee(rand.Reader, p, testContext, j, "t")
		if err != nil {
			t.Fatal(err)
		}
		ts, anns = append(ts, tr), append(anns, *a)
	}
	for i := range anns {
		if err := VerifyAnnouncement(testContext, p, &anns[i]); err != nil {
			t.Fatalf("announcement %d: %v", i+1, err)
		}
		if err := VerifyAnnouncement(other[:], p, &anns[i]); err == nil {
			t.Fatalf("announcement %d verifies under another context", i+1)
		}
		if err := VerifyAnnouncement(testContext[:31], p, &anns[i]); err == nil {
			t.Fatal("a short context is accepted")
		}
	}
	var ds []Dealing
	for _, tr := range ts {
		d, err := tr.Deal(rand.Reader, testContext, anns)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, *d)
	}
	d := &ds[0]
	if err := VerifyDealingSignature(testContext, d, anns[0].Commitments[0]); err != nil {
		t.Fatal(err)
	}
	if err := VerifyDealingSignature(other[:], d, anns[0].Commitments[0]); err == nil {
		t.Fatal("a dealing verifies under another context")
	}
	if err := VerifyDealingSignature(testContext, d, anns[1].Commitments[0]); err == nil {
		t.Fatal("a dealing verifies under another trustee's key")
	}
	v, err := ts[1].Receive(testContext, anns, ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyVerdictSignature(testContext, v, anns[1].Commitments[0]); err != nil {
		t.Fatal(err)
	}
	if err := VerifyVerdictSignature(other[:], v, anns[1].Commitments[0]); err == nil {
		t.Fatal("a verdict verifies under another context")
	}
}
