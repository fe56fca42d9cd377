package vectors

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/elgamal"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/verify"
	"github.com/koe-vote/koe/internal/zkp"
)

// dir is where the vectors live, relative to this package.
const dir = "../../testdata/vectors"

// shake is the deterministic randomness of every vector (README.md): the
// SHAKE256 output stream of the UTF-8 bytes of seed, read in order.
func shake(seed string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte(seed))
	return h
}

// scalarsFrom reads n scalars from shake(seed) as group.RandomScalar does:
// 64 bytes each, read little-endian and reduced modulo ℓ.
func scalarsFrom(seed string, n int) []string {
	r := shake(seed)
	out := make([]string, n)
	for i := range out {
		s, err := group.RandomScalar(r)
		if err != nil {
			panic(err)
		}
		out[i] = hex.EncodeToString(s.Bytes())
	}
	return out
}

// --- File formats (documented in testdata/vectors/README.md) ---

type transcriptFile struct {
	Comment      string               `json:"comment"`
	Transcripts  []transcriptVector   `json:"transcripts"`
	HashToScalar []hashToScalarVector `json:"hash_to_scalar"`
}

type write struct {
	Label string `json:"label"`
	Type  string `json:"type"`  // bytes, string, uint64, element or scalar
	Value string `json:"value"` // hex of the value bytes
}

type transcriptVector struct {
	Name      string  `json:"name"`
	Domain    string  `json:"domain"`
	Writes    []write `json:"writes"`
	Input     string  `json:"input"`     // hex of the framed hash input
	SHA512    string  `json:"sha512"`    // SHA-512(input)
	Challenge string  `json:"challenge"` // enc(LE(SHA-512(input)) mod ℓ)
	Digest    string  `json:"digest"`    // SHA-256(input)
}

type hashToScalarVector struct {
	Input  string `json:"input"`  // 64 bytes
	Scalar string `json:"scalar"` // enc(LE(input) mod ℓ)
}

type proofFile[V any] struct {
	Comment string `json:"comment"`
	Vectors []V    `json:"vectors"`
}

type schnorrVector struct {
	Name       string   `json:"name"`
	Seed       string   `json:"seed,omitempty"`
	Randomness []string `json:"randomness,omitempty"` // k
	Secret     string   `json:"x,omitempty"`
	Context    string   `json:"context"`
	X          string   `json:"X"`
	Proof      string   `json:"proof"`
	Valid      bool     `json:"valid"`
	Reason     string   `json:"reason,omitempty"`
}

type dleqVector struct {
	Name       string   `json:"name"`
	Seed       string   `json:"seed,omitempty"`
	Randomness []string `json:"randomness,omitempty"` // w
	Secret     string   `json:"x,omitempty"`
	Context    string   `json:"context"`
	Y          string   `json:"Y"`
	A          string   `json:"A"`
	D          string   `json:"D"`
	Proof      string   `json:"proof"`
	Valid      bool     `json:"valid"`
	Reason     string   `json:"reason,omitempty"`
}

type rangeVector struct {
	Name       string   `json:"name"`
	Seed       string   `json:"seed,omitempty"`
	Randomness []string `json:"randomness,omitempty"` // per branch: w, or c then s
	M          *uint64  `json:"m,omitempty"`
	R          string   `json:"r,omitempty"`
	Context    string   `json:"context"`
	K          string   `json:"K"`
	Ciphertext string   `json:"ciphertext"` // enc(A) ‖ enc(B)
	Lo         uint64   `json:"lo"`
	Hi         uint64   `json:"hi"`
	Proof      string   `json:"proof"`
	Valid      bool     `json:"valid"`
	Reason     string   `json:"reason,omitempty"`
}

type elgamalFile struct {
	Comment    string             `json:"comment"`
	Encryption []encryptionVector `json:"encryption"`
	Decoding   []decodingVector   `json:"decoding"`
}

type encryptionVector struct {
	Name       string `json:"name"`
	Secret     string `json:"x"`
	K          string `json:"K"`
	M          uint64 `json:"m"`
	R          string `json:"r"`
	Ciphertext string `json:"ciphertext"`
}

