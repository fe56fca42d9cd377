package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"

	"github.com/koe-vote/koe/internal/trusteeflow"
)

const trusteeKind = trusteeflow.KeyKind

func runTrustee(args []string, stdout, stderr io.Writer) error {
	return subcommand("trustee", args, stdout, stderr, []command{
		{"keygen", "round 1: make your secrets and publish commitments", trusteeKeygen},
		{"deal", "round 2: send every other trustee its encrypted share", trusteeDeal},
		{"shares", "round 3: check the shares sent to you; complain about bad ones", trusteeShares},
		{"respond", "round 4: answer complaints against you", trusteeRespond},
		{"finish", "check the whole ceremony and keep only your share in the key file", trusteeFinish},
		{"mix", "shuffle the text and rank answers, with a proof (one round per question)", trusteeMix},
		{"decrypt", "decrypt your part of the tally and of the mixed answers, with proofs", trusteeDecrypt},
	})
}

// trusteeFlags are the flags every trustee subcommand takes.
type trusteeFlags struct {
	election, server, tokenFile, key, passFile, monitor *string
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
		monitor:   fs.String("monitor", "", "with --server: a monitor's URL (koe monitor --listen); the board read must be of one history with the monitor's"),
	}
}

func (f trusteeFlags) check() error {
	if *f.election == "" || *f.key == "" {
		return withHint(usagef("--election and --key are required"), "for example: koe trustee deal --election ./record --key trustee-1.key")
	}
	return nil
}

func (f trusteeFlags) place() (trusteeflow.Place, error) {
	if *f.server == "" {
		return trusteeflow.DirPlace(*f.election), nil
	}
	token, err := readToken(*f.tokenFile, "KOE_TRUSTEE_TOKEN")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, withHint(errors.New("no trustee token"), "the administrator gave you one when the election was created: use --token-file FILE or set KOE_TRUSTEE_TOKEN")
	}
	p := &trusteeflow.ServerPlace{C: client.New(*f.server, token), ID: *f.election, State: trusteeflow.FileState(*f.key + ".board")}
	if *f.monitor != "" {
		p.Monitor = client.New(*f.monitor, "")
	}
	return p, nil
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
	t, err := trusteeflow.OpenKey(*f.key, sealed, pass)
	return t, pass, err
}

func saveTrustee(name string, t *ceremony.Trustee, pass []byte) error {
	sealed, err := trusteeflow.SealKey(t, pass)
	if err != nil {
		return err
	}
	return writePrivate(name, sealed)
}

// trusteeSession is what the trustee subcommands share: the flags and the
// shared session (trusteeflow), with the unlocked trustee but for keygen.
type trusteeSession struct {
	*trusteeflow.Session
	f    trusteeFlags
	sub  string // the subcommand
	pass []byte
}

func (s *trusteeSession) init(stderr io.Writer, unlock bool) error {
	if err := s.f.check(); err != nil {
		return err
	}
	pl, err := s.f.place()
	if err != nil {
		return err
	}
	if s.Session, err = trusteeflow.Open(pl); err != nil {
		return err
	}
	s.Save = func(t *ceremony.Trustee) error { return saveTrustee(*s.f.key, t, s.pass) }
	s.Mixing = s.sub == "mix"
	s.Step = func(label string) func() { return startStep(stderr, label) }
	var p *progress
	s.Progress = func(stage string, done, total int) {
		if p == nil {
			p = newProgress(stderr, "verifying "+stage+" before "+map[string]string{"mix": "mixing"}[s.sub]+map[string]string{"decrypt": "decrypting"}[s.sub], total)
		}
		p.set(done)
	}
	if *s.f.server != "" {
		s.VerifyHint = fmt.Sprintf("see the whole report with koe verify --server %s --election %s; do not decrypt until it passes", *s.f.server, *s.f.election)
	}
	if unlock {
		s.T, s.pass, err = loadTrustee(s.f, stderr)
	}
	return err
}

func newSession(sub string, args []string, stderr io.Writer, unlock bool, extra func(*flag.FlagSet)) (*trusteeSession, error) {
	fs := newFlags("koe trustee "+sub, "koe trustee "+sub+" --election DIR|ID [--server URL --token-file FILE] --key FILE", stderr)
	s := &trusteeSession{f: addTrusteeFlags(fs), sub: sub}
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
	if *index < 1 || *index > s.M.Trustees {
		return usagef("--index must be 1..%d", s.M.Trustees)
	}
	if _, err := os.Stat(*s.f.key); err == nil {
		return withHint(fmt.Errorf("%s already exists", *s.f.key), "a trustee makes its key once; choose another file name or remove the old one deliberately")
	}
	if err := s.CheckNotAnnounced(*index); err != nil {
		return err
	}
	pass, err := passphrase(*s.f.passFile, true, stderr)
	if err != nil {
		return err
	}
	t, ann, err := ceremony.NewTrustee(rand.Reader, s.P, s.Ctx, *index, *name)
	if err != nil {
		return err
	}
	if err := saveTrustee(*s.f.key, t, pass); err != nil {
		return err
	}
	where, err := s.Place.Publish(ceremony.RoundAnnounce, *index, ann)
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
	where, err := s.Deal()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: shares for the %d other trustees encrypted to their keys and published to %s.\n", s.T.Index, s.P.N-1, where)
	s.next(stdout, "shares")
	return nil
}

