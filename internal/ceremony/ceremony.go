// Package ceremony implements koe's trustee key ceremony, as specified in
// SPEC.md §6: a t-of-n joint Feldman verifiable secret sharing (the
// Pedersen-style distributed key generation) over ristretto255, whose
// messages are public and go on the bulletin board.
//
// Trustees are numbered 1..n and any t of them can later decrypt. Every
// message is bound to a 32-byte election context (the manifest hash).
//
//  1. Announce. Trustee i draws a polynomial fᵢ(x) = aᵢ₀ + aᵢ₁x + … +
//     aᵢ,ₜ₋₁xᵗ⁻¹, publishes the commitments Cᵢₖ = aᵢₖ·G with a Schnorr proof
//     of knowledge of each aᵢₖ, an HPKE public key (MLKEM768X25519,
//     HKDF-SHA256, ChaCha20Poly1305) and a display name: an Announcement.
//  2. Deal. Having checked all n announcements, trustee i sends
//     sᵢⱼ = fᵢ(j) to every other trustee j, HPKE-sealed to j's key: a
//     Dealing, whose ciphertexts are public.
//  3. Receive. Trustee j opens every share sent to it and checks
//     sᵢⱼ·G = Σₖ jᵏ·Cᵢₖ. Every failure becomes a Complaint against the
//     dealer; j publishes a Verdict listing them (possibly none).
//  4. Respond. Dealer i answers each complaint against it with a Response
//     revealing sᵢⱼ in the clear, unless t or more trustees complain: then
//     it reveals nothing, since t shares would publish fᵢ. A dealer is
//     disqualified if t or more trustees complain against it or its
//     responses reveal t or more shares (Gennaro, Jarecki, Krawczyk and
//     Rabin 1999), or if a complaint against it has no response, or a
//     response that fails the check above. QUAL is the set of trustees that
//     are not disqualified; the ceremony fails if |QUAL| < t. A qualified
//     dealer's revealed shares thus number at most t−1 and went to the
//     trustees that complained, so no aᵢ₀ of QUAL is public.
//  5. Result. Anyone can compute from the Transcript the joint key
//     K = Σ_{i∈QUAL} Cᵢ₀ and each qualified trustee's verification key
//     Yⱼ = Σ_{i∈QUAL} Σₖ jᵏ·Cᵢₖ. Trustee j's secret share is
//     xⱼ = Σ_{i∈QUAL} sᵢⱼ (using the revealed share where its own was bad),
//     with xⱼ·G = Yⱼ; any t shares interpolate at 0 to the joint secret.
//
// Liveness: every trustee must take part in every round. A transcript with
// a missing announcement, dealing or verdict does not verify; the ceremony
// must then be restarted without the absent trustee. Only members of QUAL
// get a verification key and may later post decryption shares; a
// disqualified trustee's own share is discarded.
//
// As in every Pedersen-style DKG, a rushing adversary controlling dealers can
// bias the distribution of K somewhat (Gennaro et al. 1999); this does not
// help it decrypt ElGamal ciphertexts under K.
//
// Secret scalars (coefficients, shares) are only used with constant-time
// operations; Verify handles public data only and may use variable-time ones.
package ceremony

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// Limits and sizes (SPEC.md §6).
const (
	// MaxTrustees is the largest n supported.
	MaxTrustees = 64
	// ContextSize is the length of the election context.
	ContextSize = 32
	// MaxNameLength is the longest display name, in bytes.
	MaxNameLength = 128
	// MaxReasonLength is the longest complaint reason, in bytes.
	MaxReasonLength = 256
	// HPKEPublicKeySize is the length of a serialized MLKEM768X25519 public key.
	HPKEPublicKeySize = 1216
	// ShareCiphertextSize is the length of an HPKE-sealed share:
	// the 1120-byte encapsulated key, the 32-byte scalar and a 16-byte tag.
	ShareCiphertextSize = 1120 + group.ScalarSize + 16
)