type decodingVector struct {
	Name       string `json:"name"`
	Ciphertext string `json:"ciphertext"`
	Valid      bool   `json:"valid"`
	Reason     string `json:"reason,omitempty"`
}

type ballotFile struct {
	Comment string         `json:"comment"`
	Vectors []ballotVector `json:"vectors"`
}

type ballotVector struct {
	Name         string          `json:"name"`
	Manifest     string          `json:"manifest"` // path from the repository root
	ManifestHash string          `json:"manifest_hash"`
	Secret       string          `json:"x,omitempty"`
	Key          string          `json:"K"`
	Registrar    string          `json:"registrar"` // hex of the registrar key id (§14.1)
	Context      string          `json:"context"`
	Binding      string          `json:"binding"`
	Answers      json.RawMessage `json:"answers,omitempty"`
	Plaintext    [][]uint64      `json:"plaintext,omitempty"`
	Seed         string          `json:"seed,omitempty"`
	Ballot       string          `json:"ballot"`
	Tracking     string          `json:"tracking_code"`
	TrackingText string          `json:"tracking_code_text"`
	Valid        bool            `json:"valid"`
	Reason       string          `json:"reason,omitempty"`
}

// --- Helpers ---

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./internal/vectors -run TestGenerate -args -update)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func element(t *testing.T, s string) *group.Element {
	t.Helper()
	e, err := group.DecodeElement(unhex(t, s))
	if err != nil {
		t.Fatalf("element %s: %v", s, err)
	}
	return e
}

func scalar(t *testing.T, s string) *group.Scalar {
	t.Helper()
	x, err := group.DecodeScalar(unhex(t, s))
	if err != nil {
		t.Fatalf("scalar %s: %v", s, err)
	}
	return x
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// agree fails the test unless a single verification and a batch of one
// agree, and returns whether they accept.
func agree(t *testing.T, single error, addErr error, b *group.Batch) bool {
	t.Helper()
	batchOK := addErr == nil && b.Verify()
	if (single == nil) != batchOK {
		t.Fatalf("Verify says %v, the batch says ok=%v (AddTo: %v)", single, batchOK, addErr)
	}
	return batchOK
}

// --- Checks ---

func TestTranscripts(t *testing.T) {
	var f transcriptFile
	readJSON(t, "transcript.json", &f)
	if len(f.Transcripts) == 0 || len(f.HashToScalar) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Transcripts {
		t.Run(v.Name, func(t *testing.T) {
			input := framed(v.Domain, nil)
			long, short := group.NewTranscript(v.Domain), group.NewDigest(v.Domain)
			for _, w := range v.Writes {
				val := unhex(t, w.Value)
				input = framed(w.Label, input)
				input = framed(string(val), input)
				// Write through the typed method the vector names, which
				// must give the same bytes as Bytes.
				for _, tr := range []*group.Transcript{long, short} {
					switch w.Type {
					case "bytes":
						tr.Bytes(w.Label, val)
					case "string":
						tr.String(w.Label, string(val))
					case "uint64":
						if len(val) != 8 {
							t.Fatalf("uint64 value %s", w.Value)
						}
						n, _ := strconv.ParseUint(w.Value, 16, 64)
						tr.Uint64(w.Label, n)
					case "element":
						tr.Element(w.Label, element(t, w.Value))
					case "scalar":
						tr.Scalar(w.Label, scalar(t, w.Value))
					default:
						t.Fatalf("unknown write type %q", w.Type)
					}
				}
			}
			if got := hex.EncodeToString(input); got != v.Input {
				t.Fatalf("framed input\n got %s\nwant %s", got, v.Input)
			}
			if got := hex.EncodeToString(long.Challenge().Bytes()); got != v.Challenge {
				t.Errorf("challenge %s, want %s", got, v.Challenge)
			}
			if got := hex.EncodeToString(short.Sum()); got != v.Digest {
				t.Errorf("digest %s, want %s", got, v.Digest)
			}
			// The challenge is the SHA-512 of the input, reduced.
			sum := unhex(t, v.SHA512)
			s, _ := ristretto255.NewScalar().SetUniformBytes(sum)
			if hex.EncodeToString(s.Bytes()) != v.Challenge {
				t.Error("challenge is not sha512 reduced mod ℓ")
			}
		})
	}
	for i, v := range f.HashToScalar {
		t.Run("hash_to_scalar "+strconv.Itoa(i), func(t *testing.T) {
			in := unhex(t, v.Input)
			s, err := group.RandomScalar(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(s.Bytes()); got != v.Scalar {
				t.Fatalf("got %s, want %s", got, v.Scalar)
			}
		})
	}
}

// framed appends u32be(len(s)) ‖ s (SPEC.md §3.1).
func framed(s string, out []byte) []byte {
	out = append(out, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
	return append(out, s...)
}

func TestSchnorr(t *testing.T) {
	var f proofFile[schnorrVector]
	readJSON(t, "schnorr.json", &f)
	checkValidAndInvalid(t, f.Vectors, func(v schnorrVector) (string, bool) { return v.Name, v.Valid })
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			ctx, X := unhex(t, v.Context), element(t, v.X)
			if v.Seed != "" {
				x := scalar(t, v.Secret)
				if !group.Equal(group.BaseMul(x), X) {
					t.Fatal("X ≠ x·G")
				}
				if got := scalarsFrom(v.Seed, 1); !equalStrings(got, v.Randomness) {
					t.Fatalf("randomness %v, want %v", got, v.Randomness)
				}
				p, err := zkp.ProveSchnorr(shake(v.Seed), ctx, x, X)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(p.Bytes()); got != v.Proof {
					t.Fatalf("proof\n got %s\nwant %s", got, v.Proof)
				}
			}
			p, err := zkp.DecodeSchnorr(unhex(t, v.Proof))
			if err != nil {
				if v.Valid {
					t.Fatal(err)
				}
				return
			}
			b := group.NewBatch()
			p.AddTo(b, ctx, X)
			if ok := agree(t, p.Verify(ctx, X), nil, b); ok != v.Valid {
				t.Fatalf("accepted = %v, want %v (%s)", ok, v.Valid, v.Reason)
			}
		})
	}
}

