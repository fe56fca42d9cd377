package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

const trusteeKind = "koe/v1/trustee-secret"

func runTrustee(args []string, stdout, stderr io.Writer) error {
	return subcommand("trustee", args, stdout, stderr, []command{
		{"keygen", "round 1: make your secrets and publish commitments", trusteeKeygen},
		{"deal", "round 2: send every other trustee its encrypted share", trusteeDeal},
		{"shares", "round 3: check the shares sent to you; complain about bad ones", trusteeShares},
		{"respond", "round 4: answer complaints against you", trusteeRespond},
		{"decrypt", "decrypt your part of the tally, with a proof", trusteeDecrypt},
	})
}

// trusteeFlags are the flags every trustee subcommand takes.
type trusteeFlags struct {
	dir, key, passFile *string
}

func addTrusteeFlags(fs interface {
	String(name, value, usage string) *string
}) trusteeFlags {
	return trusteeFlags{
		dir:      fs.String("election", "", "the election record directory"),
		key:      fs.String("key", "", "your trustee key file (secret: keep it on your own machine)"),
		passFile: fs.String("passphrase-file", "", "read the key file's passphrase from this file (default: $KOE_PASSPHRASE, or ask)"),
	}
}

func (f trusteeFlags) check() error {
	if *f.dir == "" || *f.key == "" {
		return withHint(usagef("--election and --key are required"), "for example: koe trustee deal --election ./record --key trustee-1.key")
	}
	return nil
}

// passphrase reads the key file's passphrase.
func passphrase(file string, confirm bool, stderr io.Writer) ([]byte, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p := []byte(strings.TrimRight(string(data), "\r\n"))
		if len(p) == 0 {
			return nil, fmt.Errorf("%s is empty", file)
		}
		return p, nil
	}
	if p := os.Getenv("KOE_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, withHint(errors.New("no passphrase for the trustee key"), "use --passphrase-file FILE or set KOE_PASSPHRASE")
	}
	fmt.Fprint(stderr, "Passphrase for your trustee key: ")
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(stderr, "Again, to confirm: ")
		q, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, errors.New("the passphrases differ")
		}
	}
	if len(p) < 8 {
		return nil, errors.New("the passphrase must have at least 8 characters")
	}
	return p, nil
}

func loadTrustee(f trusteeFlags, stderr io.Writer) (*ceremony.Trustee, []byte, error) {
	sealed, err := os.ReadFile(*f.key)
	if err != nil {
		return nil, nil, err
	}
	pass, err := passphrase(*f.passFile, false, stderr)
	if err != nil {
		return nil, nil, err
	}
	plain, err := keystore.Open(pass, trusteeKind, sealed)
	if err != nil {
		return nil, nil, withHint(fmt.Errorf("%s: %w", *f.key, err), "check the passphrase and that this is your trustee key file")
	}
	t := new(ceremony.Trustee)
	if err := t.UnmarshalBinary(plain); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", *f.key, err)
	}
	return t, pass, nil
}

func saveTrustee(name string, t *ceremony.Trustee, pass []byte) error {
	plain, err := t.MarshalBinary()
	if err != nil {
		return err
	}
	sealed, err := keystore.Seal(rand.Reader, pass, trusteeKind, plain)
	if err != nil {
		return err
	}
	return writePrivate(name, sealed)
}

// manifestOf reads a record's manifest and its hash, the ceremony's context.
func manifestOf(dir string) (*ballot.Manifest, []byte, error) {
	data, err := record.ReadFile(filepath.Join(dir, record.Manifest))
	if err != nil {
		return nil, nil, withHint(err, "create the record with koe election init --manifest FILE %s", dir)
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return nil, nil, err
	}
	h := ballot.Hash(data)
	return m, h[:], nil
}

func trusteeKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe trustee keygen", "koe trustee keygen --election DIR --index J --name NAME --key FILE", stderr)
	f := addTrusteeFlags(fs)
	index := fs.Int("index", 0, "your trustee number, 1..n, as the administrator assigned it")
	name := fs.String("name", "", "your name or role, published with your commitments")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	m, ctx, err := manifestOf(*f.dir)
	if err != nil {
		return err
	}
	if *index < 1 || *index > m.Trustees {
		return usagef("--index must be 1..%d", m.Trustees)
	}
	if _, err := os.Stat(*f.key); err == nil {
		return withHint(fmt.Errorf("%s already exists", *f.key), "a trustee makes its key once; choose another file name or remove the old one deliberately")
	}
	pub := record.CeremonyFile(*f.dir, record.Announce, *index)
	if _, err := os.Stat(pub); err == nil {
		return fmt.Errorf("trustee %d has already announced (%s)", *index, pub)
	}
	pass, err := passphrase(*f.passFile, true, stderr)
	if err != nil {
		return err
	}
	t, ann, err := ceremony.NewTrustee(rand.Reader, ceremony.Params{N: m.Trustees, T: m.Threshold}, ctx, *index, *name)
	if err != nil {
		return err
	}
	if err := saveTrustee(*f.key, t, pass); err != nil {
		return err
	}
	if err := record.WriteJSON(pub, ann); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d (%s): secret key written to %s (encrypted with your passphrase).\n", *index, *name, *f.key)
	fmt.Fprintf(stdout, "Commitments published to %s.\n", pub)
	fmt.Fprintf(stdout, "Next, when all %d trustees have announced: koe trustee deal --election %s --key %s\n", m.Trustees, *f.dir, *f.key)
	return nil
}

func loadRound[T any](dir, round string, n int, decode func([]byte) (*T, error)) ([]T, error) {
	var out []T
	for j := 1; j <= n; j++ {
		data, err := record.ReadFile(record.CeremonyFile(dir, round, j))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, withHint(fmt.Errorf("trustee %d has not finished the %q round", j, round), "wait until every trustee has; the files are in %s", filepath.Join(dir, record.CeremonyDir))
			}
			return nil, err
		}
		v, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("trustee %d's %s message: %w", j, round, err)
		}
		out = append(out, *v)
	}
	return out, nil
}

// trusteeSession is what the ceremony subcommands share: the parsed flags,
// the election's manifest and ceremony context, and the unlocked trustee.
type trusteeSession struct {
	f    trusteeFlags
	m    *ballot.Manifest
	ctx  []byte
	p    ceremony.Params
	t    *ceremony.Trustee
	pass []byte
}