// Domain-separation strings (SPEC.md §6).
const (
	domainCoefficient   = "koe/v2/ceremony/coefficient"
	domainShare         = "koe/v2/ceremony/share"
	domainAnnouncements = "koe/v2/ceremony/announcements"
	domainDealing       = "koe/v2/ceremony/dealing"
	domainDealings      = "koe/v2/ceremony/dealings"
	domainVerdict       = "koe/v2/ceremony/verdict"
	domainResponse      = "koe/v2/ceremony/response"
)

var (
	// ErrTooFewQualified is returned when fewer than t trustees remain
	// qualified after complaints.
	ErrTooFewQualified = errors.New("ceremony: fewer than t trustees qualified")
	// ErrDisqualified is returned by Trustee.Finish for a trustee that is not in QUAL.
	ErrDisqualified = errors.New("ceremony: trustee was disqualified")
)

// The HPKE ciphersuite for shares (RFC 9180 with the hybrid KEM 0x647a).
var (
	hpkeKEM  = hpke.MLKEM768X25519()
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.ChaCha20Poly1305()
)

// Params are the ceremony's size: N trustees, any T of whom can decrypt.
type Params struct{ N, T int }

// Check reports whether 1 ≤ T ≤ N ≤ MaxTrustees.
func (p Params) Check() error {
	if p.T < 1 || p.T > p.N || p.N > MaxTrustees {
		return fmt.Errorf("ceremony: invalid parameters n=%d t=%d: need 1 ≤ t ≤ n ≤ %d", p.N, p.T, MaxTrustees)
	}
	return nil
}

// Announcement is round 1: trustee Index's commitments, proofs and HPKE key.
type Announcement struct {
	Index         int
	Name          string
	HPKEPublicKey []byte           // serialized MLKEM768X25519 public key
	Commitments   []*group.Element // Cᵢₖ = aᵢₖ·G for k = 0..t−1
	Proofs        []*zkp.Schnorr   // proof of knowledge of aᵢₖ for each Cᵢₖ
}

// EncryptedShare is sᵢⱼ sealed to trustee To.
type EncryptedShare struct {
	To         int
	Ciphertext []byte
}

// Dealing is round 2: dealer From's encrypted shares, one for every other
// trustee, made against the announcements whose AnnouncementsHash it carries
// and signed under C_{From,0}.
type Dealing struct {
	From              int
	AnnouncementsHash [32]byte // AnnouncementsHash of the n announcements the dealer verified
	Shares            []EncryptedShare
	Signature         *zkp.Schnorr // under C_{From,0}, context DealingDigest
}

// Complaint says that the share from dealer Against was missing or bad.
type Complaint struct {
	Against int
	Reason  string
}

// Verdict is round 3: trustee From's complaints, possibly none, given on
// the announcements and dealings whose hashes it carries, signed under
// C_{From,0}.
type Verdict struct {
	From              int
	AnnouncementsHash [32]byte // AnnouncementsHash of the announcements From verified
	DealingsHash      [32]byte // DealingsHash of the dealings From opened
	Complaints        []Complaint
	Signature         *zkp.Schnorr // under C_{From,0}, context VerdictDigest
}

// Response is round 4: dealer Dealer reveals the share sᵢⱼ it owes trustee
// To, signed under C_{Dealer,0} together with the verdict it answers.
type Response struct {
	Dealer    int
	To        int
	Share     *group.Scalar // public once revealed
	Signature *zkp.Schnorr  // under C_{Dealer,0}, context ResponseDigest
}

// Transcript is everything the ceremony published.
type Transcript struct {
	Params
	Announcements []Announcement
	Dealings      []Dealing
	Verdicts      []Verdict
	Responses     []Response
}

// Disqualification records why a dealer left QUAL.
type Disqualification struct {
	Trustee int
	Reason  string
}

// Result is the public outcome of a ceremony.
type Result struct {
	Qual             []int                  // qualified trustees, ascending
	JointKey         *group.Element         // K = Σ_{i∈QUAL} Cᵢ₀
	VerificationKeys map[int]*group.Element // Yⱼ for j ∈ QUAL
	Disqualified     []Disqualification     // ascending by trustee
}

