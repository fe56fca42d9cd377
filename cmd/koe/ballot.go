package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/record"
)

func runBallot(args []string, stdout, stderr io.Writer) error {
	return subcommand("ballot", args, stdout, stderr, []command{
		{"encrypt", "encrypt answers into a ballot file (and its secret nonces)", ballotEncrypt},
		{"cast", "cast an encrypted ballot into the ballot box", ballotCast},
		{"spoil", "open an encrypted ballot instead of casting it (Benaloh challenge)", ballotSpoil},
	})
}

// ballotSecret is the voter's private side file of an encrypted ballot: the
// values and nonces that open it. It exists until the ballot is cast or spoiled.
type ballotSecret struct {
	Format string           `json:"format"`
	Values ballot.Plaintext `json:"values"`
	Nonces [][]string       `json:"nonces"`
}

const secretFormat = "koe/v2/ballot-secret"

func secretPath(ballotFile string) string { return ballotFile + ".secret" }

// answersFrom merges --answers JSON and repeated --answer q=v flags.
func answersFrom(jsonText string, pairs []string, m *ballot.Manifest) (ballot.Answers, error) {
	a := ballot.Answers{}
	if jsonText != "" {
		var err error
		if a, err = ballot.ParseAnswers([]byte(jsonText)); err != nil {
			return nil, err
		}
	}
	for _, p := range pairs {
		id, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, withHint(usagef("--answer %q is not QUESTION=VALUE", p), "for example --answer plan=yes or --answer fields=health,education")
		}
		var q *ballot.Question
		for i := range m.Questions {
			if m.Questions[i].ID == id {
				q = &m.Questions[i]
			}
		}
		if q == nil {
			return nil, fmt.Errorf("--answer %q: no question %q in the manifest", p, id)
		}
		switch q.Kind {
		case ballot.KindMultiple, ballot.KindRank: // rank: the option ids in rank order
			var list []any
			for _, s := range strings.Split(v, ",") {
				if s != "" {
					list = append(list, s)
				}
			}
			a[id] = list
		case ballot.KindRating:
			var n json.Number = json.Number(v)
			if _, err := n.Float64(); err != nil {
				return nil, fmt.Errorf("--answer %q: %q is not a number", p, v)
			}
			a[id] = n
		default:
			a[id] = v
		}
	}
	return a, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func ballotEncrypt(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe ballot encrypt", "koe ballot encrypt --election DIR (--answers JSON | --answer Q=V ...) [-o FILE]", stderr)
	dir := fs.String("election", "", "the election record directory")
	answersJSON := fs.String("answers", "", `answers as JSON, e.g. '{"plan":"yes"}'`)
	var pairs multiFlag
	fs.Var(&pairs, "answer", "one answer as QUESTION=VALUE (repeatable; multiple choice: a,b,c)")
	out := fs.String("o", "ballot.koe", "where to write the encrypted ballot")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return withHint(usagef("--election is required"), "give the election's record directory, as made by koe election init")
	}
	e, _, err := loadElection(*dir)
	if err != nil {
		return err
	}
	a, err := answersFrom(*answersJSON, pairs, e.Manifest)
	if err != nil {
		return err
	}
	pt, err := e.Manifest.Plaintext(a)
	if err != nil {
		return withHint(err, "the questions are listed in %s", filepath.Join(*dir, record.Manifest))
	}
	var binding [32]byte
	if _, err := rand.Read(binding[:]); err != nil {
		return err
	}
	b, nonces, err := ballot.Encrypt(rand.Reader, e, binding, pt)
	if err != nil {
		return err
	}
	sp := ballot.Spoil(b, pt, nonces)
	secret, _ := json.MarshalIndent(&ballotSecret{Format: secretFormat, Values: pt, Nonces: sp.Nonces}, "", " ")
	if err := writePrivate(secretPath(*out), secret); err != nil {
		return err
	}
	if err := record.WriteFile(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Encrypted ballot written to %s (%d bytes)\n", *out, len(b.Bytes()))
	fmt.Fprintf(stdout, "Tracking code: %s\n", ballot.FormatTrackingCode(b.TrackingCode()))
	fmt.Fprintf(stdout, "Its secret nonces are in %s: keep it private.\n", secretPath(*out))
	fmt.Fprintf(stdout, "Next: koe ballot cast --election %s %s   (or koe ballot spoil … to check the encryption)\n", *dir, *out)
	return nil
}