func TestDLEQ(t *testing.T) {
	var f proofFile[dleqVector]
	readJSON(t, "dleq.json", &f)
	checkValidAndInvalid(t, f.Vectors, func(v dleqVector) (string, bool) { return v.Name, v.Valid })
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			ctx, Y, A, D := unhex(t, v.Context), element(t, v.Y), element(t, v.A), element(t, v.D)
			if v.Seed != "" {
				x := scalar(t, v.Secret)
				if !group.Equal(group.BaseMul(x), Y) || !group.Equal(group.Mul(x, A), D) {
					t.Fatal("Y ≠ x·G or D ≠ x·A")
				}
				if got := scalarsFrom(v.Seed, 1); !equalStrings(got, v.Randomness) {
					t.Fatalf("randomness %v, want %v", got, v.Randomness)
				}
				p, err := zkp.ProveDLEQ(shake(v.Seed), ctx, x, Y, A, D)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(p.Bytes()); got != v.Proof {
					t.Fatalf("proof\n got %s\nwant %s", got, v.Proof)
				}
			}
			p, err := zkp.DecodeDLEQ(unhex(t, v.Proof))
			if err != nil {
				if v.Valid {
					t.Fatal(err)
				}
				return
			}
			b := group.NewBatch()
			p.AddTo(b, ctx, Y, A, D)
			if ok := agree(t, p.Verify(ctx, Y, A, D), nil, b); ok != v.Valid {
				t.Fatalf("accepted = %v, want %v (%s)", ok, v.Valid, v.Reason)
			}
		})
	}
}