// CoefficientContext is the context of the Schnorr proof for Cᵢₖ, which
// binds the commitments to the trustee's name and HPKE public key:
//
//	SHA-256 transcript "koe/v2/ceremony/coefficient" with
//	Bytes("election", context), Uint64("trustee", i), Uint64("k", k),
//	String("name", name), Bytes("hpkePublicKey", hpkePublicKey).
func CoefficientContext(context []byte, i, k int, name string, hpkePublicKey []byte) [32]byte {
	return group.NewDigest(domainCoefficient).Bytes("election", context).
		Uint64("trustee", uint64(i)).Uint64("k", uint64(k)).
		String("name", name).Bytes("hpkePublicKey", hpkePublicKey).Digest32()
}

// AnnouncementsHash is the hash of all n announcements, which every dealing
// and verdict carries. anns must hold exactly trustees 1..n (any order):
//
//	SHA-256 transcript "koe/v2/ceremony/announcements" with
//	Bytes("election", context), Uint64("n", n), then for i = 1..n:
//	Uint64("index", i), String("name", name), Bytes("hpkePublicKey", pk),
//	Uint64("t", t), then for k = 0..t−1: Element("commitment", Cᵢₖ),
//	Bytes("proof", Rᵢₖ ‖ sᵢₖ).
func AnnouncementsHash(context []byte, anns []Announcement) [32]byte {
	byIndex := make(map[int]*Announcement, len(anns))
	for k := range anns {
		byIndex[anns[k].Index] = &anns[k]
	}
	d := group.NewDigest(domainAnnouncements).Bytes("election", context).Uint64("n", uint64(len(anns)))
	for i := 1; i <= len(anns); i++ {
		a := byIndex[i]
		if a == nil {
			panic(fmt.Sprintf("ceremony: AnnouncementsHash: no announcement of trustee %d", i))
		}
		d.Uint64("index", uint64(i)).String("name", a.Name).Bytes("hpkePublicKey", a.HPKEPublicKey).
			Uint64("t", uint64(len(a.Commitments)))
		for k, C := range a.Commitments {
			d.Element("commitment", C).Bytes("proof", a.Proofs[k].Bytes())
		}
	}
	return d.Digest32()
}

// DealingDigest is the hash of a dealing, the context of its signature:
//
//	SHA-256 transcript "koe/v2/ceremony/dealing" with
//	Bytes("election", context), Uint64("from", i),
//	Bytes("announcements", announcementsHash), Uint64("shares", n−1), then
//	for each share in ascending order of recipient:
//	Uint64("to", j), Bytes("ciphertext", ciphertext).
func DealingDigest(context []byte, d *Dealing) [32]byte {
	shares := slices.Clone(d.Shares)
	slices.SortFunc(shares, func(a, b EncryptedShare) int { return a.To - b.To })
	h := group.NewDigest(domainDealing).Bytes("election", context).Uint64("from", uint64(d.From)).
		Bytes("announcements", d.AnnouncementsHash[:]).Uint64("shares", uint64(len(shares)))
	for _, s := range shares {
		h.Uint64("to", uint64(s.To)).Bytes("ciphertext", s.Ciphertext)
	}
	return h.Digest32()
}

// DealingsHash is the hash of the dealings whose share trustee j accepted,
// which its verdict carries. digests[i] is the DealingDigest of dealer i's
// dealing if j accepted its share, nil if j complains against i:
//
//	SHA-256 transcript "koe/v2/ceremony/dealings" with
//	Bytes("election", context), Uint64("to", j), then for every i ≠ j in
//	1..n ascending: Uint64("from", i), Bytes("dealing", digest or empty).
func DealingsHash(context []byte, n, j int, digests map[int][]byte) [32]byte {
	h := group.NewDigest(domainDealings).Bytes("election", context).Uint64("to", uint64(j))
	for i := 1; i <= n; i++ {
		if i != j {
			h.Uint64("from", uint64(i)).Bytes("dealing", digests[i])
		}
	}
	return h.Digest32()
}

