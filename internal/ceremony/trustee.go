package ceremony

import (
	"bytes"
	"crypto/hpke"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/koe-vote/koe/internal/strictjson"
	"io"
	"slices"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// SecretKind is the keystore kind under which a Trustee's MarshalBinary
// output should be sealed.
const SecretKind = "koe/v2/trustee-secret"

type stage int

const (
	stageAnnounced stage = iota + 1 // after NewTrustee
	stageReceived                   // after Receive
	stageFinished                   // after Finish
)

var stageNames = map[stage]string{stageAnnounced: "announced", stageReceived: "received", stageFinished: "finished"}

// A Trustee is one participant's secret state across the rounds. Until
// Finish it holds the polynomial coefficients, the HPKE private key and the
// verified shares it received. Finish replaces them all with its share xⱼ of
// the election secret, which is all decryption needs; it keeps only public
// values besides (its commitments and HPKE public key, to recognise its own
// announcement), so a key file written after Finish holds no coefficient,
// received share or HPKE secret (crypto audit L2). Store it with
// MarshalBinary sealed by keystore.Seal under SecretKind. It never prints
// its secrets (String and GoString show only the index and name).
type Trustee struct {
	Index int
	Name  string

	params      Params
	context     [ContextSize]byte
	hpkeSeed    []byte // serialized HPKE private key (32-byte seed); nil once finished
	hpkeKey     hpke.PrivateKey
	hpkePublic  []byte           // the HPKE public key announced
	coeffs      []*group.Scalar  // aᵢ₀ … aᵢ,ₜ₋₁: secret; nil once finished
	commitments []*group.Element // Cᵢₖ = aᵢₖ·G
	stage       stage
	received    map[int]*group.Scalar // dealer → verified sᵢⱼ (own share included): secret
	share       *group.Scalar         // xⱼ: secret
}

// NewTrustee starts the ceremony for trustee index: it draws the polynomial
// and the HPKE key pair from rand and returns the trustee's secret state and
// its public Announcement.
func NewTrustee(rand io.Reader, params Params, context []byte, index int, name string) (*Trustee, *Announcement, error) {
	if err := params.Check(); err != nil {
		return nil, nil, err
	}
	if err := checkContext(context); err != nil {
		return nil, nil, err
	}
	if err := checkIndex("ceremony: trustee index", index, params.N); err != nil {
		return nil, nil, err
	}
	if err := checkText("ceremony: trustee name", name, MaxNameLength); err != nil {
		return nil, nil, err
	}
	t := &Trustee{Index: index, Name: name, params: params, stage: stageAnnounced}
	copy(t.context[:], context)
	for k := 0; k < params.T; k++ {
		a, err := group.RandomScalar(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("ceremony: %w", err)
		}
		t.coeffs = append(t.coeffs, a)
		t.commitments = append(t.commitments, group.BaseMul(a))
	}
	ikm := make([]byte, 32)
	if _, err := io.ReadFull(rand, ikm); err != nil {
		return nil, nil, fmt.Errorf("ceremony: reading randomness: %w", err)
	}
	sk, err := hpkeKEM.DeriveKeyPair(ikm)
	if err != nil {
		return nil, nil, fmt.Errorf("ceremony: deriving HPKE key: %w", err)
	}
	if t.hpkeSeed, err = sk.Bytes(); err != nil {
		return nil, nil, fmt.Errorf("ceremony: serializing HPKE key: %w", err)
	}
	t.hpkeKey = sk
	t.hpkePublic = sk.PublicKey().Bytes()
	ann := &Announcement{Index: index, Name: name, HPKEPublicKey: bytes.Clone(t.hpkePublic)}
	for k, a := range t.coeffs {
		ctx := CoefficientContext(context, index, k, name, ann.HPKEPublicKey)
		p, err := zkp.ProveSchnorr(rand, ctx[:], a, t.commitments[k])
		if err != nil {
			return nil, nil, fmt.Errorf("ceremony: %w", err)
		}
		ann.Commitments = append(ann.Commitments, group.NewElement().Set(t.commitments[k]))
		ann.Proofs = append(ann.Proofs, p)
	}
	return t, ann, nil
}

// Params returns the ceremony parameters the trustee was created with.
func (t *Trustee) Params() Params { return t.params }

// String describes the trustee without its secrets.
func (t *Trustee) String() string { return fmt.Sprintf("trustee %d (%q)", t.Index, t.Name) }

// GoString describes the trustee without its secrets.
func (t *Trustee) GoString() string { return "ceremony." + t.String() }

// eval returns fᵢ(j) = Σₖ aᵢₖ·jᵏ by Horner's rule, in constant time in the
// coefficients.
func (t *Trustee) eval(j int) *group.Scalar {
	x := group.ScalarFromUint64(uint64(j))
	s := group.NewScalar().Set(t.coeffs[len(t.coeffs)-1])
	for k := len(t.coeffs) - 2; k >= 0; k-- {
		s.Multiply(s, x)
		s.Add(s, t.coeffs[k])
	}
	return s
}

func (t *Trustee) checkContext(context []byte) error {
	if err := checkContext(context); err != nil {
		return err
	}
	if string(context) != string(t.context[:]) {
		return fmt.Errorf("ceremony: %v belongs to another election context", t)
	}
	return nil
}

// checkOwn checks that the trustee's own announcement is the one it made.
func (t *Trustee) checkOwn(anns map[int]*announced) error {
	a := anns[t.Index]
	if a.Name != t.Name || string(a.HPKEPublicKey) != string(t.hpkePublic) {
		return fmt.Errorf("ceremony: the announcement of trustee %d is not the one it made", t.Index)
	}
	for k, C := range a.Commitments {
		if !group.Equal(C, t.commitments[k]) {
			return fmt.Errorf("ceremony: the announcement of trustee %d is not the one it made", t.Index)
		}
	}
	return nil
}

// sign signs a message digest with a Schnorr signature under Cᵢ₀.
func (t *Trustee) sign(rand io.Reader, digest [32]byte) (*zkp.Schnorr, error) {
	sig, err := zkp.ProveSchnorr(rand, digest[:], t.coeffs[0], t.commitments[0])
	if err != nil {
		return nil, fmt.Errorf("ceremony: signing: %w", err)
	}
	return sig, nil
}

// Deal is round 2. It verifies all n announcements (including the trustee's
// own), seals sᵢⱼ = fᵢ(j) to every other trustee j with HPKE, info
// ShareInfo(context, i, j), records AnnouncementsHash(anns) and signs the
// dealing under Cᵢ₀ with a nonce from rand. crypto/hpke draws its
// encapsulation randomness from crypto/rand.
func (t *Trustee) Deal(rand io.Reader, context []byte, anns []Announcement) (*Dealing, error) {
	if err := t.checkContext(context); err != nil {
		return nil, err
	}
	if t.stage == stageFinished {
		return nil, errOver("Deal")
	}
	ver, err := verifyAnnouncements(context, t.params, anns)
	if err != nil {
		return nil, err
	}
	if err := t.checkOwn(ver); err != nil {
		return nil, err
	}
	d := &Dealing{From: t.Index, AnnouncementsHash: AnnouncementsHash(context, anns)}
	for j := 1; j <= t.params.N; j++ {
		if j == t.Index {
			continue
		}
		info := ShareInfo(context, t.Index, j)
		ct, err := hpke.Seal(ver[j].pk, hpkeKDF, hpkeAEAD, info[:], t.eval(j).Encode(nil))
		if err != nil {
			return nil, fmt.Errorf("ceremony: cannot encrypt the share for trustee %d: %w", j, err)
		}
		d.Shares = append(d.Shares, EncryptedShare{To: j, Ciphertext: ct})
	}
	if d.Signature, err = t.sign(rand, DealingDigest(context, d)); err != nil {
		return nil, err
	}
	return d, nil
}

// Receive is round 3. It verifies the announcements, then opens and checks
// the share each other dealer sent to this trustee. A missing dealing or
// share, a dealing made on other announcements or whose signature under Cᵢ₀
// does not verify, a ciphertext that does not open, a non-canonical scalar
// or a share that fails sᵢⱼ·G = Σₖ jᵏ·Cᵢₖ becomes a complaint. Receive
// remembers the shares that passed and returns the trustee's Verdict,
// carrying the hashes of the announcements and dealings it saw and signed
// under Cⱼ₀ with a nonce from crypto/rand.
func (t *Trustee) Receive(context []byte, anns []Announcement, dealings []Dealing) (*Verdict, error) {
	if err := t.checkContext(context); err != nil {
		return nil, err
	}
	if t.stage == stageFinished {
		return nil, errOver("Receive")
	}
	ver, err := verifyAnnouncements(context, t.params, anns)
	if err != nil {
		return nil, err
	}
	if err := t.checkOwn(ver); err != nil {
		return nil, err
	}
	byDealer := make(map[int][]*Dealing)
	for k := range dealings {
		d := &dealings[k]
		byDealer[d.From] = append(byDealer[d.From], d)
	}
	annHash := AnnouncementsHash(context, anns)
	received := map[int]*group.Scalar{t.Index: t.eval(t.Index)}
	v := &Verdict{From: t.Index, AnnouncementsHash: annHash, Complaints: []Complaint{}}
	digests := make(map[int][]byte)
	for i := 1; i <= t.params.N; i++ {
		if i == t.Index {
			continue
		}
		s, reason := t.open(context, i, ver[i], annHash, byDealer[i])
		if reason != "" {
			v.Complaints = append(v.Complaints, Complaint{Against: i, Reason: reason})
			continue
		}
		h := DealingDigest(context, byDealer[i][0])
		digests[i] = h[:]
		received[i] = s
	}
	v.DealingsHash = DealingsHash(context, t.params.N, t.Index, digests)
	if v.Signature, err = t.sign(crand.Reader, VerdictDigest(context, v)); err != nil {
		return nil, err
	}
	t.received = received
	t.stage = stageReceived
	return v, nil
}

// open returns the verified share from dealer i, or the reason it has none.
func (t *Trustee) open(context []byte, i int, a *announced, annHash [32]byte, ds []*Dealing) (*group.Scalar, string) {
	switch {
	case len(ds) == 0:
		return nil, "no dealing"
	case len(ds) > 1:
		return nil, "more than one dealing"
	}
	d := ds[0]
	if err := d.checkStructure(t.params.N); err != nil || len(d.Shares) != t.params.N-1 {
		return nil, "malformed dealing"
	}
	if d.AnnouncementsHash != annHash {
		return nil, "dealing made on other announcements"
	}
	if h := DealingDigest(context, d); d.Signature.Verify(h[:], a.Commitments[0]) != nil {
		return nil, "dealing signature does not verify"
	}
	var ct []byte
	for _, s := range d.Shares {
		if s.To == t.Index {
			ct = s.Ciphertext
		}
	}
	if ct == nil {
		return nil, "no share"
	}
	info := ShareInfo(context, i, t.Index)
	pt, err := hpke.Open(t.hpkeKey, hpkeKDF, hpkeAEAD, info[:], ct)
	if err != nil {
		return nil, "share does not decrypt"
	}
	s, err := group.DecodeScalar(pt)
	if err != nil {
		return nil, "share is not a canonical scalar"
	}
	if !group.Equal(group.BaseMul(s), expectedShare(a.Commitments, t.Index)) {
		return nil, "share does not match the commitments"
	}
	return s, ""
}

// Respond is round 4: it verifies the announcements and, for every
// complaint against this trustee in verdicts, reveals the share it owes the
// complainer, signed under Cᵢ₀ (nonce from crypto/rand) together with the
// verdict. It refuses a verdict given on other announcements or whose
// signature does not verify. If t or more trustees complain, it reveals
// nothing: the trustee is disqualified (SPEC.md §6.3) and t shares would
// publish its polynomial. The result may be empty.
func (t *Trustee) Respond(context []byte, anns []Announcement, verdicts []Verdict) ([]Response, error) {
	if err := t.checkContext(context); err != nil {
		return nil, err
	}
	if t.stage == stageFinished {
		return nil, errOver("Respond")
	}
	ver, err := verifyAnnouncements(context, t.params, anns)
	if err != nil {
		return nil, err
	}
	if err := t.checkOwn(ver); err != nil {
		return nil, err
	}
	annHash := AnnouncementsHash(context, anns)
	seen := make(map[int]bool)
	type complainer struct {
		from    int
		verdict [32]byte
	}
	var owed []complainer
	for k := range verdicts {
		v := &verdicts[k]
		if err := v.checkStructure(t.params.N); err != nil {
			return nil, fmt.Errorf("ceremony: verdict of trustee %d: %w", v.From, err)
		}
		if seen[v.From] {
			return nil, fmt.Errorf("ceremony: trustee %d published two verdicts", v.From)
		}
		seen[v.From] = true
		if v.AnnouncementsHash != annHash {
			return nil, fmt.Errorf("ceremony: verdict of trustee %d was given on other announcements", v.From)
		}
		vh := VerdictDigest(context, v)
		if err := v.Signature.Verify(vh[:], ver[v.From].Commitments[0]); err != nil {
			return nil, fmt.Errorf("ceremony: signature of the verdict of trustee %d: %w", v.From, err)
		}
		for _, c := range v.Complaints {
			if c.Against == t.Index {
				owed = append(owed, complainer{v.From, vh})
			}
		}
	}
	if len(owed) >= t.params.T {
		// GJKR: t answers would publish fᵢ; the dealer is disqualified
		// whatever it does (SPEC.md §6.3 step 5), so it reveals nothing.
		return nil, nil
	}
	var out []Response
	for _, c := range owed {
		r := Response{Dealer: t.Index, To: c.from, Share: t.eval(c.from)}
		if r.Signature, err = t.sign(crand.Reader, ResponseDigest(context, &r, c.verdict)); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Response) int { return a.To - b.To })
	return out, nil
}

