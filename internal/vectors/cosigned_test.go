package vectors

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/witness"
)

// cosignedFile is cosigned.json: an election's board policy (the
// manifest's board object, SPEC.md §7.1) with a board key and three
// witnesses, signed checkpoints with 0 to 3 cosignatures (SPEC.md §13.7)
// to accept, with who cosigned and whether the 2-of-3 quorum is met,
// checkpoints to refuse, and consistency proofs (RFC 9162 §2.1.4) between
// the board's checkpoints, valid and altered.
type cosignedFile struct {
	Comment     string              `json:"comment"`
	Election    string              `json:"election"`
	Board       *ballot.BoardPolicy `json:"board"`
	Leaves      []string            `json:"leaves"` // the board's entries (hex), whose trees the checkpoints sign
	Valid       []cosignedCase      `json:"valid"`
	Invalid     []cosignedCase      `json:"invalid"`
	Consistency []consistencyCase   `json:"consistency"`
}

type cosignedCase struct {
	Name      string   `json:"name"`
	Reason    string   `json:"reason,omitempty"`
	Signed    string   `json:"signed"`
	Size      *int64   `json:"size,omitempty"`
	Hash      string   `json:"hash,omitempty"`
	Cosigners []string `json:"cosigners,omitempty"` // witness key names, in the policy's order
	Quorum    *bool    `json:"quorumMet,omitempty"`
}

type consistencyCase struct {
	Name     string   `json:"name"`
	Valid    bool     `json:"valid"`
	FromSize int64    `json:"fromSize"`
	FromHash string   `json:"fromHash"`
	ToSize   int64    `json:"toSize"`
	ToHash   string   `json:"toHash"`
	Proof    []string `json:"proof"`
}

const cosignedElection = "kaga-shishin-2026"

