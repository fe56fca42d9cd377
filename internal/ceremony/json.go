package ceremony

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/koe-vote/koe/internal/strictjson"

	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/zkp"
)

// JSON encoding (SPEC.md §6.4). Field names are lowerCamel; group elements,
// scalars, proofs and byte strings are lowercase hex. Decoders are strict:
// they reject unknown, duplicate or differently-cased fields, trailing data,
// non-canonical hex (uppercase, wrong length) and non-canonical group
// encodings, and decode into temporaries.

// MaxTranscriptSize bounds the JSON input of DecodeTranscript.
const MaxTranscriptSize = 32 << 20

func decodeHex(field, s string, size int) ([]byte, error) {
	if len(s) != 2*size {
		return nil, fmt.Errorf("%s: %d hex digits, want %d", field, len(s), 2*size)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, fmt.Errorf("%s: not lowercase hex", field)
		}
	}
	return hex.DecodeString(s)
}

func decodeHash(field, s string) ([32]byte, error) {
	var h [32]byte
	b, err := decodeHex(field, s, 32)
	if err != nil {
		return h, err
	}
	copy(h[:], b)
	return h, nil
}

func hexSignature(p *zkp.Schnorr) string {
	if p == nil || p.R == nil || p.S == nil {
		return ""
	}
	return hex.EncodeToString(p.Bytes())
}

func decodeSignature(s string) (*zkp.Schnorr, error) {
	b, err := decodeHex("signature", s, zkp.SchnorrSize)
	if err != nil {
		return nil, err
	}
	p, err := zkp.DecodeSchnorr(b)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return p, nil
}

func hexElement(e *group.Element) string { return hex.EncodeToString(e.Encode(nil)) }
func hexScalar(s *group.Scalar) string   { return hex.EncodeToString(s.Encode(nil)) }

