package credential_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/koe-vote/koe/internal/credential"
)

func Example() {
	// The registrar's key is made once per election and published.
	registrar, err := credential.NewRegistrar(rand.Reader, credential.Bits)
	if err != nil {
		panic(err)
	}
	pub := registrar.PublicKey()
	election := sha256.Sum256([]byte("election context"))

	// On the voter's device: a fresh key, blinded.
	pending, blinded, err := credential.Request(rand.Reader, pub, election)
	if err != nil {
		panic(err)
	}
	// At the registrar, after checking eligibility.
	blindSig, err := registrar.Sign(blinded)
	if err != nil {
		panic(err)
	}
	// Back on the device.
	cred, err := pending.Finalize(blindSig)
	if err != nil {
		panic(err)
	}
	tracking := sha256.Sum256([]byte("encrypted ballot"))
	castSig := cred.SignCast(election, tracking, 1)

	// At the ballot box: the credential travels in the ballot.
	received, err := credential.DecodeCredential(pub, cred.Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println(received.Verify(pub, election))
	fmt.Println(credential.VerifyCast(received.PublicKey, election, tracking, 1, castSig))
	fmt.Println(len(cred.Bytes()))
	// Output:
	// <nil>
	// <nil>
	// 448
}