// ComplaintsAgainst returns the trustees whose verdicts complain against
// trustee i, ascending. It checks nothing: Respond and Verify do.
func ComplaintsAgainst(i int, verdicts []Verdict) []int {
	var out []int
	for _, v := range verdicts {
		for _, c := range v.Complaints {
			if c.Against == i {
				out = append(out, v.From)
			}
		}
	}
	slices.Sort(out)
	return out
}

// errOver is the error of a round called after Finish, which has erased
// what the rounds need.
func errOver(round string) error {
	return fmt.Errorf("ceremony: %s called after Finish: the trustee keeps only its share", round)
}

// Finish verifies the transcript, computes the trustee's share
// xⱼ = Σ_{i∈QUAL} sᵢⱼ — taking a dealer's public response where the share
// it sent was bad — and checks xⱼ·G = Yⱼ. It then erases the coefficients,
// the HPKE private key and the received shares, keeping xⱼ. It returns
// ErrDisqualified if the trustee itself is not in QUAL. Called again on a
// finished trustee, it verifies the transcript and checks that the kept xⱼ
// matches Yⱼ: decryption calls it so on every transcript it is given.
func (t *Trustee) Finish(context []byte, tr *Transcript) (*Result, error) {
	if err := t.checkContext(context); err != nil {
		return nil, err
	}
	if t.stage < stageReceived {
		return nil, errors.New("ceremony: Finish called before Receive")
	}
	if tr.Params != t.params {
		return nil, fmt.Errorf("ceremony: transcript has n=%d t=%d, trustee has n=%d t=%d", tr.N, tr.T, t.params.N, t.params.T)
	}
	res, err := tr.Verify(context)
	if err != nil {
		return nil, err
	}
	anns := make(map[int]*announced)
	for k := range tr.Announcements {
		anns[tr.Announcements[k].Index] = &announced{Announcement: &tr.Announcements[k]}
	}
	if err := t.checkOwn(anns); err != nil {
		return nil, err
	}
	if !slices.Contains(res.Qual, t.Index) {
		return nil, fmt.Errorf("%w: trustee %d", ErrDisqualified, t.Index)
	}
	if t.stage == stageFinished {
		if !group.Equal(group.BaseMul(t.share), res.VerificationKeys[t.Index]) {
			return nil, fmt.Errorf("ceremony: trustee %d's share does not match its verification key in this transcript", t.Index)
		}
		return res, nil
	}
	revealed := make(map[int]*group.Scalar)
	for _, r := range tr.Responses {
		if r.To == t.Index {
			revealed[r.Dealer] = r.Share
		}
	}
	x := group.NewScalar()
	for _, i := range res.Qual {
		s := t.received[i]
		if r := revealed[i]; r != nil {
			s = r // checked against the commitments by Verify, since i ∈ QUAL
		}
		if s == nil {
			return nil, fmt.Errorf("ceremony: trustee %d has no valid share from dealer %d and the transcript reveals none", t.Index, i)
		}
		if !group.Equal(group.BaseMul(s), expectedShare(anns[i].Commitments, t.Index)) {
			return nil, fmt.Errorf("ceremony: the share trustee %d holds from dealer %d does not match the transcript's commitments", t.Index, i)
		}
		x.Add(x, s)
	}
	if !group.Equal(group.BaseMul(x), res.VerificationKeys[t.Index]) {
		return nil, fmt.Errorf("ceremony: trustee %d's share does not match its verification key", t.Index)
	}
	t.share = x
	t.stage = stageFinished
	t.erase()
	return res, nil
}