func decodeHexElement(field, s string, allowIdentity bool) (*group.Element, error) {
	b, err := decodeHex(field, s, group.ElementSize)
	if err != nil {
		return nil, err
	}
	var e *group.Element
	if allowIdentity {
		e, err = group.DecodeElement(b)
	} else {
		e, err = group.DecodePublicKey(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return e, nil
}

func decodeHexScalar(field, s string) (*group.Scalar, error) {
	b, err := decodeHex(field, s, group.ScalarSize)
	if err != nil {
		return nil, err
	}
	x, err := group.DecodeScalar(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return x, nil
}

// --- Announcement ---

type announcementJSON struct {
	Index         int      `json:"index"`
	Name          string   `json:"name"`
	HPKEPublicKey string   `json:"hpkePublicKey"`
	Commitments   []string `json:"commitments"`
	Proofs        []string `json:"proofs"`
}

// MarshalJSON encodes a as
// {"index":i,"name":…,"hpkePublicKey":hex,"commitments":[hex…],"proofs":[hex…]}.
// Each proof is R ‖ s (64 bytes).
func (a Announcement) MarshalJSON() ([]byte, error) {
	w := announcementJSON{
		Index: a.Index, Name: a.Name, HPKEPublicKey: hex.EncodeToString(a.HPKEPublicKey),
		Commitments: make([]string, len(a.Commitments)), Proofs: make([]string, len(a.Proofs)),
	}
	for k, C := range a.Commitments {
		w.Commitments[k] = hexElement(C)
	}
	for k, p := range a.Proofs {
		w.Proofs[k] = hex.EncodeToString(p.Bytes())
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes strictly, checking everything that does not need the
// ceremony parameters (indices are checked against MaxTrustees only).
func (a *Announcement) UnmarshalJSON(data []byte) error {
	var w announcementJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: announcement: %w", err)
	}
	tmp := Announcement{Index: w.Index, Name: w.Name}
	if len(w.Commitments) > MaxTrustees || len(w.Proofs) > MaxTrustees {
		return fmt.Errorf("ceremony: announcement: too many commitments")
	}
	var err error
	if tmp.HPKEPublicKey, err = decodeHex("hpkePublicKey", w.HPKEPublicKey, HPKEPublicKeySize); err != nil {
		return fmt.Errorf("ceremony: announcement of trustee %d: %w", w.Index, err)
	}
	for k, s := range w.Commitments {
		C, err := decodeHexElement(fmt.Sprintf("commitment %d", k), s, false)
		if err != nil {
			return fmt.Errorf("ceremony: announcement of trustee %d: %w", w.Index, err)
		}
		tmp.Commitments = append(tmp.Commitments, C)
	}
	for k, s := range w.Proofs {
		b, err := decodeHex(fmt.Sprintf("proof %d", k), s, zkp.SchnorrSize)
		if err != nil {
			return fmt.Errorf("ceremony: announcement of trustee %d: %w", w.Index, err)
		}
		p, err := zkp.DecodeSchnorr(b)
		if err != nil {
			return fmt.Errorf("ceremony: announcement of trustee %d: proof %d: %w", w.Index, k, err)
		}
		tmp.Proofs = append(tmp.Proofs, p)
	}
	if err := tmp.checkStructure(MaxTrustees, 0); err != nil {
		return fmt.Errorf("ceremony: announcement of trustee %d: %w", w.Index, err)
	}
	*a = tmp
	return nil
}

// DecodeAnnouncement decodes an announcement strictly and checks it against
// p (index in 1..n, exactly t commitments). It does not verify the proofs.
func DecodeAnnouncement(p Params, data []byte) (*Announcement, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var a Announcement
	if err := a.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := a.checkStructure(p.N, p.T); err != nil {
		return nil, fmt.Errorf("ceremony: announcement of trustee %d: %w", a.Index, err)
	}
	return &a, nil
}

// --- Dealing ---

type shareJSON struct {
	To         int    `json:"to"`
	Ciphertext string `json:"ciphertext"`
}

type dealingJSON struct {
	From              int          `json:"from"`
	AnnouncementsHash string       `json:"announcementsHash"`
	Shares            *[]shareJSON `json:"shares"`
	Signature         string       `json:"signature"`
}

// MarshalJSON encodes d as {"from":i,"announcementsHash":hex,
// "shares":[{"to":j,"ciphertext":hex}…],"signature":hex}. The signature is
// R ‖ s (64 bytes).
func (d Dealing) MarshalJSON() ([]byte, error) {
	shares := make([]shareJSON, len(d.Shares))
	for k, s := range d.Shares {
		shares[k] = shareJSON{To: s.To, Ciphertext: hex.EncodeToString(s.Ciphertext)}
	}
	return json.Marshal(dealingJSON{From: d.From, AnnouncementsHash: hex.EncodeToString(d.AnnouncementsHash[:]),
		Shares: &shares, Signature: hexSignature(d.Signature)})
}

// UnmarshalJSON decodes strictly (indices are checked against MaxTrustees only).
func (d *Dealing) UnmarshalJSON(data []byte) error {
	var w dealingJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: dealing: %w", err)
	}
	if w.Shares == nil {
		return fmt.Errorf("ceremony: dealing of trustee %d: shares missing", w.From)
	}
	if len(*w.Shares) >= MaxTrustees {
		return fmt.Errorf("ceremony: dealing of trustee %d: too many shares", w.From)
	}
	tmp := Dealing{From: w.From, Shares: make([]EncryptedShare, 0, len(*w.Shares))}
	var err error
	if tmp.AnnouncementsHash, err = decodeHash("announcementsHash", w.AnnouncementsHash); err != nil {
		return fmt.Errorf("ceremony: dealing of trustee %d: %w", w.From, err)
	}
	if tmp.Signature, err = decodeSignature(w.Signature); err != nil {
		return fmt.Errorf("ceremony: dealing of trustee %d: %w", w.From, err)
	}
	for _, s := range *w.Shares {
		ct, err := decodeHex(fmt.Sprintf("ciphertext for trustee %d", s.To), s.Ciphertext, ShareCiphertextSize)
		if err != nil {
			return fmt.Errorf("ceremony: dealing of trustee %d: %w", w.From, err)
		}
		tmp.Shares = append(tmp.Shares, EncryptedShare{To: s.To, Ciphertext: ct})
	}
	if err := tmp.checkStructure(MaxTrustees); err != nil {
		return fmt.Errorf("ceremony: dealing of trustee %d: %w", w.From, err)
	}
	*d = tmp
	return nil
}

// DecodeDealing decodes a dealing strictly and checks it against p: the
// dealer in 1..n and exactly one share for every other trustee.
func DecodeDealing(p Params, data []byte) (*Dealing, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var d Dealing
	if err := d.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := d.checkStructure(p.N); err != nil {
		return nil, fmt.Errorf("ceremony: dealing of trustee %d: %w", d.From, err)
	}
	if len(d.Shares) != p.N-1 {
		return nil, fmt.Errorf("ceremony: dealing of trustee %d: %d shares, want %d", d.From, len(d.Shares), p.N-1)
	}
	return &d, nil
}

// --- Verdict ---

type complaintJSON struct {
	Against int    `json:"against"`
	Reason  string `json:"reason"`
}

type verdictJSON struct {
	From              int              `json:"from"`
	AnnouncementsHash string           `json:"announcementsHash"`
	DealingsHash      string           `json:"dealingsHash"`
	Complaints        *[]complaintJSON `json:"complaints"`
	Signature         string           `json:"signature"`
}

// MarshalJSON encodes v as {"from":j,"announcementsHash":hex,"dealingsHash":hex,
// "complaints":[{"against":i,"reason":…}…],"signature":hex}.
func (v Verdict) MarshalJSON() ([]byte, error) {
	cs := make([]complaintJSON, len(v.Complaints))
	for k, c := range v.Complaints {
		cs[k] = complaintJSON(c)
	}
	return json.Marshal(verdictJSON{From: v.From, AnnouncementsHash: hex.EncodeToString(v.AnnouncementsHash[:]),
		DealingsHash: hex.EncodeToString(v.DealingsHash[:]), Complaints: &cs, Signature: hexSignature(v.Signature)})
}

// UnmarshalJSON decodes strictly (indices are checked against MaxTrustees only).
func (v *Verdict) UnmarshalJSON(data []byte) error {
	var w verdictJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: verdict: %w", err)
	}
	if w.Complaints == nil {
		return fmt.Errorf("ceremony: verdict of trustee %d: complaints missing", w.From)
	}
	tmp := Verdict{From: w.From, Complaints: make([]Complaint, 0, len(*w.Complaints))}
	var err error
	if tmp.AnnouncementsHash, err = decodeHash("announcementsHash", w.AnnouncementsHash); err != nil {
		return fmt.Errorf("ceremony: verdict of trustee %d: %w", w.From, err)
	}
	if tmp.DealingsHash, err = decodeHash("dealingsHash", w.DealingsHash); err != nil {
		return fmt.Errorf("ceremony: verdict of trustee %d: %w", w.From, err)
	}
	if tmp.Signature, err = decodeSignature(w.Signature); err != nil {
		return fmt.Errorf("ceremony: verdict of trustee %d: %w", w.From, err)
	}
	for _, c := range *w.Complaints {
		tmp.Complaints = append(tmp.Complaints, Complaint(c))
	}
	if err := tmp.checkStructure(MaxTrustees); err != nil {
		return fmt.Errorf("ceremony: verdict of trustee %d: %w", w.From, err)
	}
	*v = tmp
	return nil
}

// DecodeVerdict decodes a verdict strictly and checks its indices against p.
func DecodeVerdict(p Params, data []byte) (*Verdict, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var v Verdict
	if err := v.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := v.checkStructure(p.N); err != nil {
		return nil, fmt.Errorf("ceremony: verdict of trustee %d: %w", v.From, err)
	}
	return &v, nil
}

// --- Response ---

type responseJSON struct {
	Dealer    int    `json:"dealer"`
	To        int    `json:"to"`
	Share     string `json:"share"`
	Signature string `json:"signature"`
}

// MarshalJSON encodes r as {"dealer":i,"to":j,"share":hex,"signature":hex}.
func (r Response) MarshalJSON() ([]byte, error) {
	if r.Share == nil {
		return nil, fmt.Errorf("ceremony: response without a share")
	}
	return json.Marshal(responseJSON{Dealer: r.Dealer, To: r.To, Share: hexScalar(r.Share), Signature: hexSignature(r.Signature)})
}

// UnmarshalJSON decodes strictly (indices are checked against MaxTrustees only).
func (r *Response) UnmarshalJSON(data []byte) error {
	var w responseJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: response: %w", err)
	}
	s, err := decodeHexScalar("share", w.Share)
	if err != nil {
		return fmt.Errorf("ceremony: response of trustee %d: %w", w.Dealer, err)
	}
	sig, err := decodeSignature(w.Signature)
	if err != nil {
		return fmt.Errorf("ceremony: response of trustee %d: %w", w.Dealer, err)
	}
	tmp := Response{Dealer: w.Dealer, To: w.To, Share: s, Signature: sig}
	if err := tmp.checkStructure(MaxTrustees); err != nil {
		return fmt.Errorf("ceremony: response of trustee %d: %w", w.Dealer, err)
	}
	*r = tmp
	return nil
}

// DecodeResponse decodes a response strictly and checks its indices against p.
func DecodeResponse(p Params, data []byte) (*Response, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var r Response
	if err := r.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := r.checkStructure(p.N); err != nil {
		return nil, fmt.Errorf("ceremony: response of trustee %d: %w", r.Dealer, err)
	}
	return &r, nil
}

// --- Transcript ---

type paramsJSON struct {
	N int `json:"n"`
	T int `json:"t"`
}

type transcriptJSON struct {
	Params        *paramsJSON     `json:"params"`
	Announcements *[]Announcement `json:"announcements"`
	Dealings      *[]Dealing      `json:"dealings"`
	Verdicts      *[]Verdict      `json:"verdicts"`
	Responses     *[]Response     `json:"responses"`
}

// MarshalJSON encodes tr as {"params":{"n":n,"t":t},"announcements":[…],
// "dealings":[…],"verdicts":[…],"responses":[…]}.
func (tr Transcript) MarshalJSON() ([]byte, error) {
	w := transcriptJSON{
		Params:        &paramsJSON{N: tr.N, T: tr.T},
		Announcements: &tr.Announcements,
		Dealings:      &tr.Dealings,
		Verdicts:      &tr.Verdicts,
		Responses:     &tr.Responses,
	}
	// Encode absent lists as [] rather than null.
	if tr.Announcements == nil {
		w.Announcements = &[]Announcement{}
	}
	if tr.Dealings == nil {
		w.Dealings = &[]Dealing{}
	}
	if tr.Verdicts == nil {
		w.Verdicts = &[]Verdict{}
	}
	if tr.Responses == nil {
		w.Responses = &[]Response{}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes strictly and checks the transcript's structure
// (see DecodeTranscript).
func (tr *Transcript) UnmarshalJSON(data []byte) error {
	if len(data) > MaxTranscriptSize {
		return fmt.Errorf("ceremony: transcript of %d bytes exceeds %d", len(data), MaxTranscriptSize)
	}
	var w transcriptJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: transcript: %w", err)
	}
	switch {
	case w.Params == nil:
		return fmt.Errorf("ceremony: transcript: params missing")
	case w.Announcements == nil:
		return fmt.Errorf("ceremony: transcript: announcements missing")
	case w.Dealings == nil:
		return fmt.Errorf("ceremony: transcript: dealings missing")
	case w.Verdicts == nil:
		return fmt.Errorf("ceremony: transcript: verdicts missing")
	case w.Responses == nil:
		return fmt.Errorf("ceremony: transcript: responses missing")
	}
	tmp := Transcript{
		Params:        Params{N: w.Params.N, T: w.Params.T},
		Announcements: *w.Announcements,
		Dealings:      *w.Dealings,
		Verdicts:      *w.Verdicts,
		Responses:     *w.Responses,
	}
	if err := tmp.checkStructure(); err != nil {
		return err
	}
	*tr = tmp
	return nil
}

// DecodeTranscript decodes a transcript strictly and checks its structure:
// valid params, exactly one announcement (with t commitments), dealing (with
// a share for every other trustee) and verdict per trustee, and only
// responses that answer a complaint. It does not check proofs or responses:
// call Verify for that.
func DecodeTranscript(data []byte) (*Transcript, error) {
	var tr Transcript
	if err := tr.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &tr, nil
}

// --- Result ---

type verificationKeyJSON struct {
	Index int    `json:"index"`
	Key   string `json:"key"`
}

type disqualificationJSON struct {
	Trustee int    `json:"trustee"`
	Reason  string `json:"reason"`
}

type resultJSON struct {
	Qual             *[]int                  `json:"qual"`
	JointKey         string                  `json:"jointKey"`
	VerificationKeys *[]verificationKeyJSON  `json:"verificationKeys"`
	Disqualified     *[]disqualificationJSON `json:"disqualified"`
}

// MarshalJSON encodes r as {"qual":[i…],"jointKey":hex,
// "verificationKeys":[{"index":j,"key":hex}…],"disqualified":[{"trustee":i,"reason":…}…]},
// with verification keys in the order of qual.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.JointKey == nil {
		return nil, fmt.Errorf("ceremony: result without a joint key")
	}
	qual := append([]int{}, r.Qual...)
	vks := make([]verificationKeyJSON, 0, len(r.Qual))
	for _, j := range r.Qual {
		Y := r.VerificationKeys[j]
		if Y == nil {
			return nil, fmt.Errorf("ceremony: result has no verification key for trustee %d", j)
		}
		vks = append(vks, verificationKeyJSON{Index: j, Key: hexElement(Y)})
	}
	ds := make([]disqualificationJSON, len(r.Disqualified))
	for k, d := range r.Disqualified {
		ds[k] = disqualificationJSON(d)
	}
	return json.Marshal(resultJSON{Qual: &qual, JointKey: hexElement(r.JointKey), VerificationKeys: &vks, Disqualified: &ds})
}

