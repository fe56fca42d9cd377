package ceremony_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
)

// A 2-of-3 ceremony run in one process. In a real election each trustee runs
// on its own machine, the messages travel through the bulletin board, and
// each Trustee is stored between rounds with MarshalBinary and keystore.Seal.
func Example() {
	manifestHash := sha256.Sum256([]byte("example manifest"))
	context := manifestHash[:]
	params := ceremony.Params{N: 3, T: 2}

	// Round 1: announce.
	var trustees []*ceremony.Trustee
	var anns []ceremony.Announcement
	for i, name := range []string{"Aiko", "Botan", "Chiyo"} {
		t, a, err := ceremony.NewTrustee(rand.Reader, params, context, i+1, name)
		if err != nil {
			panic(err)
		}
		trustees = append(trustees, t)
		anns = append(anns, *a)
	}
	// Round 2: deal.
	var dealings []ceremony.Dealing
	for _, t := range trustees {
		d, err := t.Deal(rand.Reader, context, anns)
		if err != nil {
			panic(err)
		}
		dealings = append(dealings, *d)
	}
	// Round 3: receive and publish verdicts.
	var verdicts []ceremony.Verdict
	for _, t := range trustees {
		v, err := t.Receive(context, anns, dealings)
		if err != nil {
			panic(err)
		}
		verdicts = append(verdicts, *v)
	}
	// Round 4: answer complaints (there are none here).
	var responses []ceremony.Response
	for _, t := range trustees {
		rs, err := t.Respond(context, anns, verdicts)
		if err != nil {
			panic(err)
		}
		responses = append(responses, rs...)
	}
	tr := &ceremony.Transcript{Params: params, Announcements: anns, Dealings: dealings, Verdicts: verdicts, Responses: responses}

	// Round 5: anyone verifies the transcript; each trustee derives its share.
	result, err := tr.Verify(context)
	if err != nil {
		panic(err)
	}
	for _, t := range trustees {
		if _, err := t.Finish(context, tr); err != nil {
			panic(err)
		}
	}

	// Trustees 1 and 3 together hold the joint secret.
	set := []int{1, 3}
	x := group.NewScalar()
	for _, j := range set {
		x.Add(x, group.NewScalar().Multiply(ceremony.Lagrange(set, j), trustees[j-1].Share()))
	}
	fmt.Println("qualified:", result.Qual)
	fmt.Println("shares of 1 and 3 give the joint secret:", group.Equal(group.BaseMul(x), result.JointKey))
	// Output:
	// qualified: [1 2 3]
	// shares of 1 and 3 give the joint secret: true
}