func trusteeShares(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("shares", args, stderr, true, nil)
	if err != nil {
		return err
	}
	v, where, err := s.Shares()
	if err != nil {
		return err
	}
	if len(v.Complaints) == 0 {
		fmt.Fprintf(stdout, "Trustee %d: every share sent to you matches its dealer's commitments.\n", s.T.Index)
	}
	for _, c := range v.Complaints {
		fmt.Fprintf(stdout, "Trustee %d: COMPLAINT against trustee %d: %s\n", s.T.Index, c.Against, c.Reason)
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
	rs, against, where, err := s.Respond()
	if err != nil {
		return err
	}
	if len(against) >= s.P.T {
		fmt.Fprintf(stdout, "Trustee %d: %d trustees %v complain against you, t = %d or more: you are disqualified, and reveal no share (it would publish your polynomial).\n", s.T.Index, len(against), against, s.P.T)
	} else {
		fmt.Fprintf(stdout, "Trustee %d: %d complaint(s) against you answered in %s.\n", s.T.Index, len(rs), where)
	}
	s.next(stdout, "finish")
	return nil
}

// trusteeFinish checks the complete transcript, computes the trustee's
// share and rewrites the key file with only that (SPEC.md §6.5).
func trusteeFinish(args []string, stdout, stderr io.Writer) error {
	s, err := newSession("finish", args, stderr, true, nil)
	if err != nil {
		return err
	}
	res, err := s.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: the ceremony verifies; qualified trustees %v, joint key %x.\n", s.T.Index, res.Qual, res.JointKey.Bytes())
	fmt.Fprintf(stdout, "%s now holds only your share of the election secret (your coefficients, received shares and HPKE key are erased).\n", *s.f.key)
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "The administrator opens the election: koe admin open --election %s\n", *s.f.election)
	} else {
		fmt.Fprintf(stdout, "The administrator runs: koe election key %s\n", *s.f.election)
	}
	return nil
}

// checkpointFlag reads the --checkpoint file, if given.
func (s *trusteeSession) checkpointFlag(name string) error {
	if name == "" {
		return nil
	}
	signed, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	s.Checkpoint, s.CheckpointName = signed, name
	return nil
}

func trusteeDecrypt(args []string, stdout, stderr io.Writer) error {
	var checkpoint *string
	s, err := newSession("decrypt", args, stderr, true, func(fs *flag.FlagSet) {
		checkpoint = fs.String("checkpoint", "", "a signed board checkpoint obtained elsewhere (the public site, an observer): the board must extend it")
	})
	if err != nil {
		return err
	}
	if err := s.checkpointFlag(*checkpoint); err != nil {
		return err
	}
	e, res, err := s.election(stdout)
	if err != nil {
		return err
	}
	v, err := s.verifiedTally(e, res, stdout)
	if err != nil {
		return err
	}
	if v.Decrypted {
		fmt.Fprintf(stdout, "Trustee %d: you have already decrypted the tally (%s).\n", s.T.Index, s.Place.Describe())
	} else {
		where, err := s.DecryptTally(e, res, v)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Trustee %d: partial decryption of the tally of %d ballots, with proofs, published to %s.\n", s.T.Index, v.Acc.Ballots, where)
	}
	if err := s.decryptMixed(v.Chains, stdout); err != nil {
		return err
	}
	what := "decrypted"
	if len(v.Chains) > 0 {
		what = "decrypted the tally and every mixed question"
	}
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "When %d trustees have %s: koe admin publish --election %s\n", e.Manifest.Threshold, what, *s.f.election)
	} else {
		fmt.Fprintf(stdout, "When %d trustees have %s: koe election publish %s\n", e.Manifest.Threshold, what, *s.f.election)
	}
	return nil
}

// election checks the ceremony with the trustee's key file, as decrypt
// and mix need it (trusteeflow.Session.Election), and says so if the key
// file was rewritten to hold only the share.
func (s *trusteeSession) election(stdout io.Writer) (*ballot.Election, *ceremony.Result, error) {
	e, res, saved, err := s.Election()
	if saved {
		fmt.Fprintf(stdout, "Trustee %d: the ceremony verifies; %s now holds only your share of the election secret.\n", s.T.Index, *s.f.key)
	}
	return e, res, err
}

// verifiedTally verifies the record up to the tally before decrypting or
// mixing (trusteeflow.Session.VerifiedTally) and says what it checked.
func (s *trusteeSession) verifiedTally(e *ballot.Election, res *ceremony.Result, stdout io.Writer) (*trusteeflow.Verified, error) {
	v, err := s.VerifiedTally(e, res)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Trustee %d: verified the record up to the tally (%d checks): the tally is the homomorphic sum of the %d counted ballots.\n", s.T.Index, v.Checks, v.Acc.Ballots)
	return v, nil
}

// where is the place's flags, for the next command to run.
func (s *trusteeSession) where() string {
	if *s.f.server != "" {
		return "--server " + *s.f.server + " --election " + *s.f.election
	}
	return "--election " + *s.f.election
}