// VerdictDigest is the hash of a verdict, the context of its signature:
//
//	SHA-256 transcript "koe/v2/ceremony/verdict" with
//	Bytes("election", context), Uint64("from", j),
//	Bytes("announcements", announcementsHash), Bytes("dealings", dealingsHash),
//	Uint64("complaints", m), then for each complaint in the verdict's order:
//	Uint64("against", i), String("reason", reason).
func VerdictDigest(context []byte, v *Verdict) [32]byte {
	h := group.NewDigest(domainVerdict).Bytes("election", context).Uint64("from", uint64(v.From)).
		Bytes("announcements", v.AnnouncementsHash[:]).Bytes("dealings", v.DealingsHash[:]).
		Uint64("complaints", uint64(len(v.Complaints)))
	for _, c := range v.Complaints {
		h.Uint64("against", uint64(c.Against)).String("reason", c.Reason)
	}
	return h.Digest32()
}

// ResponseDigest is the hash of a response to the verdict whose
// VerdictDigest is verdict, the context of its signature:
//
//	SHA-256 transcript "koe/v2/ceremony/response" with
//	Bytes("election", context), Uint64("dealer", i), Uint64("to", j),
//	Scalar("share", sᵢⱼ), Bytes("verdict", verdict).
func ResponseDigest(context []byte, r *Response, verdict [32]byte) [32]byte {
	return group.NewDigest(domainResponse).Bytes("election", context).
		Uint64("dealer", uint64(r.Dealer)).Uint64("to", uint64(r.To)).
		Scalar("share", r.Share).Bytes("verdict", verdict[:]).Digest32()
}

// ShareInfo is the HPKE info for the share from dealer i to trustee j:
//
//	SHA-256 transcript "koe/v2/ceremony/share" with
//	Bytes("election", context), Uint64("from", i), Uint64("to", j).
func ShareInfo(context []byte, i, j int) [32]byte {
	return group.NewDigest(domainShare).Bytes("election", context).
		Uint64("from", uint64(i)).Uint64("to", uint64(j)).Digest32()
}

func checkContext(context []byte) error {
	if len(context) != ContextSize {
		return fmt.Errorf("ceremony: context is %d bytes, want %d", len(context), ContextSize)
	}
	return nil
}

func checkText(what, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%s must be 1..%d bytes", what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not UTF-8", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s contains a control character", what)
		}
	}
	return nil
}

// checkIndex reports whether 1 ≤ i ≤ n.
func checkIndex(what string, i, n int) error {
	if i < 1 || i > n {
		return fmt.Errorf("%s %d outside 1..%d", what, i, n)
	}
	return nil
}

// powers returns 1, j, j², …, j^(t−1) as scalars.
func powers(j, t int) []*group.Scalar {
	out := make([]*group.Scalar, t)
	x := group.ScalarFromUint64(uint64(j))
	out[0] = group.ScalarFromUint64(1)
	for k := 1; k < t; k++ {
		out[k] = group.NewScalar().Multiply(out[k-1], x)
	}
	return out
}

// expectedShare returns Σₖ jᵏ·Cₖ, the public image of f(j). Variable time:
// public data only.
func expectedShare(commitments []*group.Element, j int) *group.Element {
	return group.VarTimeMSM(powers(j, len(commitments)), commitments)
}