// erase overwrites and drops what only the rounds needed. (Go may have
// copied the values elsewhere in memory; the key file is what L2 is about.)
func (t *Trustee) erase() {
	for _, a := range t.coeffs {
		a.Set(group.NewScalar())
	}
	for _, s := range t.received {
		s.Set(group.NewScalar())
	}
	clear(t.hpkeSeed)
	t.coeffs, t.hpkeSeed, t.hpkeKey, t.received = nil, nil, nil, nil
}

// Finished reports whether Finish has run, so that the trustee holds only
// its share (SPEC.md §6.5).
func (t *Trustee) Finished() bool { return t.stage == stageFinished }

// Share returns a copy of the trustee's share xⱼ of the election secret, or
// nil before Finish.
func (t *Trustee) Share() *group.Scalar {
	if t.share == nil {
		return nil
	}
	return group.NewScalar().Set(t.share)
}

// --- Serialization ---

type receivedJSON struct {
	From  int    `json:"from"`
	Share string `json:"share"`
}

// trusteeJSON is the union of the two forms; the pointer fields are
// present in exactly one of them.
type trusteeJSON struct {
	N       int    `json:"n"`
	T       int    `json:"t"`
	Context string `json:"context"`
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Stage   string `json:"stage"`
	// Stages announced and received.
	HPKESeed     *string         `json:"hpkeSeed,omitempty"`
	Coefficients *[]string       `json:"coefficients,omitempty"`
	Received     *[]receivedJSON `json:"received,omitempty"`
	// Stage finished.
	Commitments   *[]string `json:"commitments,omitempty"`
	HPKEPublicKey *string   `json:"hpkePublicKey,omitempty"`
	Share         *string   `json:"share,omitempty"`
}

