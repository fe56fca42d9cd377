package record

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/group"
)

// Params is election.json: the public parameters that follow from the
// manifest and the ceremony (SPEC.md §10.2). A verifier recomputes them.
type Params struct {
	Spec             string       `json:"spec"`
	ManifestHash     string       `json:"manifestHash"`
	RegistrarKey     string       `json:"registrarKey"` // hex of the registrar key's id, zero without one
	Trustees         int          `json:"trustees"`
	Threshold        int          `json:"threshold"`
	Qual             []int        `json:"qual"`
	JointKey         string       `json:"jointKey"`
	VerificationKeys []TrusteeKey `json:"verificationKeys"`
	Context          string       `json:"context"`
}

// TrusteeKey is a trustee's public verification key Yⱼ = xⱼ·G.
type TrusteeKey struct {
	Trustee int    `json:"trustee"`
	Key     string `json:"key"`
}

// ParamsOf derives election.json from an election and its ceremony result.
func ParamsOf(e *ballot.Election, res *ceremony.Result) *Params {
	p := &Params{
		Spec:         group.Version,
		ManifestHash: hex.EncodeToString(e.ManifestHash[:]),
		RegistrarKey: hex.EncodeToString(e.Registrar[:]),
		Trustees:     e.Manifest.Trustees,
		Threshold:    e.Manifest.Threshold,
		Qual:         res.Qual,
		JointKey:     hex.EncodeToString(e.Key.Bytes()),
		Context:      hex.EncodeToString(e.Context[:]),
	}
	for _, j := range res.Qual {
		p.VerificationKeys = append(p.VerificationKeys, TrusteeKey{Trustee: j, Key: hex.EncodeToString(res.VerificationKeys[j].Bytes())})
	}
	return p
}

// LoadTranscript assembles the ceremony transcript from dir's ceremony files.
func LoadTranscript(dir string, params ceremony.Params) (*ceremony.Transcript, error) {
	tr := &ceremony.Transcript{Params: params}
	cdir := filepath.Join(dir, CeremonyDir)
	for _, round := range ceremony.Rounds {
		files, err := Indexed(cdir, round)
		if err != nil {
			return nil, err
		}
		for _, j := range SortedKeys(files) {
			data, err := ReadFile(files[j])
			if err != nil {
				return nil, err
			}
			if err := tr.AddMessage(round, j, data); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(CeremonyDir, filepath.Base(files[j])), err)
			}
		}
	}
	return tr, nil
}

// LoadElection reads the manifest and the ceremony transcript, verifies the
// ceremony and returns the election it defines. It trusts nothing in
// election.json.
func LoadElection(dir string) (*ballot.Election, *ceremony.Result, error) {
	data, err := ReadFile(filepath.Join(dir, Manifest))
	if err != nil {
		return nil, nil, err
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", Manifest, err)
	}
	tr, err := LoadTranscript(dir, ceremony.Params{N: m.Trustees, T: m.Threshold})
	if err != nil {
		return nil, nil, err
	}
	h := ballot.Hash(data)
	res, err := tr.Verify(h[:])
	if err != nil {
		// The ceremony package's errors begin "ceremony: ": not again.
		return nil, nil, err
	}
	reg, err := LoadRegistrar(dir)
	if err != nil {
		return nil, nil, err
	}
	id := ballot.NoRegistrar
	if reg != nil {
		id = reg.ID()
	}
	e, err := ballot.NewElection(data, res.JointKey, id)
	if err != nil {
		return nil, nil, err
	}
	return e, res, nil
}

// LoadRegistrar reads the record's registrar.pub (SPEC.md §10.1): the
// registrar's public key text followed by one "\n". It returns nil, and
// no error, if the record has no such file: an election without a
// registrar, whose context binds [ballot.NoRegistrar].
func LoadRegistrar(dir string) (*credential.PublicKey, error) {
	data, err := ReadFile(filepath.Join(dir, Registrar))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseRegistrar(data)
}

// ParseRegistrar decodes the contents of registrar.pub.
func ParseRegistrar(data []byte) (*credential.PublicKey, error) {
	text, ok := bytes.CutSuffix(data, []byte("\n"))
	if !ok || bytes.ContainsAny(text, "\r\n") {
		return nil, fmt.Errorf("%s: want the registrar's key text followed by exactly one newline", Registrar)
	}
	pub := new(credential.PublicKey)
	if err := pub.UnmarshalText(text); err != nil {
		return nil, fmt.Errorf("%s: %w", Registrar, err)
	}
	return pub, nil
}