func writePrivate(name string, data []byte) error { return record.WriteFileMode(name, data, 0o600) }

func readBallotFile(e *ballot.Election, name string) (*ballot.Ballot, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	b, err := ballot.Decode(e, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

func electionClosed(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, record.Tally))
	return !errors.Is(err, fs.ErrNotExist)
}

func ballotCast(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe ballot cast", "koe ballot cast --election DIR BALLOT", stderr)
	dir := fs.String("election", "", "the election record directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *dir == "" || len(pos) != 1 {
		return usagef("koe ballot cast needs --election DIR and one ballot file")
	}
	e, _, err := loadElection(*dir)
	if err != nil {
		return err
	}
	if electionClosed(*dir) {
		return withHint(errors.New("the election is closed: its tally has been computed"), "a ballot can only be cast before koe tally runs")
	}
	b, err := readBallotFile(e, pos[0])
	if err != nil {
		return err
	}
	if err := b.Verify(e); err != nil {
		return err
	}
	if n, err := findCast(*dir, e, b.TrackingCode()); err != nil {
		return err
	} else if n > 0 {
		return withHint(fmt.Errorf("this ballot was already cast (ballot %d)", n), "encrypt a new ballot to vote again")
	}
	w, err := record.AppendBallots(*dir)
	if err != nil {
		return err
	}
	if err := w.Write(b.Bytes()); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	os.Remove(secretPath(pos[0]))
	fmt.Fprintf(stdout, "Ballot cast. Receipt — tracking code:\n  %s\n", ballot.FormatTrackingCode(b.TrackingCode()))
	return nil
}

// findCast returns the 1-based position of the ballot with this tracking
// code in ballots.bin, or 0.
func findCast(dir string, e *ballot.Election, code [32]byte) (int, error) {
	r, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		return 0, err
	}
	defer r.Close()
	for i := 1; ; i++ {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if ballot.TrackingCode(raw) == code {
			return i, nil
		}
	}
}

func ballotSpoil(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe ballot spoil", "koe ballot spoil --election DIR BALLOT", stderr)
	dir := fs.String("election", "", "the election record directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *dir == "" || len(pos) != 1 {
		return usagef("koe ballot spoil needs --election DIR and one ballot file")
	}
	e, _, err := loadElection(*dir)
	if err != nil {
		return err
	}
	b, err := readBallotFile(e, pos[0])
	if err != nil {
		return err
	}
	if n, err := findCast(*dir, e, b.TrackingCode()); err != nil {
		return err
	} else if n > 0 {
		return withHint(errors.New("this ballot was cast: it cannot be spoiled"), "spoil a ballot instead of casting it, never after")
	}
	data, err := os.ReadFile(secretPath(pos[0]))
	if err != nil {
		return withHint(err, "spoiling needs the secret file written next to the ballot by koe ballot encrypt")
	}
	var sec ballotSecret
	if err := record.DecodeStrict(data, &sec); err != nil || sec.Format != secretFormat {
		return fmt.Errorf("%s is not a ballot secret file", secretPath(pos[0]))
	}
	sp := &ballot.Spoiled{Ballot: b.Bytes(), Values: sec.Values, Nonces: sec.Nonces}
	if _, err := sp.Check(e); err != nil {
		return fmt.Errorf("the secret file does not open this ballot: %w", err)
	}
	if err := record.AppendSpoiled(*dir, sp); err != nil {
		return err
	}
	os.Remove(secretPath(pos[0]))
	os.Remove(pos[0])
	fmt.Fprintf(stdout, "Ballot %s spoiled and published; it will not be counted.\n", ballot.FormatTrackingCode(b.TrackingCode()))
	fmt.Fprintf(stdout, "It encrypted: %s\n", formatAnswers(e.Manifest.Answers(sec.Values)))
	fmt.Fprintln(stdout, "If that is what you chose, the encryption is honest: encrypt again and cast the new ballot.")
	return nil
}
