package ceremony

import (
	"crypto/hpke"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/koe-vote/koe/internal/group"
)

// A relay (the server, or anyone between the trustees and the board) that
// shows each dealer announcements of its own making, opens every share,
// re-seals it to its real recipient and posts that on the board (crypto
// audit C1). The tests play the relay to the end and require that the
// ceremony refuses it: a dealer refuses to deal, or the transcript with the
// relay's dealings does not verify and no trustee finishes.

// relayView returns the announcements the relay shows dealer i: trustee
// j ≠ i keeps its commitments and proofs but gets the relay's HPKE key
// (swapKeys), or is replaced by an announcement the relay made with its own
// polynomial (replace).
type relayView func(t *testing.T, i int, real []Announcement, keys map[int]hpke.PrivateKey) []Announcement

func swapKeys(t *testing.T, i int, real []Announcement, keys map[int]hpke.PrivateKey) []Announcement {
	view := make([]Announcement, len(real))
	for k, a := range real {
		view[k] = a
		if a.Index != i {
			view[k].HPKEPublicKey = keys[a.Index].PublicKey().Bytes()
		}
	}
	return view
}

func replaceAnnouncements(t *testing.T, i int, real []Announcement, keys map[int]hpke.PrivateKey) []Announcement {
	view := make([]Announcement, len(real))
	for k, a := range real {
		view[k] = a
		if a.Index == i {
			continue
		}
		p := Params{N: len(real), T: len(a.Commitments)}
		fake, ann, err := NewTrustee(rand.Reader, p, testContext, a.Index, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		keys[a.Index] = fake.hpkeKey
		view[k] = *ann
	}
	return view
}

func TestRelayLearnsNoSecret(t *testing.T) {
	for _, tc := range []struct {
		name string
		view relayView
	}{
		{"HPKE keys swapped", swapKeys},
		{"announcements replaced", replaceAnnouncements},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Params{N: 3, T: 2}
			var trustees []*Trustee
			var anns []Announcement
			for i := 1; i <= p.N; i++ {
				tt, a, err := NewTrustee(rand.Reader, p, testContext, i, fmt.Sprintf("Trustee %d", i))
				if err != nil {
					t.Fatal(err)
				}
				trustees = append(trustees, tt)
				anns = append(anns, *a)
			}
			// The relay's HPKE key pairs, one for each trustee it impersonates.
			keys := make(map[int]hpke.PrivateKey)
			for j := 1; j <= p.N; j++ {
				sk, err := hpkeKEM.GenerateKey()
				if err != nil {
					t.Fatal(err)
				}
				keys[j] = sk
			}
			// learned[i][j] is s_ij as the relay opened it.
			learned := make(map[int]map[int]*group.Scalar)
			var ds []Dealing
			refused := 0
			for _, tt := range trustees {
				i := tt.Index
				d, err := tt.Deal(rand.Reader, testContext, tc.view(t, i, anns, keys))
				if err != nil {
					t.Logf("dealer %d refuses the relay's view: %v", i, err)
					refused++
					continue
				}
				learned[i] = make(map[int]*group.Scalar)
				for k, s := range d.Shares {
					info := ShareInfo(testContext, i, s.To)
					pt, err := hpke.Open(keys[s.To], hpkeKDF, hpkeAEAD, info[:], s.Ciphertext)
					if err != nil {
						t.Fatalf("relay cannot open the share from %d to %d: %v", i, s.To, err)
					}
					if learned[i][s.To], err = group.DecodeScalar(pt); err != nil {
						t.Fatal(err)
					}
					pk, err := hpkeKEM.NewPublicKey(anns[s.To-1].HPKEPublicKey)
					if err != nil {
						t.Fatal(err)
					}
					if d.Shares[k].Ciphertext, err = hpke.Seal(pk, hpkeKDF, hpkeAEAD, info[:], pt); err != nil {
						t.Fatal(err)
					}
				}
				ds = append(ds, *d)
			}
			if refused == p.N {
				return // every dealer refused: the relay learned nothing
			}
			if refused > 0 {
				t.Fatalf("%d of %d dealers refused the same kind of view", refused, p.N)
			}
			// The relay interpolates every f_i(0) from the n−1 ≥ t shares it opened.
			x := group.NewScalar()
			for i := 1; i <= p.N; i++ {
				var idx []int
				for j := range learned[i] {
					idx = append(idx, j)
				}
				for _, j := range idx {
					x.Add(x, group.NewScalar().Multiply(Lagrange(idx, j), learned[i][j]))
				}
			}
			K := group.NewElement()
			for _, a := range anns {
				K.Add(K, a.Commitments[0])
			}
			if !group.Equal(group.BaseMul(x), K) {
				t.Fatal("the relay did not recover the joint secret; the test's relay is broken")
			}
			var vs []Verdict
			for _, tt := range trustees {
				v, err := tt.Receive(testContext, anns, ds)
				if err != nil {
					t.Logf("trustee %d refuses in round 3: %v", tt.Index, err)
					return
				}
				vs = append(vs, *v)
			}
			var rs []Response
			for _, tt := range trustees {
				out, err := tt.Respond(testContext, anns, vs)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, out...)
			}
			tr := &Transcript{Params: p, Announcements: anns, Dealings: ds, Verdicts: vs, Responses: rs}
			if res, err := tr.Verify(testContext); err == nil {
				t.Fatalf("the relay knows the joint secret, yet the transcript verifies (QUAL=%v)", res.Qual)
			} else {
				t.Logf("transcript rejected: %v", err)
			}
			for _, tt := range trustees {
				if _, err := tt.Finish(testContext, tr); err == nil {
					t.Fatalf("trustee %d finished a ceremony whose secret the relay knows", tt.Index)
				}
			}
		})
	}
}