// checkStructure checks what can be checked without the context or any
// cryptography: params, indices, counts, lengths, duplicates.
func (a *Announcement) checkStructure(n, t int) error {
	if err := checkIndex("index", a.Index, n); err != nil {
		return err
	}
	if err := checkText("name", a.Name, MaxNameLength); err != nil {
		return err
	}
	if len(a.HPKEPublicKey) != HPKEPublicKeySize {
		return fmt.Errorf("HPKE public key is %d bytes, want %d", len(a.HPKEPublicKey), HPKEPublicKeySize)
	}
	if t > 0 && len(a.Commitments) != t {
		return fmt.Errorf("%d commitments, want t = %d", len(a.Commitments), t)
	}
	if len(a.Commitments) < 1 || len(a.Commitments) > MaxTrustees {
		return fmt.Errorf("%d commitments, want 1..%d", len(a.Commitments), MaxTrustees)
	}
	if len(a.Proofs) != len(a.Commitments) {
		return fmt.Errorf("%d proofs for %d commitments", len(a.Proofs), len(a.Commitments))
	}
	for k, C := range a.Commitments {
		if C == nil || group.IsIdentity(C) {
			return fmt.Errorf("commitment %d is missing or the identity", k)
		}
		if p := a.Proofs[k]; p == nil || p.R == nil || p.S == nil {
			return fmt.Errorf("proof %d is missing", k)
		}
	}
	return nil
}

func (d *Dealing) checkStructure(n int) error {
	if err := checkIndex("dealer", d.From, n); err != nil {
		return err
	}
	seen := make(map[int]bool)
	for _, s := range d.Shares {
		if err := checkIndex("recipient", s.To, n); err != nil {
			return err
		}
		if s.To == d.From {
			return fmt.Errorf("share addressed to the dealer itself")
		}
		if seen[s.To] {
			return fmt.Errorf("two shares for trustee %d", s.To)
		}
		seen[s.To] = true
		if len(s.Ciphertext) != ShareCiphertextSize {
			return fmt.Errorf("share for trustee %d is %d bytes, want %d", s.To, len(s.Ciphertext), ShareCiphertextSize)
		}
	}
	return checkSignature(d.Signature)
}

func checkSignature(s *zkp.Schnorr) error {
	if s == nil || s.R == nil || s.S == nil {
		return errors.New("signature missing")
	}
	return nil
}

func (v *Verdict) checkStructure(n int) error {
	if err := checkIndex("trustee", v.From, n); err != nil {
		return err
	}
	seen := make(map[int]bool)
	for _, c := range v.Complaints {
		if err := checkIndex("complaint against", c.Against, n); err != nil {
			return err
		}
		if c.Against == v.From {
			return fmt.Errorf("complaint against itself")
		}
		if seen[c.Against] {
			return fmt.Errorf("two complaints against trustee %d", c.Against)
		}
		seen[c.Against] = true
		if err := checkText("complaint reason", c.Reason, MaxReasonLength); err != nil {
			return err
		}
	}
	return checkSignature(v.Signature)
}

func (r *Response) checkStructure(n int) error {
	if err := checkIndex("dealer", r.Dealer, n); err != nil {
		return err
	}
	if err := checkIndex("recipient", r.To, n); err != nil {
		return err
	}
	if r.Dealer == r.To {
		return fmt.Errorf("response addressed to the dealer itself")
	}
	if r.Share == nil {
		return fmt.Errorf("share missing")
	}
	return checkSignature(r.Signature)
}

type pair struct{ dealer, to int }