// MarshalBinary encodes the trustee's secret state as JSON (SPEC.md §6.5).
// Before Finish:
//
//	{"n":n,"t":t,"context":hex,"index":j,"name":…,"stage":"announced"|"received",
//	 "hpkeSeed":hex,"coefficients":[hex…],"received":[{"from":i,"share":hex}…]}
//
// After Finish, only the share and public values:
//
//	{"n":n,"t":t,"context":hex,"index":j,"name":…,"stage":"finished",
//	 "commitments":[hex…],"hpkePublicKey":hex,"share":hex}
//
// The output is secret: seal it with keystore.Seal(…, SecretKind, …).
func (t *Trustee) MarshalBinary() ([]byte, error) {
	w := trusteeJSON{
		N: t.params.N, T: t.params.T, Context: hex.EncodeToString(t.context[:]),
		Index: t.Index, Name: t.Name, Stage: stageNames[t.stage],
	}
	if t.stage == stageFinished {
		cs := make([]string, len(t.commitments))
		for k, C := range t.commitments {
			cs[k] = hex.EncodeToString(C.Bytes())
		}
		pk, share := hex.EncodeToString(t.hpkePublic), hexScalar(t.share)
		w.Commitments, w.HPKEPublicKey, w.Share = &cs, &pk, &share
		return json.Marshal(w)
	}
	seed := hex.EncodeToString(t.hpkeSeed)
	coeffs := make([]string, len(t.coeffs))
	for k, a := range t.coeffs {
		coeffs[k] = hexScalar(a)
	}
	received := []receivedJSON{}
	for i := 1; i <= t.params.N; i++ {
		if s := t.received[i]; s != nil {
			received = append(received, receivedJSON{From: i, Share: hexScalar(s)})
		}
	}
	w.HPKESeed, w.Coefficients, w.Received = &seed, &coeffs, &received
	return json.Marshal(w)
}

