package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/term"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/strictjson"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/verify"
)

const trusteeKind = "koe/v2/trustee-secret"

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

// A place is where a trustee reads the election and the others' messages
// and publishes its own: an election record directory, or a server.
type place interface {
	manifest() ([]byte, error)
	// messages returns every trustee's message of a round, by trustee.
	messages(round string) (map[int][]byte, error)
	publish(round string, j int, v any) (string, error)
	// tally returns the encrypted tally the trustees are asked to decrypt.
	tally() (*tally.Encrypted, error)
	// record returns a directory holding the election record to verify
	// before decrypting, and a function that removes what it fetched.
	record() (string, func(), error)
	publishShare(s *tally.Share) (string, error)
	// checkMixState refuses to mix c if the place shows it otherwise
	// than the record that was verified (another round posted since).
	checkMixState(c *mixnet.Chain) error
	// publishRound publishes trustee j's next round of c's mix.
	publishRound(c *mixnet.Chain, j int, msg []byte) (string, error)
	// publishMixShare publishes trustee j's decryption share of c's final list.
	publishMixShare(c *mixnet.Chain, j int, share []byte) (string, error)
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
	p := &serverPlace{c: client.New(*f.server, token), id: *f.election, state: *f.key + ".board"}
	if *f.monitor != "" {
		p.monitor = client.New(*f.monitor, "")
	}
	return p, nil
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

func (d dirPlace) tally() (*tally.Encrypted, error) {
	return readTally(string(d))
}

func (d dirPlace) record() (string, func(), error) { return string(d), func() {}, nil }
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

// A serverPlace reads the manifest and the ceremony from the election's
// board, every entry proved against a signed checkpoint (SPEC.md §6.6), and
// keeps in the state file next to the trustee's key the board key it
// pinned on first use and the last checkpoint it saw, which every later
// checkpoint must extend.
type serverPlace struct {
	c      *client.Client
	id     string
	state  string // KEY.board
	view   *client.BoardCeremony
	pinned string // the board key, if pinned by this command (first use)
	// monitor, if not nil, is a monitor's mirror whose checkpoint the
	// board read must be consistent with (SPEC.md §13.9).
	monitor *client.Client
}

// boardState is the state file: public values only.
type boardState struct {
	BoardKey   string `json:"boardKey"`
	Checkpoint string `json:"checkpoint"`
}

func (p *serverPlace) describe() string {
	s := p.c.Base + " election " + p.id
	if p.view != nil {
		cp := p.view.Checkpoint
		s += fmt.Sprintf(" (board checked at size %d, root %x)", cp.Size, cp.Hash[:8])
	}
	if p.pinned != "" {
		s += fmt.Sprintf("; board key %s pinned in %s: check that it is the one the administrator announced", p.pinned, p.state)
	}
	return s
}

// board reads the ceremony from the board once per command.
func (p *serverPlace) board() (*client.BoardCeremony, error) {
	if p.view != nil {
		return p.view, nil
	}
	ctx := context.Background()
	var st boardState
	var prev []byte
	switch data, err := os.ReadFile(p.state); {
	case err == nil:
		if err := strictjson.Decode(data, &st); err != nil {
			return nil, withHint(fmt.Errorf("%s: %w", p.state, err), "this file keeps the board key and the last checkpoint you saw; restore it from your backup")
		}
		prev = []byte(st.Checkpoint)
	case errors.Is(err, os.ErrNotExist):
		if st.BoardKey, err = p.c.BoardKey(ctx, p.id); err != nil {
			return nil, err
		}
		p.pinned = st.BoardKey
	default:
		return nil, err
	}
	verifier, err := board.ParseVerifierKey(st.BoardKey)
	if err != nil {
		return nil, fmt.Errorf("board key %q: %w", st.BoardKey, err)
	}
	view, err := p.c.CeremonyFromBoard(ctx, p.id, verifier, prev)
	if err != nil {
		return nil, withHint(fmt.Errorf("refusing the server's board: %w", err), "the server (or something between you and it) shows you a board other than the one it signed or showed you before; tell the administrator and the other trustees, and compare checkpoints with them")
	}
	if p.monitor != nil {
		cp := view.Checkpoint
		if _, err := client.CompareWithMonitor(ctx, p.monitor, p.id, verifier, cp, func(n int64) (tlog.TreeProof, error) {
			return p.c.ProveTree(ctx, p.id, cp, n)
		}); err != nil {
			return nil, withHint(fmt.Errorf("refusing the server's board: it and the monitor %s's are not one history: %w", p.monitor.Base, err), "the server shows you, or the monitor, a forked board; tell the administrator, the other trustees and the monitor's organisation, and do not go on")
		}
	}
	st.Checkpoint = string(view.Checkpoint.Note)
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.state, append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	p.view = view
	return view, nil
}

func (p *serverPlace) manifest() ([]byte, error) {
	v, err := p.board()
	if err != nil {
		return nil, err
	}
	return v.Manifest, nil
}

func (p *serverPlace) messages(round string) (map[int][]byte, error) {
	v, err := p.board()
	if err != nil {
		return nil, err
	}
	out := map[int][]byte{}
	for j, m := range v.Messages[round] {
		out[j] = m
	}
	return out, nil
}

func (p *serverPlace) publish(round string, j int, v any) (string, error) {
	return p.describe(), p.c.PostCeremony(context.Background(), p.id, round, v)
}

func (p *serverPlace) tally() (*tally.Encrypted, error) {
	return p.c.Tally(context.Background(), p.id)
}

// record downloads the board and the record the server derives from it:
// the trustee verifies them itself rather than trust the server's tally.
func (p *serverPlace) record() (string, func(), error) {
	dir, err := p.c.FetchRecord(context.Background(), p.id)
	if err != nil {
		return "", nil, withHint(fmt.Errorf("fetching the election record to verify before decrypting: %w", err), "the server must serve %s; without it you cannot check what you would decrypt", api.ElectionPath(p.id, "/record"))
	}
	return dir, func() { os.RemoveAll(dir) }, nil
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
	sub   string // the subcommand
	place place
	m     *ballot.Manifest
	raw   []byte
	ctx   []byte
	p     ceremony.Params
	t     *ceremony.Trustee
	pass  []byte
	// checkpoint, for decrypt, names a signed checkpoint the board must extend.
	checkpoint string
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
	if *index < 1 || *index > s.m.Trustees {
		return usagef("--index must be 1..%d", s.m.Trustees)
	}
	if _, err := os.Stat(*s.f.key); err == nil {
		return withHint(fmt.Errorf("%s already exists", *s.f.key), "a trustee makes its key once; choose another file name or remove the old one deliberately")
	}
	if msgs, err := s.place.messages(ceremony.RoundAnnounce); err != nil {
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
	where, err := s.place.publish(ceremony.RoundAnnounce, *index, ann)
	if err != nil {
		os.Remove(*s.f.key)
		if client.IsCode(err, api.CodeStaleManifest) {
			return withHint(err, "the administrator edited the draft's manifest after koe read it; nothing was published and %s was removed: run the same koe trustee keygen command again, it reads the current manifest", *s.f.key)
		}
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
	anns, err := round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	d, err := s.t.Deal(rand.Reader, s.ctx, anns)
	if err != nil {
		return err
	}
	where, err := s.place.publish(ceremony.RoundDeal, s.t.Index, d)
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
	anns, err := round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	deals, err := round(s, ceremony.RoundDeal, ceremony.DecodeDealing)
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
	where, err := s.place.publish(ceremony.RoundVerdict, s.t.Index, v)
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
	anns, err := round(s, ceremony.RoundAnnounce, ceremony.DecodeAnnouncement)
	if err != nil {
		return err
	}
	verdicts, err := round(s, ceremony.RoundVerdict, ceremony.DecodeVerdict)
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
	where, err := s.place.publish(ceremony.RoundRespond, s.t.Index, rs)
	if err != nil {
		return err
	}
	if against := ceremony.ComplaintsAgainst(s.t.Index, verdicts); len(against) >= s.p.T {
		fmt.Fprintf(stdout, "Trustee %d: %d trustees %v complain against you, t = %d or more: you are disqualified, and reveal no share (it would publish your polynomial).\n", s.t.Index, len(against), against, s.p.T)
	} else {
		fmt.Fprintf(stdout, "Trustee %d: %d complaint(s) against you answered in %s.\n", s.t.Index, len(rs), where)
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
	tr, err := s.transcript()
	if err != nil {
		return err
	}
	res, err := s.t.Finish(s.ctx, tr)
	if err != nil {
		return withHint(err, "wait until every trustee has responded (%s); if the ceremony failed, the administrator restarts it", s.place.describe())
	}
	if err := saveTrustee(*s.f.key, s.t, s.pass); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Trustee %d: the ceremony verifies; qualified trustees %v, joint key %x.\n", s.t.Index, res.Qual, res.JointKey.Bytes())
	fmt.Fprintf(stdout, "%s now holds only your share of the election secret (your coefficients, received shares and HPKE key are erased).\n", *s.f.key)
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "The administrator opens the election: koe admin open --election %s\n", *s.f.election)
	} else {
		fmt.Fprintf(stdout, "The administrator runs: koe election key %s\n", *s.f.election)
	}
	return nil
}

// transcript assembles the ceremony transcript from the place.
func (s *trusteeSession) transcript() (*ceremony.Transcript, error) {
	tr := &ceremony.Transcript{Params: s.p}
	for _, r := range []string{ceremony.RoundAnnounce, ceremony.RoundDeal, ceremony.RoundVerdict, ceremony.RoundRespond} {
		msgs, err := s.place.messages(r)
		if err != nil {
			return nil, err
		}
		for j := 1; j <= s.p.N; j++ {
			if data, ok := msgs[j]; ok {
				if err := tr.AddMessage(r, j, data); err != nil {
					return nil, err
				}
			}
		}
	}
	return tr, nil
}

func trusteeDecrypt(args []string, stdout, stderr io.Writer) error {
	var checkpoint *string
	s, err := newSession("decrypt", args, stderr, true, func(fs *flag.FlagSet) {
		checkpoint = fs.String("checkpoint", "", "a signed board checkpoint obtained elsewhere (the public site, an observer): the board must extend it")
	})
	if err != nil {
		return err
	}
	s.checkpoint = *checkpoint
	e, res, err := s.election(stdout)
	if err != nil {
		return err
	}
	v, err := s.verifiedTally(e, res, stdout, stderr)
	if err != nil {
		return err
	}
	acc := v.acc
	if v.decrypted {
		fmt.Fprintf(stdout, "Trustee %d: you have already decrypted the tally (%s).\n", s.t.Index, s.place.describe())
	} else {
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
	}
	if err := s.decryptMixed(v.chains, stdout, stderr); err != nil {
		return err
	}
	what := "decrypted"
	if len(v.chains) > 0 {
		what = "decrypted the tally and every mixed question"
	}
	if *s.f.server != "" {
		fmt.Fprintf(stdout, "When %d trustees have %s: koe admin publish --election %s\n", e.Manifest.Threshold, what, *s.f.election)
	} else {
		fmt.Fprintf(stdout, "When %d trustees have %s: koe election publish %s\n", e.Manifest.Threshold, what, *s.f.election)
	}
	return nil
}

// election checks the ceremony from the place with the trustee's key
// file, as decrypt and mix need it, and returns the election and the
// ceremony's result. A trustee that skipped koe trustee finish keeps only
// its share from then on, as finish would have left it (SPEC.md §6.5).
func (s *trusteeSession) election(stdout io.Writer) (*ballot.Election, *ceremony.Result, error) {
	tr, err := s.transcript()
	if err != nil {
		return nil, nil, err
	}
	finished := s.t.Finished()
	res, err := s.t.Finish(s.ctx, tr)
	if err != nil {
		return nil, nil, err
	}
	if !finished {
		if err := saveTrustee(*s.f.key, s.t, s.pass); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "Trustee %d: the ceremony verifies; %s now holds only your share of the election secret.\n", s.t.Index, *s.f.key)
	}
	reg, err := s.place.registrar()
	if err != nil {
		return nil, nil, err
	}
	e, err := ballot.NewElection(s.raw, res.JointKey, reg)
	if err != nil {
		return nil, nil, err
	}
	return e, res, nil
}

// where is the place's flags, for the next command to run.
func (s *trusteeSession) where() string {
	if *s.f.server != "" {
		return "--server " + *s.f.server + " --election " + *s.f.election
	}
	return "--election " + *s.f.election
}

// errRefuse is wrapped by every reason a trustee refuses to decrypt, and
// errRefuseMix to mix.
var (
	errRefuse    = errors.New("refusing to decrypt")
	errRefuseMix = errors.New("refusing to mix")
)

func (s *trusteeSession) refusal() error {
	if s.sub == "mix" {
		return errRefuseMix
	}
	return errRefuse
}

// verifiedTally runs the verifier's steps up to the tally (SPEC.md §9.2,
// §11 steps 1–5) on the record at the trustee's place, a directory or the
// record and board downloaded from the server, and returns the tally to
// decrypt: the homomorphic sum of exactly the counted ballots. It refuses,
// naming the check that failed, if the record does not verify, if it is
// not the election of the trustee's own ceremony, if the tally the
// trustee is asked to decrypt is not that sum, or if it counts fewer
// ballots than the manifest's privacy threshold.
//
// It also returns whether the record holds the trustee's decryption of
// the tally already, and the mix of every text and rank question so far,
// each round and share checked (loadChains).
func (s *trusteeSession) verifiedTally(e *ballot.Election, res *ceremony.Result, stdout, stderr io.Writer) (*verifiedRecord, error) {
	dir, cleanup, err := s.place.record()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	verifyHint := "see the whole report with koe verify " + dir
	if *s.f.server != "" {
		verifyHint = fmt.Sprintf("see the whole report with koe verify --server %s --election %s; do not decrypt until it passes", *s.f.server, *s.f.election)
	}
	var p *progress
	rep, recRes, acc := verify.Counted(dir, verify.Options{Progress: func(stage string, done, total int) {
		if p == nil {
			p = newProgress(stderr, "verifying "+stage+" before "+map[string]string{"mix": "mixing"}[s.sub]+map[string]string{"decrypt": "decrypting"}[s.sub], total)
		}
		p.set(done)
	}})
	if acc == nil {
		fails := rep.Failures()
		if len(fails) == 0 {
			fails = []verify.Check{{What: "record", Detail: "nothing to verify"}}
		}
		var msgs []string
		for _, f := range fails[:min(len(fails), 3)] {
			msgs = append(msgs, f.What+": "+f.Detail)
		}
		if len(fails) > 3 {
			msgs = append(msgs, fmt.Sprintf("and %d more problems", len(fails)-3))
		}
		return nil, withHint(fmt.Errorf("%w: the election record does not verify up to the tally: %s", s.refusal(), strings.Join(msgs, "; ")), "%s", verifyHint)
	}
	if s.checkpoint != "" {
		signed, err := os.ReadFile(s.checkpoint)
		if err != nil {
			return nil, err
		}
		if err := verify.Extends(dir, signed); err != nil {
			return nil, withHint(fmt.Errorf("%w: the board does not extend the checkpoint in %s: %v", s.refusal(), s.checkpoint, err), "the server may be showing you another board than the one others see; compare checkpoints with the observers")
		}
	}
	raw, err := record.ReadFile(filepath.Join(dir, record.Manifest))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(raw, s.raw) {
		return nil, withHint(fmt.Errorf("%w: the record's manifest is not the election's manifest you read from %s", s.refusal(), s.place.describe()), "%s", verifyHint)
	}
	Y, qualified := recRes.VerificationKeys[s.t.Index]
	if !group.Equal(rep.Election.Key, e.Key) || !qualified || !group.Equal(Y, res.VerificationKeys[s.t.Index]) {
		return nil, withHint(fmt.Errorf("%w: the record's key ceremony is not the one your key file finished (another joint key or verification key)", s.refusal()), "%s", verifyHint)
	}

	// The tally asked for, and the one on the record, are the sum.
	asked, err := s.place.tally()
	if err != nil {
		if client.IsCode(err, api.CodeNoTally) {
			return nil, withHint(errors.New("the election has no tally yet"), "the administrator tallies it first (koe tally, or koe admin tally)")
		}
		return nil, err
	}
	if err := verify.CheckTally(acc, asked); err != nil {
		return nil, withHint(fmt.Errorf("%w: the tally you are asked to decrypt (from %s) is not the homomorphic sum of the %d counted ballots: it %v", s.refusal(), s.place.describe(), acc.Ballots, err), "decrypting it could reveal single ballots; tell the other trustees and the election's observers")
	}
	var onRecord tally.Encrypted
	if err := record.ReadJSON(filepath.Join(dir, record.Tally), &onRecord); err != nil {
		return nil, withHint(fmt.Errorf("%w: the record has no tally: %v", s.refusal(), err), "%s", verifyHint)
	}
	if err := verify.CheckTally(acc, &onRecord); err != nil {
		return nil, withHint(fmt.Errorf("%w: the record's tally is not the homomorphic sum of the %d counted ballots: it %v", s.refusal(), acc.Ballots, err), "%s", verifyHint)
	}
	if err := tally.CheckPrivacy(e.Manifest, acc.Ballots); err != nil {
		return nil, withHint(fmt.Errorf("%w: %d ballots were counted, fewer than the manifest's privacy threshold of %d", s.refusal(), acc.Ballots, e.Manifest.PrivacyThreshold()), "so few ballots would disclose how their voters answered: the results of this election are withheld")
	}
	fmt.Fprintf(stdout, "Trustee %d: verified the record up to the tally (%d checks): the tally is the homomorphic sum of the %d counted ballots.\n", s.t.Index, len(rep.Checks), acc.Ballots)
	v := &verifiedRecord{acc: acc}
	if _, err := os.Stat(record.DecryptionFile(dir, s.t.Index)); err == nil {
		v.decrypted = true
	}
	if v.chains, err = loadChains(dir, e, recRes, acc.Ballots, stderr); err != nil {
		return nil, withHint(fmt.Errorf("%w: the mix of the text and rank answers: %w", s.refusal(), err), "%s", verifyHint)
	}
	return v, nil
}

// verifiedRecord is what a trustee verified before acting.
type verifiedRecord struct {
	acc       *tally.Accumulator // the sum of exactly the counted ballots
	decrypted bool               // the trustee's decryption of the tally is on the record
	chains    []*mixnet.Chain    // the mix of every mixed question so far, checked
}