func TestRange(t *testing.T) {
	var f proofFile[rangeVector]
	readJSON(t, "range.json", &f)
	checkValidAndInvalid(t, f.Vectors, func(v rangeVector) (string, bool) { return v.Name, v.Valid })
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			ct, err := elgamal.Decode(unhex(t, v.Ciphertext))
			if err != nil {
				t.Fatal(err)
			}
			st := &zkp.RangeStatement{Context: unhex(t, v.Context), K: element(t, v.K), A: ct.A, B: ct.B, Lo: v.Lo, Hi: v.Hi}
			if v.Seed != "" {
				r := scalar(t, v.R)
				if !ct.Opens(st.K, *v.M, r) {
					t.Fatal("the ciphertext is not an encryption of m with r")
				}
				n := int(v.Hi - v.Lo + 1)
				if got := scalarsFrom(v.Seed, 2*n-1); !equalStrings(got, v.Randomness) {
					t.Fatalf("randomness %v, want %v", got, v.Randomness)
				}
				p, err := zkp.ProveRange(shake(v.Seed), st, *v.M, r)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(p.AppendBytes(nil)); got != v.Proof {
					t.Fatalf("proof\n got %s\nwant %s", got, v.Proof)
				}
			}
			raw := unhex(t, v.Proof)
			n := int(v.Hi-v.Lo) + 1
			if v.Hi < v.Lo || v.Hi-v.Lo >= zkp.MaxRangeBranches {
				n = len(raw) / zkp.BranchSize
			}
			p, err := zkp.DecodeRange(raw, n)
			if err != nil {
				if v.Valid {
					t.Fatal(err)
				}
				return
			}
			b := group.NewBatch()
			if ok := agree(t, p.Verify(st), p.AddTo(b, st), b); ok != v.Valid {
				t.Fatalf("accepted = %v, want %v (%s)", ok, v.Valid, v.Reason)
			}
		})
	}
}

// checkValidAndInvalid makes sure a file has both kinds of vector and
// unique names.
func checkValidAndInvalid[V any](t *testing.T, vs []V, info func(V) (string, bool)) {
	t.Helper()
	names := map[string]bool{}
	var valid, invalid int
	for _, v := range vs {
		name, ok := info(v)
		if names[name] {
			t.Fatalf("two vectors named %q", name)
		}
		names[name] = true
		if ok {
			valid++
		} else {
			invalid++
		}
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("%d valid and %d invalid vectors", valid, invalid)
	}
}

func TestElGamal(t *testing.T) {
	var f elgamalFile
	readJSON(t, "elgamal.json", &f)
	if len(f.Encryption) == 0 || len(f.Decoding) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Encryption {
		t.Run(v.Name, func(t *testing.T) {
			x, K, r := scalar(t, v.Secret), element(t, v.K), scalar(t, v.R)
			if !group.Equal(group.BaseMul(x), K) {
				t.Fatal("K ≠ x·G")
			}
			c := elgamal.Encrypt(K, v.M, r)
			if got := hex.EncodeToString(c.Bytes()); got != v.Ciphertext {
				t.Fatalf("ciphertext\n got %s\nwant %s", got, v.Ciphertext)
			}
			if !c.Opens(K, v.M, r) {
				t.Fatal("does not open")
			}
			M := group.NewElement().Subtract(c.B, elgamal.PartialDecrypt(x, c))
			if m, err := elgamal.NewDlogTable(v.M).Log(M); err != nil || m != v.M {
				t.Fatalf("decrypts to %d, %v", m, err)
			}
		})
	}
	for _, v := range f.Decoding {
		t.Run(v.Name, func(t *testing.T) {
			raw := unhex(t, v.Ciphertext)
			c, err := elgamal.Decode(raw)
			if (err == nil) != v.Valid {
				t.Fatalf("Decode: %v, want valid=%v (%s)", err, v.Valid, v.Reason)
			}
			if err == nil && !bytes.Equal(c.Bytes(), raw) {
				t.Fatal("does not re-encode")
			}
		})
	}
}