// UnmarshalBinary decodes the output of MarshalBinary strictly and
// recomputes the public values (commitments, HPKE public key) of a trustee
// that has not finished.
func (t *Trustee) UnmarshalBinary(data []byte) error {
	var w trusteeJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: trustee secret: %w", err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("ceremony: trustee secret: "+format, args...)
	}
	tmp := &Trustee{Index: w.Index, Name: w.Name, params: Params{N: w.N, T: w.T}}
	if err := tmp.params.Check(); err != nil {
		return err
	}
	if err := checkIndex("index", w.Index, w.N); err != nil {
		return fail("%v", err)
	}
	if err := checkText("name", w.Name, MaxNameLength); err != nil {
		return fail("%v", err)
	}
	ctx, err := decodeHex("context", w.Context, ContextSize)
	if err != nil {
		return fail("%v", err)
	}
	copy(tmp.context[:], ctx)
	for s, name := range stageNames {
		if name == w.Stage {
			tmp.stage = s
		}
	}
	if tmp.stage == 0 {
		return fail("unknown stage %q", w.Stage)
	}
	if tmp.stage == stageFinished {
		if err := tmp.decodeFinished(&w); err != nil {
			return fail("%v", err)
		}
		*t = *tmp
		return nil
	}
	switch {
	case w.Commitments != nil || w.HPKEPublicKey != nil:
		return fail("public values stored before the ceremony finished")
	case w.Share != nil:
		return fail("share present before the ceremony finished")
	case w.HPKESeed == nil || w.Coefficients == nil || w.Received == nil:
		return fail("hpkeSeed, coefficients and received are required at stage %q", w.Stage)
	}
	seed, err := decodeHex("hpkeSeed", *w.HPKESeed, 32)
	if err != nil {
		return fail("%v", err)
	}
	if tmp.hpkeKey, err = hpkeKEM.NewPrivateKey(seed); err != nil {
		return fail("HPKE key: %v", err)
	}
	tmp.hpkeSeed = seed
	tmp.hpkePublic = tmp.hpkeKey.PublicKey().Bytes()
	if len(*w.Coefficients) != w.T {
		return fail("%d coefficients, want t = %d", len(*w.Coefficients), w.T)
	}
	for k, s := range *w.Coefficients {
		a, err := decodeHexScalar(fmt.Sprintf("coefficient %d", k), s)
		if err != nil {
			return fail("%v", err)
		}
		tmp.coeffs = append(tmp.coeffs, a)
		tmp.commitments = append(tmp.commitments, group.BaseMul(a))
	}
	if tmp.stage == stageAnnounced && len(*w.Received) != 0 {
		return fail("received shares before round 3")
	}
	if tmp.stage >= stageReceived {
		tmp.received = make(map[int]*group.Scalar)
		for _, r := range *w.Received {
			if err := checkIndex("received from", r.From, w.N); err != nil {
				return fail("%v", err)
			}
			if tmp.received[r.From] != nil {
				return fail("two shares from dealer %d", r.From)
			}
			if tmp.received[r.From], err = decodeHexScalar(fmt.Sprintf("share from %d", r.From), r.Share); err != nil {
				return fail("%v", err)
			}
		}
	}
	*t = *tmp
	return nil
}