// cosignedSeed gives a deterministic Ed25519 key for the vectors.
func cosignedSeed(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(seedPrefix + "cosigned/" + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// vectorSigner is a note.Signer over a fixed Ed25519 key (note's own
// constructors draw keys at random or parse private key text).
type vectorSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *vectorSigner) Name() string                    { return s.name }
func (s *vectorSigner) KeyHash() uint32                 { return s.hash }
func (s *vectorSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

func boardSigner(t *testing.T, name string, key ed25519.PrivateKey) (*vectorSigner, string) {
	vk, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	must(t, err)
	v, err := note.NewVerifier(vk)
	must(t, err)
	return &vectorSigner{name: name, hash: v.KeyHash(), key: key}, vk
}

type vectorWitness struct {
	key  *witness.Key
	priv ed25519.PrivateKey
}

// cosign returns the witness's cosignature/v1 line for a checkpoint text
// at time ts (SPEC.md §13.7).
func (w *vectorWitness) cosign(text []byte, ts uint64) string {
	sig := ed25519.Sign(w.priv, witness.CosignedMessage(ts, text))
	b := binary.BigEndian.AppendUint32(nil, w.key.KeyHash())
	b = binary.BigEndian.AppendUint64(b, ts)
	return "— " + w.key.Name() + " " + base64.StdEncoding.EncodeToString(append(b, sig...)) + "\n"
}

// cosignTime is the witnesses' clock in the vectors: 2026-12-07 09:00 UTC.
const cosignTime = 1796634000

func genCosigned(t *testing.T) *cosignedFile {
	origin := board.Origin("koe.kaga.example", cosignedElection)
	signer, boardKey := boardSigner(t, origin, cosignedSeed("board"))
	orgs := []struct{ host, ja, en, url string }{
		{"witness.city.kaga.example", "加賀市", "Kaga City", "https://witness.city.kaga.example"},
		{"witness.univ.example", "北陸大学", "Hokuriku University", "https://witness.univ.example"},
		{"witness.news.example", "北國新聞社", "Hokkoku Shimbun", "https://witness.news.example/tlog"},
	}
	f := &cosignedFile{
		Comment: "Cosigned checkpoints (SPEC.md §13.7) of a board under a 2-of-3 witness policy, and consistency " +
			"proofs between its checkpoints (RFC 9162 §2.1.4, SPEC.md §13.8). Keys are Ed25519 from SHA-256 of fixed " +
			"seeds; see testdata/vectors/README.md.",
		Election: cosignedElection,
		Board:    &ballot.BoardPolicy{Key: boardKey, Quorum: 2},
	}
	var ws []*vectorWitness
	for _, o := range orgs {
		priv := cosignedSeed("witness/" + o.host)
		k, err := witness.NewKey(o.host, priv.Public().(ed25519.PublicKey))
		must(t, err)
		ws = append(ws, &vectorWitness{key: k, priv: priv})
		f.Board.Witnesses = append(f.Board.Witnesses, ballot.Witness{Name: ballot.Text{Ja: o.ja, En: o.en}, Key: k.String(), URL: o.url})
	}
	city, univ, news := ws[0], ws[1], ws[2]
	stranger := &vectorWitness{priv: cosignedSeed("witness/witness.stranger.example")}
	sk, err := witness.NewKey("witness.stranger.example", stranger.priv.Public().(ed25519.PublicKey))
	must(t, err)
	stranger.key = sk

	// The board: 13 entries; checkpoints at sizes 1, 4, 7 and 13.
	var leaves [][]byte
	var hashes []tlog.Hash
	for i := range 13 {
		e := []byte(fmt.Sprintf(`{"type":"ballot","election":%q,"time":"2026-12-07T09:%02d:00Z","body":{"n":%d}}`, cosignedElection, i, i))
		leaves = append(leaves, e)
		f.Leaves = append(f.Leaves, hx(e))
		stored, err := tlog.StoredHashes(int64(i), e, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for j, x := range idx {
				out[j] = hashes[x]
			}
			return out, nil
		}))
		must(t, err)
		hashes = append(hashes, stored...)
	}
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for j, x := range idx {
			out[j] = hashes[x]
		}
		return out, nil
	})
	treeHash := func(n int64) tlog.Hash {
		h, err := tlog.TreeHash(n, reader)
		must(t, err)
		return h
	}
	text := func(origin string, n int64, h tlog.Hash) []byte {
		return []byte(fmt.Sprintf("%s\n%d\n%s\n", origin, n, base64.StdEncoding.EncodeToString(h[:])))
	}
	sign := func(s note.Signer, txt []byte) string {
		signed, err := note.Sign(&note.Note{Text: string(txt)}, s)
		must(t, err)
		return string(signed)
	}
	texts := map[int64][]byte{}
	for _, n := range []int64{1, 4, 7, 13} {
		texts[n] = text(origin, n, treeHash(n))
	}
	signed := func(n int64, lines ...string) string { return sign(signer, texts[n]) + strings.Join(lines, "") }
	yes, no := true, false
	valid := func(name string, n int64, s string, quorum bool, cosigners ...*vectorWitness) {
		c := cosignedCase{Name: name, Signed: s, Size: &n, Hash: hx(func() []byte { h := treeHash(n); return h[:] }()), Quorum: &no}
		if quorum {
			c.Quorum = &yes
		}
		for _, w := range cosigners {
			c.Cosigners = append(c.Cosigners, w.key.Name())
		}
		f.Valid = append(f.Valid, c)
	}
	invalid := func(name, reason, s string) {
		f.Invalid = append(f.Invalid, cosignedCase{Name: name, Reason: reason, Signed: s})
	}
	t1, t4, t7, t13 := texts[1], texts[4], texts[7], texts[13]
	valid("size 1, the board's signature alone", 1, signed(1), false)
	valid("size 4, cosigned by the city", 4, signed(4, city.cosign(t4, cosignTime)), false, city)
	valid("size 7, cosigned by the university and the newspaper", 7, signed(7, univ.cosign(t7, cosignTime+60), news.cosign(t7, cosignTime+61)), true, univ, news)
	valid("size 13, cosigned by all three", 13, signed(13, city.cosign(t13, cosignTime+120), univ.cosign(t13, cosignTime+121), news.cosign(t13, cosignTime+122)), true, city, univ, news)
	valid("size 13, cosignature lines in another order than the policy's", 13, signed(13, news.cosign(t13, cosignTime+122), city.cosign(t13, cosignTime+120)), true, city, news)
	valid("size 13, a witness not in the policy is ignored", 13, signed(13, stranger.cosign(t13, cosignTime), city.cosign(t13, cosignTime+120)), false, city)
	valid("size 13, the same cosignature line twice counts once", 13, signed(13, city.cosign(t13, cosignTime+120), city.cosign(t13, cosignTime+120)), false, city)
	valid("size 13, two witnesses and an unknown one", 13, signed(13, city.cosign(t13, cosignTime+120), stranger.cosign(t13, cosignTime), univ.cosign(t13, cosignTime+121)), true, city, univ)
	// A line in a listed witness's name but another key ID is another key's: ignored.
	other := &vectorWitness{priv: cosignedSeed("witness/impostor")}
	ok, err := witness.NewKey(city.key.Name(), other.priv.Public().(ed25519.PublicKey))
	must(t, err)
	other.key = ok
	valid("size 13, a line in the city's name with another key ID is not the city's", 13, signed(13, other.cosign(t13, cosignTime), univ.cosign(t13, cosignTime+121)), false, univ)
	valid("size 13, a cosignature at time 0", 13, signed(13, city.cosign(t13, 0), news.cosign(t13, 1<<63-1)), true, city, news)

	// Invalid: each must be refused, not merely short of the quorum.
	invalid("cosignature over another checkpoint", "the city's line for size 7 pasted under size 13", signed(13, univ.cosign(t13, cosignTime+121), city.cosign(t7, cosignTime+60)))
	wrongTime := []byte(city.cosign(t13, cosignTime+120))
	{
		line := strings.TrimSuffix(string(wrongTime), "\n")
		i := strings.LastIndexByte(line, ' ')
		b, _ := base64.StdEncoding.DecodeString(line[i+1:])
		binary.BigEndian.PutUint64(b[4:12], cosignTime+121)
		wrongTime = []byte(line[:i+1] + base64.StdEncoding.EncodeToString(b) + "\n")
	}
	invalid("wrong timestamp", "the city's cosignature with its time changed by one second", signed(13, univ.cosign(t13, cosignTime+121), string(wrongTime)))
	{
		line := strings.TrimSuffix(city.cosign(t13, 1<<63), "\n")
		invalid("timestamp 2^63", "the time field is 2^63, above the cosignature/v1 range", signed(13, univ.cosign(t13, cosignTime+121), line+"\n"))
	}
	invalid("duplicate signature line with another signature", "the city signs twice, the second line over another checkpoint", signed(13, city.cosign(t13, cosignTime+120), univ.cosign(t13, cosignTime+121), city.cosign(t7, cosignTime+60)))
	{
		line := city.cosign(t13, cosignTime+120)
		b64 := line[strings.LastIndexByte(strings.TrimSuffix(line, "\n"), ' ')+1 : len(line)-1]
		b, _ := base64.StdEncoding.DecodeString(b64)
		invalid("cosignature of 75 bytes", "the city's line is one byte short", signed(13, univ.cosign(t13, cosignTime+121), "— "+city.key.Name()+" "+base64.StdEncoding.EncodeToString(b[:75])+"\n"))
	}
	invalid("malformed line: no em dash", "a signature line must start with U+2014 and a space", signed(13, univ.cosign(t13, cosignTime+121), strings.Replace(city.cosign(t13, cosignTime+120), "— ", "- ", 1)))
	invalid("malformed line: no signature", "a signature line is name, space, base64", signed(13, univ.cosign(t13, cosignTime+121), "— "+city.key.Name()+"\n"))
	invalid("malformed line: not base64", "the signature is not base64", signed(13, univ.cosign(t13, cosignTime+121), "— "+city.key.Name()+" *not-base64*\n"))
	invalid("malformed note: no final newline", "a signed note ends with a newline", strings.TrimSuffix(signed(13, univ.cosign(t13, cosignTime+121)), "\n"))
	invalid("malformed note: no blank line", "the checkpoint and its signatures are separated by a blank line", strings.Replace(signed(13), "\n\n", "\n", 1))
	{
		otherSigner, _ := boardSigner(t, origin, cosignedSeed("another board"))
		invalid("board signature by another key", "signed in the board's name by another key, and cosigned", sign(otherSigner, t13)+city.cosign(t13, cosignTime)+univ.cosign(t13, cosignTime))
	}
	{
		s := signed(13, city.cosign(t13, cosignTime+120), univ.cosign(t13, cosignTime+121))
		i := strings.Index(s, "\n\n— ") + 3 + len("— ") + len(origin) + 1
		b := []byte(s)
		b[i+10] ^= 1 // a base64 character inside the board's signature
		if b[i+10] == '\n' || b[i+10] == ' ' {
			t.Fatal("bad flip")
		}
		invalid("board signature altered", "one base64 character of the board's signature changed", string(b))
	}
	invalid("checkpoint text altered", "the size line changed after signing", strings.Replace(signed(13, city.cosign(t13, cosignTime+120), univ.cosign(t13, cosignTime+121)), "\n13\n", "\n12\n", 1))
	invalid("cosignatures without the board's", "the witnesses cosigned, the board did not sign", string(t13)+"\n"+city.cosign(t13, cosignTime+120)+univ.cosign(t13, cosignTime+121))
	{
		ext := []byte(string(t13) + "extension\n")
		invalid("extension line", "a koe checkpoint has no extension lines", sign(signer, ext)+city.cosign(ext, cosignTime)+univ.cosign(ext, cosignTime))
	}
	{
		other := text(board.Origin("koe.kaga.example", "another-election"), 13, treeHash(13))
		invalid("origin of another log", "the board key's name is not the checkpoint's origin, so it did not sign it", sign(signer, other)+city.cosign(other, cosignTime)+univ.cosign(other, cosignTime))
	}
	_ = t1

	// Consistency proofs between the board's checkpoints.
	prove := func(m, n int64) []string {
		if m == 0 || m == n {
			return []string{}
		}
		p, err := tlog.ProveTree(n, m, reader)
		must(t, err)
		out := make([]string, len(p))
		for i, h := range p {
			out[i] = hx(h[:])
		}
		return out
	}
	cons := func(name string, valid bool, m int64, mh tlog.Hash, n int64, nh tlog.Hash, proof []string) {
		f.Consistency = append(f.Consistency, consistencyCase{Name: name, Valid: valid, FromSize: m, FromHash: hx(mh[:]), ToSize: n, ToHash: hx(nh[:]), Proof: proof})
	}
	for _, p := range [][2]int64{{1, 4}, {4, 7}, {7, 13}, {1, 13}, {4, 13}, {3, 13}, {8, 13}, {12, 13}, {0, 13}, {13, 13}, {1, 1}} {
		cons(fmt.Sprintf("from %d to %d", p[0], p[1]), true, p[0], treeHash(p[0]), p[1], treeHash(p[1]), prove(p[0], p[1]))
	}
	flipHex := func(s string) string { b, _ := hex.DecodeString(s); b[31] ^= 0x80; return hx(b) }
	p := prove(4, 13)
	altered := slices.Clone(p)
	altered[0] = flipHex(altered[0])
	cons("from 4 to 13, a proof hash altered", false, 4, treeHash(4), 13, treeHash(13), altered)
	cons("from 4 to 13, the last proof hash left out", false, 4, treeHash(4), 13, treeHash(13), p[:len(p)-1])
	cons("from 4 to 13, an extra proof hash", false, 4, treeHash(4), 13, treeHash(13), append(slices.Clone(p), p[0]))
	rev := slices.Clone(p)
	slices.Reverse(rev)
	cons("from 4 to 13, the proof hashes in reverse order", false, 4, treeHash(4), 13, treeHash(13), rev)
	cons("from 7 to 13 with the proof from 4", false, 7, treeHash(7), 13, treeHash(13), p)
	h4 := treeHash(4)
	h4[0] ^= 1
	cons("from 4 to 13, the older tree hash altered (a forked board)", false, 4, h4, 13, treeHash(13), p)
	h13 := treeHash(13)
	h13[31] ^= 1
	cons("from 4 to 13, the newer tree hash altered", false, 4, treeHash(4), 13, h13, p)
	cons("from 13 to 4 (the board shrank)", false, 13, treeHash(13), 4, treeHash(4), p)
	cons("from 13 to 13, different hashes", false, 13, treeHash(13), 13, h13, []string{})
	cons("from 13 to 13 with a proof", false, 13, treeHash(13), 13, treeHash(13), prove(12, 13))
	cons("from 0 to 13 with a proof", false, 0, treeHash(0), 13, treeHash(13), prove(12, 13))
	cons("from 0 to 13, not the empty tree's hash", false, 0, treeHash(1), 13, treeHash(13), []string{})
	return f
}

func TestGenerateCosignedVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -args -update to regenerate testdata/vectors")
	}
	writeJSON(t, "cosigned.json", genCosigned(t))
}

// checkConsistency is SPEC.md §13.8 step 4 on tree sizes and hashes: the
// empty tree is a prefix of every tree (no proof), equal sizes need equal
// hashes (no proof), else tlog.CheckTree.
func checkConsistency(proof tlog.TreeProof, m int64, mh tlog.Hash, n int64, nh tlog.Hash) error {
	empty, _ := tlog.TreeHash(0, nil)
	switch {
	case m < 0 || m > n:
		return errors.New("the older tree is larger")
	case m == 0:
		if mh != empty || len(proof) != 0 {
			return errors.New("bad empty tree or proof")
		}
		return nil
	case m == n:
		if mh != nh || len(proof) != 0 {
			return errors.New("equal sizes, different trees")
		}
		return nil
	}
	return tlog.CheckTree(proof, n, nh, m, mh)
}

// TestCosignedVectors checks cosigned.json against witness.Policy (the
// policy of the manifest's board object) and the consistency proofs
// against tlog.CheckTree, and that the file is what the generator writes.
func TestCosignedVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "cosigned.json"))
	must(t, err)
	var f cosignedFile
	must(t, json.Unmarshal(data, &f))
	want, err := json.MarshalIndent(genCosigned(t), "", "  ")
	must(t, err)
	if !bytes.Equal(append(want, '\n'), data) {
		t.Error("cosigned.json is not what the generator writes: regenerate with -run TestGenerateCosignedVectors -args -update")
	}
	pol, err := (&ballot.Manifest{ID: f.Election, Board: f.Board}).WitnessPolicy()
	must(t, err)
	if len(f.Valid) == 0 || len(f.Invalid) == 0 || len(f.Consistency) == 0 {
		t.Fatal("empty vector lists")
	}
	for _, c := range f.Valid {
		cp, cosigners, err := pol.Verify([]byte(c.Signed))
		if err != nil && !(errors.Is(err, witness.ErrQuorum) && !*c.Quorum) {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if (err == nil) != *c.Quorum {
			t.Errorf("%s: quorum met = %v, want %v", c.Name, err == nil, *c.Quorum)
		}
		var names []string
		for _, k := range cosigners {
			names = append(names, k.Name())
		}
		if !slices.Equal(names, c.Cosigners) {
			t.Errorf("%s: cosigners %v, want %v", c.Name, names, c.Cosigners)
		}
		if cp.Size != *c.Size || hx(cp.Hash[:]) != c.Hash {
			t.Errorf("%s: checkpoint %d %x, want %d %s", c.Name, cp.Size, cp.Hash, *c.Size, c.Hash)
		}
	}
	for _, c := range f.Invalid {
		if _, _, err := pol.Verify([]byte(c.Signed)); err == nil || errors.Is(err, witness.ErrQuorum) {
			t.Errorf("%s (%s): accepted or only short of the quorum: %v", c.Name, c.Reason, err)
		}
	}
	for _, c := range f.Consistency {
		var proof tlog.TreeProof
		for _, h := range c.Proof {
			b, err := hex.DecodeString(h)
			must(t, err)
			proof = append(proof, tlog.Hash(b))
		}
		mh, err1 := hex.DecodeString(c.FromHash)
		nh, err2 := hex.DecodeString(c.ToHash)
		must(t, errors.Join(err1, err2))
		err := checkConsistency(proof, c.FromSize, tlog.Hash(mh), c.ToSize, tlog.Hash(nh))
		if (err == nil) != c.Valid {
			t.Errorf("%s: valid = %v, want %v (%v)", c.Name, err == nil, c.Valid, err)
		}
	}
}