func TestBallots(t *testing.T) {
	var f ballotFile
	readJSON(t, "ballot.json", &f)
	checkValidAndInvalid(t, f.Vectors, func(v ballotVector) (string, bool) { return v.Name, v.Valid })
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			manifest, err := os.ReadFile(filepath.Join("../..", v.Manifest))
			if err != nil {
				t.Fatal(err)
			}
			h := ballot.Hash(manifest)
			if hex.EncodeToString(h[:]) != v.ManifestHash {
				t.Fatalf("manifest hash of %s is %x, the vector says %s: the example manifest changed", v.Manifest, h, v.ManifestHash)
			}
			e, err := ballot.NewElection(manifest, element(t, v.Key), [32]byte(unhex(t, v.Registrar)))
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(e.Context[:]) != v.Context {
				t.Fatalf("context %x, want %s", e.Context, v.Context)
			}
			raw := unhex(t, v.Ballot)
			code := ballot.TrackingCode(raw)
			if hex.EncodeToString(code[:]) != v.Tracking || ballot.FormatTrackingCode(code) != v.TrackingText {
				t.Fatalf("tracking code %x (%s), want %s (%s)", code, ballot.FormatTrackingCode(code), v.Tracking, v.TrackingText)
			}
			if v.Seed != "" {
				if !group.Equal(group.BaseMul(scalar(t, v.Secret)), e.Key) {
					t.Fatal("K ≠ x·G")
				}
				var binding [32]byte
				copy(binding[:], unhex(t, v.Binding))
				pt := ballot.Plaintext(v.Plaintext)
				if v.Answers != nil {
					a, err := ballot.ParseAnswers(v.Answers)
					if err != nil {
						t.Fatal(err)
					}
					if pt2, err := e.Manifest.Plaintext(a); err != nil || !equalPlaintext(pt, pt2) {
						t.Fatalf("answers give %v, %v; the vector says %v", pt2, err, pt)
					}
				}
				b, _, err := ballot.Encrypt(shake(v.Seed), e, binding, pt)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(b.Bytes()); got != v.Ballot {
					t.Fatalf("ballot\n got %s\nwant %s", got, v.Ballot)
				}
			}
			b, err := ballot.Decode(e, raw)
			if err != nil {
				if v.Valid {
					t.Fatal(err)
				}
				return
			}
			if hex.EncodeToString(b.Binding[:]) != v.Binding {
				t.Fatalf("binding %x, want %s", b.Binding, v.Binding)
			}
			batch := group.NewBatch()
			verr := b.Verify(e)
			if ok := agree(t, verr, b.AddTo(batch, e), batch); ok != v.Valid {
				t.Fatalf("accepted = %v, want %v (%s)", ok, v.Valid, v.Reason)
			}
			// A rating with two values or none: every selection's proof
			// holds, the total proof [1, 1] does not (SPEC §8.1).
			if strings.HasPrefix(v.Name, "rating with") && (verr == nil || !strings.Contains(verr.Error(), "question 3 (science-city) total")) {
				t.Fatalf("%v, want the rating's total proof to fail", verr)
			}
		})
	}
}

func equalPlaintext(a, b ballot.Plaintext) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestRecord(t *testing.T) {
	rdir := filepath.Join(dir, "record")
	if _, err := os.Stat(rdir); err != nil {
		t.Fatalf("%v (regenerate with: go test ./internal/vectors -run TestGenerate -args -update)", err)
	}
	r := verify.Record(rdir, verify.Options{})
	for _, c := range r.Checks {
		t.Logf("%v %s: %s", c.OK, c.What, c.Detail)
	}
	if f := r.Failures(); len(f) > 0 || !r.OK() {
		t.Fatalf("the record does not verify: %v", f)
	}
	if m := r.Election.Manifest; m.ID != "shin-chosha-2026" || m.Trustees != 3 || m.Threshold != 2 {
		t.Fatalf("unexpected manifest %s, %d trustees, threshold %d", m.ID, m.Trustees, m.Threshold)
	}
	if r.Ballots != 12 || r.Results == nil || r.Results.Ballots != 12 || len(r.Spoiled) != 1 {
		t.Fatalf("record holds %d ballots, results %+v, %d spoiled; want 12 ballots and 1 spoiled", r.Ballots, r.Results, len(r.Spoiled))
	}
	if _, err := os.Stat(record.DecryptionFile(rdir, 2)); err == nil {
		t.Fatal("trustee 2 was absent but has a decryption share")
	}
}