// decodeFinished decodes the finished form: commitments, HPKE public key
// and share, and nothing secret besides the share.
func (t *Trustee) decodeFinished(w *trusteeJSON) error {
	switch {
	case w.HPKESeed != nil || w.Coefficients != nil || w.Received != nil:
		return errors.New("a finished trustee keeps no HPKE seed, coefficient or received share")
	case w.Commitments == nil || w.HPKEPublicKey == nil || w.Share == nil:
		return errors.New("commitments, hpkePublicKey and share are required at stage \"finished\"")
	case len(*w.Commitments) != w.T:
		return fmt.Errorf("%d commitments, want t = %d", len(*w.Commitments), w.T)
	}
	for k, c := range *w.Commitments {
		b, err := decodeHex(fmt.Sprintf("commitment %d", k), c, group.ElementSize)
		if err != nil {
			return err
		}
		C, err := group.DecodePublicKey(b)
		if err != nil {
			return fmt.Errorf("commitment %d: %v", k, err)
		}
		t.commitments = append(t.commitments, C)
	}
	pk, err := decodeHex("hpkePublicKey", *w.HPKEPublicKey, HPKEPublicKeySize)
	if err != nil {
		return err
	}
	if k, err := hpkeKEM.NewPublicKey(pk); err != nil || !bytes.Equal(k.Bytes(), pk) {
		return errors.New("hpkePublicKey is not a valid HPKE public key")
	}
	t.hpkePublic = pk
	if t.share, err = decodeHexScalar("share", *w.Share); err != nil {
		return err
	}
	return nil
}
