package ceremony

import (
	"fmt"

	"github.com/koe-vote/koe/internal/group"
)

// A server checks each message as it is posted against the election's
// current context (SPEC.md §6.3, §15.2 Drafts): a message bound to another
// context would fix a draft's manifest while the ceremony could never
// verify under it. These checks are those of Transcript.Verify, one
// message at a time and without batching.

// VerifyAnnouncement checks a's structure, HPKE key and every proof of
// knowledge of its coefficients under context.
func VerifyAnnouncement(context []byte, p Params, a *Announcement) error {
	if err := checkContext(context); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return err
	}
	if err := a.checkStructure(p.N, p.T); err != nil {
		return fmt.Errorf("ceremony: announcement of trustee %d: %w", a.Index, err)
	}
	for k, C := range a.Commitments {
		ctx := CoefficientContext(context, a.Index, k, a.Name, a.HPKEPublicKey)
		if err := a.Proofs[k].Verify(ctx[:], C); err != nil {
			return fmt.Errorf("ceremony: announcement of trustee %d: proof of coefficient %d: %w", a.Index, k, err)
		}
	}
	return nil
}

// VerifyDealingSignature checks d's signature under context and the
// dealer's announced C_{From,0}.
func VerifyDealingSignature(context []byte, d *Dealing, c0 *group.Element) error {
	if err := checkContext(context); err != nil {
		return err
	}
	h := DealingDigest(context, d)
	if err := d.Signature.Verify(h[:], c0); err != nil {
		return fmt.Errorf("ceremony: signature of the dealing of trustee %d: %w", d.From, err)
	}
	return nil
}

// VerifyVerdictSignature checks v's signature under context and the
// trustee's announced C_{From,0}.
func VerifyVerdictSignature(context []byte, v *Verdict, c0 *group.Element) error {
	if err := checkContext(context); err != nil {
		return err
	}
	h := VerdictDigest(context, v)
	if err := v.Signature.Verify(h[:], c0); err != nil {
		return fmt.Errorf("ceremony: signature of the verdict of trustee %d: %w", v.From, err)
	}
	return nil
}