// checkStructure checks the transcript's shape: every trustee announced,
// dealt to every other trustee and gave a verdict, exactly once, and every
// response answers a complaint.
func (tr *Transcript) checkStructure() error {
	p := tr.Params
	if err := p.Check(); err != nil {
		return err
	}
	seen := make(map[int]bool)
	for _, a := range tr.Announcements {
		if err := a.checkStructure(p.N, p.T); err != nil {
			return fmt.Errorf("ceremony: announcement of trustee %d: %w", a.Index, err)
		}
		if seen[a.Index] {
			return fmt.Errorf("ceremony: trustee %d announced twice", a.Index)
		}
		seen[a.Index] = true
	}
	for i := 1; i <= p.N; i++ {
		if !seen[i] {
			return fmt.Errorf("ceremony: trustee %d published no announcement", i)
		}
	}
	clear(seen)
	for _, d := range tr.Dealings {
		if err := d.checkStructure(p.N); err != nil {
			return fmt.Errorf("ceremony: dealing of trustee %d: %w", d.From, err)
		}
		if seen[d.From] {
			return fmt.Errorf("ceremony: trustee %d published two dealings", d.From)
		}
		seen[d.From] = true
		if len(d.Shares) != p.N-1 {
			to := make(map[int]bool)
			for _, s := range d.Shares {
				to[s.To] = true
			}
			for j := 1; j <= p.N; j++ {
				if j != d.From && !to[j] {
					return fmt.Errorf("ceremony: dealing of trustee %d has no share for trustee %d", d.From, j)
				}
			}
		}
	}
	for i := 1; i <= p.N; i++ {
		if !seen[i] {
			return fmt.Errorf("ceremony: trustee %d published no dealing", i)
		}
	}
	clear(seen)
	complaints := make(map[pair]bool)
	for _, v := range tr.Verdicts {
		if err := v.checkStructure(p.N); err != nil {
			return fmt.Errorf("ceremony: verdict of trustee %d: %w", v.From, err)
		}
		if seen[v.From] {
			return fmt.Errorf("ceremony: trustee %d published two verdicts", v.From)
		}
		seen[v.From] = true
		for _, c := range v.Complaints {
			complaints[pair{c.Against, v.From}] = true
		}
	}
	for i := 1; i <= p.N; i++ {
		if !seen[i] {
			return fmt.Errorf("ceremony: trustee %d published no verdict", i)
		}
	}
	responses := make(map[pair]bool)
	for _, r := range tr.Responses {
		if err := r.checkStructure(p.N); err != nil {
			return fmt.Errorf("ceremony: response of trustee %d: %w", r.Dealer, err)
		}
		k := pair{r.Dealer, r.To}
		if responses[k] {
			return fmt.Errorf("ceremony: trustee %d responded twice to trustee %d", r.Dealer, r.To)
		}
		responses[k] = true
		if !complaints[k] {
			return fmt.Errorf("ceremony: trustee %d responded to trustee %d, who made no complaint against it", r.Dealer, r.To)
		}
	}
	return nil
}

// announced is a checked announcement.
type announced struct {
	*Announcement
	pk hpke.PublicKey
}