func openTrusteeSession(sub string, args []string, stderr io.Writer) (*trusteeSession, error) {
	fs := newFlags("koe trustee "+sub, "koe trustee "+sub+" --election DIR --key FILE", stderr)
	s := &trusteeSession{f: addTrusteeFlags(fs)}
	if _, err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := s.f.check(); err != nil {
		return nil, err
	}
	var err error
	if s.m, s.ctx, err = manifestOf(*s.f.dir); err != nil {
		return nil, err
	}
	s.p = ceremony.Params{N: s.m.Trustees, T: s.m.Threshold}
	if s.t, s.pass, err = loadTrustee(s.f, stderr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *trusteeSession) announcements() ([]ceremony.Announcement, error) {
	return loadRound(*s.f.dir, record.Announce, s.p.N, func(b []byte) (*ceremony.Announcement, error) { return ceremony.DecodeAnnouncement(s.p, b) })
}

// publish writes the trustee's message of a round to the record.
func (s *trusteeSession) publish(round string, v any) (string, error) {
	out := record.CeremonyFile(*s.f.dir, round, s.t.Index)
	return out, record.WriteJSON(out, v)
}

func trusteeDeal(args []string, stdout, stderr io.Writer) error {
	s, err := openTrusteeSession("deal", args, stderr)
	if err != nil {
		return err
	}
	anns, err := s.announcements()
	if err != nil {
		return err
	}
	d, err := s.t.Deal(rand.Reader, s.ctx, anns)
	if err != nil {
		return err
	}
	out, err := s.publish(record.Deal, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: shares for the %d other trustees encrypted to their keys and published to %s.\n", s.t.Index, s.p.N-1, out)
	fmt.Fprintf(stdout, "Next, when all have dealt: koe trustee shares --election %s --key %s\n", *s.f.dir, *s.f.key)
	return nil
}

func trusteeShares(args []string, stdout, stderr io.Writer) error {
	s, err := openTrusteeSession("shares", args, stderr)
	if err != nil {
		return err
	}
	anns, err := s.announcements()
	if err != nil {
		return err
	}
	deals, err := loadRound(*s.f.dir, record.Deal, s.p.N, func(b []byte) (*ceremony.Dealing, error) { return ceremony.DecodeDealing(s.p, b) })
	if err != nil {
		return err
	}
	v, err := s.t.Receive(s.ctx, anns, deals)
	if err != nil {
		return err
	}
	if err := saveTrustee(*s.f.key, s.t, s.pass); err != nil {
		return err
	}
	out, err := s.publish(record.Verdict, v)
	if err != nil {
		return err
	}
	if len(v.Complaints) == 0 {
		fmt.Fprintf(stdout, "Trustee %d: every share sent to you matches its dealer's commitments.\n", s.t.Index)
	}
	for _, c := range v.Complaints {
		fmt.Fprintf(stdout, "Trustee %d: COMPLAINT against trustee %d: %s\n", s.t.Index, c.Against, c.Reason)
	}
	fmt.Fprintf(stdout, "Verdict published to %s.\nNext, when all have checked: koe trustee respond --election %s --key %s\n", out, *s.f.dir, *s.f.key)
	return nil
}

func trusteeRespond(args []string, stdout, stderr io.Writer) error {
	s, err := openTrusteeSession("respond", args, stderr)
	if err != nil {
		return err
	}
	verdicts, err := loadRound(*s.f.dir, record.Verdict, s.p.N, func(b []byte) (*ceremony.Verdict, error) { return ceremony.DecodeVerdict(s.p, b) })
	if err != nil {
		return err
	}
	rs, err := s.t.Respond(s.ctx, verdicts)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []ceremony.Response{}
	}
	out, err := s.publish(record.Respond, rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: %d complaint(s) against you answered in %s.\n", s.t.Index, len(rs), out)
	fmt.Fprintf(stdout, "Next, when all have responded, the administrator runs: koe election key %s\n", *s.f.dir)
	return nil
}

func trusteeDecrypt(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe trustee decrypt", "koe trustee decrypt --election DIR --key FILE", stderr)
	f := addTrusteeFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	e, _, err := loadElection(*f.dir)
	if err != nil {
		return err
	}
	t, _, err := loadTrustee(f, stderr)
	if err != nil {
		return err
	}
	tr, err := record.LoadTranscript(*f.dir, ceremony.Params{N: e.Manifest.Trustees, T: e.Manifest.Threshold})
	if err != nil {
		return err
	}
	res, err := t.Finish(e.ManifestHash[:], tr)
	if err != nil {
		return err
	}
	acc, err := loadTally(*f.dir, e)
	if err != nil {
		return err
	}
	share, err := tally.Decrypt(rand.Reader, e, acc, t.Index, t.Share())
	if err != nil {
		return err
	}
	if _, err := tally.Check(e, acc, share, res.VerificationKeys[t.Index]); err != nil {
		return fmt.Errorf("your partial decryption does not verify: %w", err)
	}
	out := record.DecryptionFile(*f.dir, t.Index)
	if err := record.WriteJSON(out, share); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: partial decryption of the tally of %d ballots, with proofs, written to %s.\n", t.Index, acc.Ballots, out)
	fmt.Fprintf(stdout, "When %d trustees have decrypted: koe election publish %s\n", e.Manifest.Threshold, *f.dir)
	return nil
}
