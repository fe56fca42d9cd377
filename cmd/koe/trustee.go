package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

const trusteeKind = "koe/v2/trustee-secret"

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
	election, server, tokenFile, key, passFile *string
}

func addTrusteeFlags(fs interface {
	String(name, value, usage string) *string
}) trusteeFlags {
	return trusteeFlags{
		election:  fs.String("election", "", "the election: a record directory, or with --server the election id"),
		server:    fs.String("server", "", "a koe server to talk to (default: work on the record directory)"),
		tokenFile: fs.String("token-file", "", "with --server: file holding your trustee token (default: $KOE_TRUSTEE_TOKEN)"),
		key:       fs.String("key", "", "your trustee key file (secret: keep it on your own machine)"),
		passFile:  fs.String("passphrase-file", "", "read the key file's passphrase from this file (default: $KOE_PASSPHRASE, or ask)"),
	}
}

func (f trusteeFlags) check() error {
	if *f.election == "" || *f.key == "" {
		return withHint(usagef("--election and --key are required"), "for example: koe trustee deal --election ./record --key trustee-1.key")
	}
	return nil
}

// A place is where a trustee reads the election and the others' messages
// and publishes its own: an election record directory, or a server.
type place interface {
	manifest() ([]byte, error)
	// messages returns every trustee's message of a round, by trustee.
	messages(round string) (map[int][]byte, error)
	publish(round string, j int, v any) (string, error)
	tally(e *ballot.Election) (*tally.Accumulator, error)
	publishShare(s *tally.Share) (string, error)
	// registrar returns the id of the registrar's key, which the
	// election context binds (SPEC.md §7.4).
	registrar() ([32]byte, error)
	describe() string
}

func (f trusteeFlags) place() (place, error) {
	if *f.server == "" {
		return dirPlace(*f.election), nil
	}
	token, err := readToken(*f.tokenFile, "KOE_TRUSTEE_TOKEN")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, withHint(errors.New("no trustee token"), "the administrator gave you one when the election was created: use --token-file FILE or set KOE_TRUSTEE_TOKEN")
	}
	return &serverPlace{c: client.New(*f.server, token), id: *f.election}, nil
}

type dirPlace string

func (d dirPlace) describe() string { return string(d) }

func (d dirPlace) manifest() ([]byte, error) {
	data, err := record.ReadFile(filepath.Join(string(d), record.Manifest))
	if err != nil {
		return nil, withHint(err, "create the record with koe election init --manifest FILE %s", d)
	}
	return data, nil
}