// verifyAnnouncements checks n announcements (structure, HPKE keys and
// every Schnorr proof, batched) and returns them by index.
func verifyAnnouncements(context []byte, p Params, anns []Announcement) (map[int]*announced, error) {
	if err := checkContext(context); err != nil {
		return nil, err
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	out := make(map[int]*announced, len(anns))
	for i := range anns {
		a := &anns[i]
		if err := a.checkStructure(p.N, p.T); err != nil {
			return nil, fmt.Errorf("ceremony: announcement of trustee %d: %w", a.Index, err)
		}
		if out[a.Index] != nil {
			return nil, fmt.Errorf("ceremony: trustee %d announced twice", a.Index)
		}
		pk, err := hpkeKEM.NewPublicKey(a.HPKEPublicKey)
		if err != nil || !bytes.Equal(pk.Bytes(), a.HPKEPublicKey) {
			return nil, fmt.Errorf("ceremony: announcement of trustee %d: invalid HPKE public key", a.Index)
		}
		out[a.Index] = &announced{Announcement: a, pk: pk}
	}
	for i := 1; i <= p.N; i++ {
		if out[i] == nil {
			return nil, fmt.Errorf("ceremony: trustee %d published no announcement", i)
		}
	}
	b := group.NewBatch()
	for i := 1; i <= p.N; i++ {
		a := out[i]
		for k, C := range a.Commitments {
			ctx := CoefficientContext(context, i, k, a.Name, a.HPKEPublicKey)
			a.Proofs[k].AddTo(b, ctx[:], C)
		}
	}
	if b.Verify() {
		return out, nil
	}
	for i := 1; i <= p.N; i++ {
		a := out[i]
		for k, C := range a.Commitments {
			ctx := CoefficientContext(context, i, k, a.Name, a.HPKEPublicKey)
			if err := a.Proofs[k].Verify(ctx[:], C); err != nil {
				return nil, fmt.Errorf("ceremony: announcement of trustee %d: proof of coefficient %d: %w", i, k, err)
			}
		}
	}
	return nil, errors.New("ceremony: batch verification of announcement proofs failed but every proof verifies alone")
}

// Verify checks the whole transcript against context: structure, every
// announcement proof, and every response to a complaint; it computes QUAL,
// the joint key and the qualified trustees' verification keys. It fails if
// the transcript is malformed or incomplete, naming the trustee at fault, or
// if fewer than t trustees qualify (ErrTooFewQualified).
func (tr *Transcript) Verify(context []byte) (*Result, error) {
	if err := checkContext(context); err != nil {
		return nil, err
	}
	if err := tr.checkStructure(); err != nil {
		return nil, err
	}
	anns, err := verifyAnnouncements(context, tr.Params, tr.Announcements)
	if err != nil {
		return nil, err
	}
	if err := tr.verifyMessages(context, anns); err != nil {
		return nil, err
	}
	responses := make(map[pair]*Response)
	for i := range tr.Responses {
		r := &tr.Responses[i]
		responses[pair{r.Dealer, r.To}] = r
	}
	// against[i][j] is true if trustee j complained against dealer i.
	against := make([][]bool, tr.N+1)
	for i := range against {
		against[i] = make([]bool, tr.N+1)
	}
	for _, v := range tr.Verdicts {
		for _, c := range v.Complaints {
			against[c.Against][v.From] = true
		}
	}
	revealed := make([]int, tr.N+1)
	for _, r := range tr.Responses {
		revealed[r.Dealer]++
	}
	res := &Result{VerificationKeys: make(map[int]*group.Element)}
	for i := 1; i <= tr.N; i++ {
		reason := disqualifiedByCount(tr.T, complaintsAgainst(against[i]), revealed[i])
		for j := 1; j <= tr.N && reason == ""; j++ {
			if !against[i][j] {
				continue
			}
			r := responses[pair{i, j}]
			switch {
			case r == nil:
				reason = fmt.Sprintf("no response to the complaint of trustee %d", j)
			case !group.Equal(group.VarTimeMul(r.Share, group.Generator()), expectedShare(anns[i].Commitments, j)):
				reason = fmt.Sprintf("response to trustee %d does not match the commitments", j)
			}
		}
		if reason != "" {
			res.Disqualified = append(res.Disqualified, Disqualification{Trustee: i, Reason: reason})
			continue
		}
		res.Qual = append(res.Qual, i)
	}
	if len(res.Qual) < tr.T {
		return nil, fmt.Errorf("%w: %d of %d qualified, t = %d (%s)", ErrTooFewQualified, len(res.Qual), tr.N, tr.T, describe(res.Disqualified))
	}
	// Aₖ = Σ_{i∈QUAL} Cᵢₖ; K = A₀; Yⱼ = Σₖ jᵏ·Aₖ.
	A := make([]*group.Element, tr.T)
	for k := range A {
		A[k] = group.NewElement()
		for _, i := range res.Qual {
			A[k].Add(A[k], anns[i].Commitments[k])
		}
	}
	res.JointKey = group.NewElement().Set(A[0])
	for _, j := range res.Qual {
		res.VerificationKeys[j] = expectedShare(A, j)
	}
	return res, nil
}

// verifyMessages checks that every dealing and verdict was made on the
// transcript's announcements, that every verdict was given on the
// transcript's dealings, and every signature of a dealing, verdict and
// response under its sender's C_{i,0} (batched). checkStructure has run.
func (tr *Transcript) verifyMessages(context []byte, anns map[int]*announced) error {
	annHash := AnnouncementsHash(context, tr.Announcements)
	digests := make(map[int][]byte, tr.N)
	type signed struct {
		what string
		sig  *zkp.Schnorr
		ctx  [32]byte
		from int
	}
	var sigs []signed
	for k := range tr.Dealings {
		d := &tr.Dealings[k]
		if d.AnnouncementsHash != annHash {
			return fmt.Errorf("ceremony: dealing of trustee %d was made on other announcements than the transcript's", d.From)
		}
		h := DealingDigest(context, d)
		digests[d.From] = h[:]
		sigs = append(sigs, signed{fmt.Sprintf("dealing of trustee %d", d.From), d.Signature, h, d.From})
	}
	verdicts := make(map[int][32]byte, tr.N)
	for k := range tr.Verdicts {
		v := &tr.Verdicts[k]
		if v.AnnouncementsHash != annHash {
			return fmt.Errorf("ceremony: verdict of trustee %d was given on other announcements than the transcript's", v.From)
		}
		seen := maps.Clone(digests)
		for _, c := range v.Complaints {
			delete(seen, c.Against)
		}
		if v.DealingsHash != DealingsHash(context, tr.N, v.From, seen) {
			return fmt.Errorf("ceremony: verdict of trustee %d was given on other dealings than the transcript's", v.From)
		}
		h := VerdictDigest(context, v)
		verdicts[v.From] = h
		sigs = append(sigs, signed{fmt.Sprintf("verdict of trustee %d", v.From), v.Signature, h, v.From})
	}
	for k := range tr.Responses {
		r := &tr.Responses[k]
		h := ResponseDigest(context, r, verdicts[r.To])
		sigs = append(sigs, signed{fmt.Sprintf("response of trustee %d to trustee %d", r.Dealer, r.To), r.Signature, h, r.Dealer})
	}
	b := group.NewBatch()
	for _, s := range sigs {
		s.sig.AddTo(b, s.ctx[:], anns[s.from].Commitments[0])
	}
	if b.Verify() {
		return nil
	}
	for _, s := range sigs {
		if err := s.sig.Verify(s.ctx[:], anns[s.from].Commitments[0]); err != nil {
			return fmt.Errorf("ceremony: signature of the %s: %w", s.what, err)
		}
	}
	return errors.New("ceremony: batch verification of signatures failed but every signature verifies alone")
}

// complaintsAgainst counts the trustees j with from[j] set.
func complaintsAgainst(from []bool) int {
	n := 0
	for _, c := range from {
		if c {
			n++
		}
	}
	return n
}

// disqualifiedByCount applies the rule of Gennaro, Jarecki, Krawczyk and
// Rabin (SPEC.md §6.3 step 5): a dealer against whom t or more trustees complain
// is disqualified whatever it answers, since answering would publish t
// points of its polynomial; so is a dealer whose responses reveal t or more
// shares. It returns the reason, or "" if neither applies.
func disqualifiedByCount(t, complaints, revealed int) string {
	switch {
	case complaints >= t:
		return fmt.Sprintf("complaints from %d trustees (t = %d): its shares must stay secret", complaints, t)
	case revealed >= t:
		return fmt.Sprintf("its responses reveal %d shares (t = %d): its polynomial is public", revealed, t)
	}
	return ""
}

func describe(ds []Disqualification) string {
	var b bytes.Buffer
	for n, d := range ds {
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "trustee %d disqualified: %s", d.Trustee, d.Reason)
	}
	return b.String()
}

// Lagrange returns the Lagrange coefficient λᵢ at 0 for the set of trustee
// indices: λᵢ = Π_{m∈indices, m≠i} m / (m − i). It panics if indices holds a
// duplicate or a non-positive index, or does not contain i. Public data only.
func Lagrange(indices []int, i int) *group.Scalar {
	num := group.ScalarFromUint64(1)
	den := group.ScalarFromUint64(1)
	seen := make(map[int]bool, len(indices))
	for _, m := range indices {
		if m < 1 || seen[m] {
			panic(fmt.Sprintf("ceremony: Lagrange: invalid or duplicate index %d", m))
		}
		seen[m] = true
		if m == i {
			continue
		}
		num.Multiply(num, group.ScalarFromInt64(int64(m)))
		den.Multiply(den, group.ScalarFromInt64(int64(m-i)))
	}
	if !seen[i] {
		panic(fmt.Sprintf("ceremony: Lagrange: index %d not in the set", i))
	}
	return num.Multiply(num, group.NewScalar().Invert(den))
}