// UnmarshalJSON decodes strictly: qual ascending in 1..MaxTrustees, one
// verification key per member in the same order, disqualified trustees
// ascending and disjoint from qual.
func (r *Result) UnmarshalJSON(data []byte) error {
	var w resultJSON
	if err := strictjson.Decode(data, &w); err != nil {
		return fmt.Errorf("ceremony: result: %w", err)
	}
	if w.Qual == nil || w.VerificationKeys == nil || w.Disqualified == nil {
		return fmt.Errorf("ceremony: result: field missing")
	}
	qual, vks, ds := *w.Qual, *w.VerificationKeys, *w.Disqualified
	if len(qual) == 0 || len(qual) > MaxTrustees || len(qual) != len(vks) || len(qual)+len(ds) > MaxTrustees {
		return fmt.Errorf("ceremony: result: %d qualified trustees, %d verification keys, %d disqualified", len(qual), len(vks), len(ds))
	}
	K, err := decodeHexElement("jointKey", w.JointKey, false)
	if err != nil {
		return fmt.Errorf("ceremony: result: %w", err)
	}
	tmp := Result{Qual: qual, JointKey: K, VerificationKeys: make(map[int]*group.Element, len(qual))}
	inQual := make(map[int]bool)
	for k, j := range qual {
		if err := checkIndex("qualified trustee", j, MaxTrustees); err != nil {
			return fmt.Errorf("ceremony: result: %w", err)
		}
		if k > 0 && j <= qual[k-1] {
			return fmt.Errorf("ceremony: result: qual is not strictly ascending")
		}
		inQual[j] = true
		if vks[k].Index != j {
			return fmt.Errorf("ceremony: result: verification key %d is for trustee %d, want %d", k, vks[k].Index, j)
		}
		Y, err := decodeHexElement(fmt.Sprintf("verification key of trustee %d", j), vks[k].Key, true)
		if err != nil {
			return fmt.Errorf("ceremony: result: %w", err)
		}
		tmp.VerificationKeys[j] = Y
	}
	for k, d := range ds {
		if err := checkIndex("disqualified trustee", d.Trustee, MaxTrustees); err != nil {
			return fmt.Errorf("ceremony: result: %w", err)
		}
		if (k > 0 && d.Trustee <= ds[k-1].Trustee) || inQual[d.Trustee] {
			return fmt.Errorf("ceremony: result: disqualified trustees not ascending or in qual")
		}
		if err := checkText("disqualification reason", d.Reason, MaxReasonLength); err != nil {
			return fmt.Errorf("ceremony: result: %w", err)
		}
		tmp.Disqualified = append(tmp.Disqualified, Disqualification(d))
	}
	*r = tmp
	return nil
}

// DecodeResult decodes a result strictly.
func DecodeResult(data []byte) (*Result, error) {
	var r Result
	if err := r.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &r, nil
}