func (d dirPlace) messages(round string) (map[int][]byte, error) {
	files, err := record.Indexed(filepath.Join(string(d), record.CeremonyDir), round)
	if err != nil {
		return nil, err
	}
	out := map[int][]byte{}
	for j, name := range files {
		if out[j], err = record.ReadFile(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d dirPlace) publish(round string, j int, v any) (string, error) {
	name := record.CeremonyFile(string(d), round, j)
	if _, err := os.Stat(name); err == nil {
		return "", fmt.Errorf("trustee %d has already published its %s message (%s)", j, round, name)
	}
	return name, record.WriteJSON(name, v)
}

func (d dirPlace) tally(e *ballot.Election) (*tally.Accumulator, error) {
	return loadTally(string(d), e)
}

func (d dirPlace) registrar() ([32]byte, error) {
	pub, err := record.LoadRegistrar(string(d))
	if err != nil || pub == nil {
		return ballot.NoRegistrar, err
	}
	return pub.ID(), nil
}

func (d dirPlace) publishShare(s *tally.Share) (string, error) {
	name := record.DecryptionFile(string(d), s.Trustee)
	return name, record.WriteJSON(name, s)
}

type serverPlace struct {
	c  *client.Client
	id string
}

func (p *serverPlace) describe() string { return p.c.Base + " election " + p.id }

func (p *serverPlace) manifest() ([]byte, error) {
	return p.c.Raw(context.Background(), "GET", client.ElectionPath(p.id, "/manifest"), "", nil)
}

func (p *serverPlace) messages(round string) (map[int][]byte, error) {
	all, err := p.c.Ceremony(context.Background(), p.id)
	if err != nil {
		return nil, err
	}
	out := map[int][]byte{}
	for _, m := range all[round] {
		out[m.Trustee] = m.Message
	}
	return out, nil
}

func (p *serverPlace) publish(round string, j int, v any) (string, error) {
	return p.describe(), p.c.PostCeremony(context.Background(), p.id, round, v)
}

func (p *serverPlace) tally(e *ballot.Election) (*tally.Accumulator, error) {
	pub, err := p.c.Tally(context.Background(), p.id)
	if err != nil {
		return nil, err
	}
	return tally.ParseEncrypted(pub, e.Style)
}

func (p *serverPlace) registrar() ([32]byte, error) {
	pub, err := p.c.RegistrarKey(context.Background(), p.id)
	if err != nil {
		return [32]byte{}, err
	}
	return pub.ID(), nil
}

func (p *serverPlace) publishShare(s *tally.Share) (string, error) {
	return p.describe(), p.c.PostDecryption(context.Background(), p.id, s)
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

// trusteeSession is what the trustee subcommands share: the place, the
// election's manifest and ceremony context, and (but for keygen) the
// unlocked trustee.
type trusteeSession struct {
	f     trusteeFlags
	place place
	m     *ballot.Manifest
	raw   []byte
	ctx   []byte
	p     ceremony.Params
	t     *ceremony.Trustee
	pass  []byte
}

func (s *trusteeSession) init(stderr io.Writer, unlock bool) error {
	if err := s.f.check(); err != nil {
		return err
	}
	var err error
	if s.place, err = s.f.place(); err != nil {
		return err
	}
	if s.raw, err = s.place.manifest(); err != nil {
		return err
	}
	if s.m, err = ballot.ParseManifest(s.raw); err != nil {
		return err
	}
	h := ballot.Hash(s.raw)
	s.ctx = h[:]
	s.p = ceremony.Params{N: s.m.Trustees, T: s.m.Threshold}
	if unlock {
		s.t, s.pass, err = loadTrustee(s.f, stderr)
	}
	return err
}

// round decodes every trustee's message of a round, in index order; all n
// must be there.
func round[T any](s *trusteeSession, name string, decode func(ceremony.Params, []byte) (*T, error)) ([]T, error) {
	msgs, err := s.place.messages(name)
	if err != nil {
		return nil, err
	}
	var out []T
	for j := 1; j <= s.p.N; j++ {
		data, ok := msgs[j]
		if !ok {
			return nil, withHint(fmt.Errorf("trustee %d has not finished the %q round", j, name), "wait until every trustee has (%s)", s.place.describe())
		}
		v, err := decode(s.p, data)
		if err != nil {
			return nil, fmt.Errorf("trustee %d's %s message: %w", j, name, err)
		}
		out = append(out, *v)
	}
	return out, nil
}

func newSession(sub string, args []string, stderr io.Writer, unlock bool, extra func(*flag.FlagSet)) (*trusteeSession, error) {
	fs := newFlags("koe trustee "+sub, "koe trustee "+sub+" --election DIR|ID [--server URL --token-file FILE] --key FILE", stderr)
	s := &trusteeSession{f: addTrusteeFlags(fs)}
	if extra != nil {
		extra(fs)
	}
	if _, err := parse(fs, args); err != nil {
		return nil, err
	}
	return s, s.init(stderr, unlock)
}

func (s *trusteeSession) next(stdout io.Writer, sub string) {
	where := "--election " + *s.f.election
	if *s.f.server != "" {
		where = "--server " + *s.f.server + " " + where
	}
	fmt.Fprintf(stdout, "Next, when every trustee has done this step: koe trustee %s %s --key %s\n", sub, where, *s.f.key)
}

func trusteeKeygen(args []string, stdout, stderr io.Writer) error {
	var index *int
	var name *string
	s, err := newSession("keygen", args, stderr, false, func(fs *flag.FlagSet) {
		index = fs.Int("index", 0, "your trustee number, 1..n, as the administrator assigned it")
		name = fs.String("name", "", "your name or role, published with your commitments")
	})
	if err != nil {
		return err
	}
	if *index < 1 || *index > s.m.Trustees {
		return usagef("--index must be 1..%d", s.m.Trustees)
	}
	if _, err := os.Stat(*s.f.key); err == nil {
		return withHint(fmt.Errorf("%s already exists", *s.f.key), "a trustee makes its key once; choose another file name or remove the old one deliberately")
	}
	if msgs, err := s.place.messages(record.Announce); err != nil {
		return err
	} else if _, done := msgs[*index]; done {
		return fmt.Errorf("trustee %d has already announced", *index)
	}
	pass, err := passphrase(*s.f.passFile, true, stderr)
	if err != nil {
		return err
	}
	t, ann, err := ceremony.NewTrustee(rand.Reader, s.p, s.ctx, *index, *name)
	if err != nil {
		return err
	}
	if err := saveTrustee(*s.f.key, t, pass); err != nil {
		return err
	}
	where, err := s.place.publish(record.Announce, *index, ann)
	if err != nil {
		os.Remove(*s.f.key)
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d (%s): secret key written to %s (encrypted with your passphrase).\n", *index, *name, *s.f.key)
	fmt.Fprintf(stdout, "Commitments published to %s.\n", where)
	s.next(stdout, "deal")
	return nil
}

func trusteeDeal(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("deal", args, stderr, true, nil)
	if err != nil {
		return err
	}
	anns, err := round(s, record.Announce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	d, err := s.t.Deal(rand.Reader, s.ctx, anns)
	if err != nil {
		return err
	}
	where, err := s.place.publish(record.Deal, s.t.Index, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: shares for the %d other trustees encrypted to their keys and published to %s.\n", s.t.Index, s.p.N-1, where)
	s.next(stdout, "shares")
	return nil
}

func trusteeShares(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("shares", args, stderr, true, nil)
	if err != nil {
		return err
	}
	anns, err := round(s, record.Announce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	deals, err := round(s, record.Deal, ceremony.DecodeDealing)
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
	where, err := s.place.publish(record.Verdict, s.t.Index, v)
	if err != nil {
		return err
	}
	if len(v.Complaints) == 0 {
		fmt.Fprintf(stdout, "Trustee %d: every share sent to you matches its dealer's commitments.\n", s.t.Index)
	}
	for _, c := range v.Complaints {
		fmt.Fprintf(stdout, "Trustee %d: COMPLAINT against trustee %d: %s\n", s.t.Index, c.Against, c.Reason)
	}
	fmt.Fprintf(stdout, "Verdict published to %s.\n", where)
	s.next(stdout, "respond")
	return nil
}

func trusteeRespond(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("respond", args, stderr, true, nil)
	if err != nil {
		return err
	}
	anns, err := round(s, record.Announce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	verdicts, err := round(s, record.Verdict, ceremony.DecodeVerdict)
	if err != nil {
		return err
	}
	rs, err := s.t.Respond(s.ctx, anns, verdicts)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []ceremony.Response{}
	}
	where, err := s.place.publish(record.Respond, s.t.Index, rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: %d complaint(s) against you answered in %s.\n", s.t.Index, len(rs), where)
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "When every trustee has responded, the administrator opens the election: koe admin open --election %s\n", *s.f.election)
	} else {
		fmt.Fprintf(stdout, "When every trustee has responded, the administrator runs: koe election key %s\n", *s.f.election)
	}
	return nil
}

// transcript assembles the ceremony transcript from the place.
func (s *trusteeSession) transcript() (*ceremony.Transcript, error) {
	tr := &ceremony.Transcript{Params: s.p}
	for _, r := range []string{record.Announce, record.Deal, record.Verdict, record.Respond} {
		msgs, err := s.place.messages(r)
		if err != nil {
			return nil, err
		}
		for j := 1; j <= s.p.N; j++ {
			if data, ok := msgs[j]; ok {
				if err := record.AddMessage(tr, r, j, data); err != nil {
					return nil, err
				}
			}
		}
	}
	return tr, nil
}

func trusteeDecrypt(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("decrypt", args, stderr, true, nil)
	if err != nil {
		return err
	}
	tr, err := s.transcript()
	if err != nil {
		return err
	}
	res, err := s.t.Finish(s.ctx, tr)
	if err != nil {
		return err
	}
	reg, err := s.place.registrar()
	if err != nil {
		return err
	}
	e, err := ballot.NewElection(s.raw, res.JointKey, reg)
	if err != nil {
		return err
	}
	acc, err := s.place.tally(e)
	if err != nil {
		return err
	}
	share, err := tally.Decrypt(rand.Reader, e, acc, s.t.Index, s.t.Share())
	if err != nil {
		return err
	}
	if _, err := tally.Check(e, acc, share, res.VerificationKeys[s.t.Index]); err != nil {
		return fmt.Errorf("your partial decryption does not verify: %w", err)
	}
	where, err := s.place.publishShare(share)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: partial decryption of the tally of %d ballots, with proofs, published to %s.\n", s.t.Index, acc.Ballots, where)
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "When %d trustees have decrypted: koe admin publish --election %s\n", e.Manifest.Threshold, *s.f.election)
	} else {
		fmt.Fprintf(stdout, "When %d trustees have decrypted: koe election publish %s\n", e.Manifest.Threshold, *s.f.election)
	}
	return nil
}
