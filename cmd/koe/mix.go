package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/tally"
)

// The mix of text and rank answers (SPEC.md §16.6): koe trustee mix posts
// this trustee's round of every mixed question that still needs one, and
// koe trustee decrypt, once a question has its t rounds, its decryption
// share of the final list.

// loadChains rebuilds the mix of every mixed question of the verified
// record in dir: round 0 from the counted ballots (ballots.bin, every one
// of which Counted found counted: acc.Ballots of them), then every round
// and share posted so far, each checked as it is added (the proof of
// shuffle against the list before it, the share's proofs against the
// final list). A record with a board takes them from the board's
// entries, in log order, which Counted checked against the signed
// checkpoint; a record without one from its mixes/ files. Anything
// invalid is an error naming the question, the round or share, and the
// trustee.
func loadChains(dir string, e *ballot.Election, res *ceremony.Result, counted int, stderr io.Writer) ([]*mixnet.Chain, error) {
	mixed := e.Manifest.Mixed()
	if len(mixed) == 0 {
		return nil, nil
	}
	ballots, err := record.DecodeBallots(dir, e)
	if err != nil {
		return nil, err
	}
	if len(ballots) != counted {
		return nil, fmt.Errorf("%s holds %d ballots, %d are counted", record.Ballots, len(ballots), counted)
	}
	var chains []*mixnet.Chain
	byID := map[string]*mixnet.Chain{}
	for _, qi := range mixed {
		c, err := mixnet.NewChain(e, qi, ballots, res.VerificationKeys, e.Manifest.Threshold)
		if err != nil {
			return nil, err
		}
		chains = append(chains, c)
		byID[c.ID] = c
	}
	step := func(c *mixnet.Chain, what string) func() {
		return startStep(stderr, fmt.Sprintf("question %s: checking %s of %d answers", c.ID, what, c.Input.Len()))
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(record.BoardEntries))); err == nil {
		return chains, chainsFromBoard(dir, byID, step)
	}
	for _, c := range chains {
		files, err := record.ListMix(dir, c.ID)
		if err != nil {
			return nil, err
		}
		for r, name := range files.Rounds {
			j := files.Trustees[r]
			msg, err := record.ReadBinary(name, int64(c.NextRoundSize()))
			if err != nil {
				return nil, fmt.Errorf("question %q round %d by trustee %d: %w", c.ID, r+1, j, err)
			}
			done := step(c, fmt.Sprintf("round %d (trustee %d)", r+1, j))
			err = c.AddRound(j, msg)
			done()
			if err != nil {
				return nil, withHint(fmt.Errorf("%s: %w", name, err), "this round is not a valid shuffle of the list before it: remove it and the rounds after it, and tell its trustee")
			}
		}
		for _, j := range record.SortedKeys(files.Shares) {
			name := files.Shares[j]
			share, err := record.ReadBinary(name, int64(c.ShareSize()))
			if err != nil {
				return nil, fmt.Errorf("question %q: trustee %d's decryption share: %w", c.ID, j, err)
			}
			done := step(c, fmt.Sprintf("trustee %d's decryption", j))
			err = c.AddShare(j, share)
			done()
			if err != nil {
				return nil, withHint(fmt.Errorf("%s: %w", name, err), "remove the file, and ask trustee %d to run koe trustee decrypt again", j)
			}
		}
	}
	return chains, nil
}

// chainsFromBoard adds the mix and mix-decryption messages of the record's
// board entries to the chains, in log order.
func chainsFromBoard(dir string, byID map[string]*mixnet.Chain, step func(*mixnet.Chain, string) func()) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(record.BoardEntries)))
	if err != nil {
		return err
	}
	defer f.Close()
	asm := board.Assembler{Size: func(typ string, j int, q string) (int, error) {
		c := byID[q]
		switch {
		case c == nil:
			return 0, fmt.Errorf("no text or rank question %q", q)
		case typ == board.TypeMix:
			return c.NextRoundSize(), nil
		default:
			return c.ShareSize(), nil
		}
	}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), board.MaxEntrySize+1)
	for i := int64(0); sc.Scan(); i++ {
		en, err := board.DecodeEntry(sc.Bytes())
		if err != nil {
			return fmt.Errorf("board entry %d: %w", i, err)
		}
		msg, err := asm.Feed(i, en)
		if err != nil {
			return fmt.Errorf("board: %w", err)
		}
		if msg == nil {
			continue
		}
		c := byID[msg.Question]
		if msg.Type == board.TypeMix {
			done := step(c, fmt.Sprintf("round %d (trustee %d)", len(c.Rounds)+1, msg.Trustee))
			err = c.AddRound(msg.Trustee, msg.Data)
			done()
		} else {
			done := step(c, fmt.Sprintf("trustee %d's decryption", msg.Trustee))
			err = c.AddShare(msg.Trustee, msg.Data)
			done()
		}
		if err != nil {
			return withHint(fmt.Errorf("board entry %d: %w", msg.First, err), "the server accepted an invalid %s message: tell the administrator and the other trustees", msg.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", record.BoardEntries, err)
	}
	if asm.Pending() {
		return fmt.Errorf("board: the entries end inside a mix message")
	}
	return nil
}

// mixedBy returns the round trustee j mixed of c, or 0.
func mixedBy(c *mixnet.Chain, j int) int {
	for r, round := range c.Rounds {
		if round.Trustee == j {
			return r + 1
		}
	}
	return 0
}

func trusteeMix(args []string, stdout, stderr io.Writer) error {
	var checkpoint *string
	s, err := newSession("mix", args, stderr, true, func(fs *flag.FlagSet) {
		checkpoint = fs.String("checkpoint", "", "a signed board checkpoint obtained elsewhere (the public site, an observer): the board must extend it")
	})
	if err != nil {
		return err
	}
	s.checkpoint = *checkpoint
	if len(s.m.Mixed()) == 0 {
		return withHint(errors.New("this election has no text or rank question: there is nothing to mix"), "decrypt the tally: koe trustee decrypt")
	}
	e, res, err := s.election(stdout)
	if err != nil {
		return err
	}
	v, err := s.verifiedTally(e, res, stdout, stderr)
	if err != nil {
		return err
	}
	j, t := s.t.Index, e.Manifest.Threshold
	posted := 0
	for _, c := range v.chains {
		if r := mixedBy(c, j); r > 0 {
			fmt.Fprintf(stdout, "Question %s: already mixed (you mixed round %d of %d).\n", c.ID, r, t)
			continue
		}
		if c.Complete() {
			fmt.Fprintf(stdout, "Question %s: the mix is complete (%d rounds, by trustees %v).\n", c.ID, t, mixers(c))
			continue
		}
		if err := c.CanMix(j); err != nil {
			return err
		}
		if err := s.place.checkMixState(c); err != nil {
			return err
		}
		r := len(c.Rounds) + 1
		done := startStep(stderr, fmt.Sprintf("question %s: shuffling %d answers of %d ciphertexts (round %d of %d)", c.ID, c.Input.Len(), c.Input.Width(), r, t))
		msg, err := c.Mix(rand.Reader, j, s.t.Share())
		done()
		if err != nil {
			return fmt.Errorf("question %q: %w", c.ID, err)
		}
		done = startStep(stderr, fmt.Sprintf("question %s: checking your proof of shuffle", c.ID))
		round, err := c.CheckRound(j, msg)
		done()
		if err != nil {
			return fmt.Errorf("your round does not verify: %w", err)
		}
		where, err := s.place.publishRound(c, j, msg)
		if err != nil {
			return fmt.Errorf("question %q round %d: %w", c.ID, r, err)
		}
		c.Add(round)
		posted++
		fmt.Fprintf(stdout, "Question %s: round %d of %d posted to %s.\n", c.ID, r, t, where)
	}
	var left []string
	for _, c := range v.chains {
		if !c.Complete() {
			left = append(left, fmt.Sprintf("%s (%d of %d rounds)", c.ID, len(c.Rounds), t))
		}
	}
	if len(left) == 0 {
		fmt.Fprintf(stdout, "The mix is complete. Next: at least %d trustees run koe trustee decrypt %s --key KEYFILE\n", t, s.where())
	} else {
		fmt.Fprintf(stdout, "Still to mix: %v. Next: another qualified trustee runs koe trustee mix %s --key KEYFILE\n", left, s.where())
	}
	if posted == 0 && len(left) > 0 {
		fmt.Fprintf(stdout, "You have mixed every question you can: each needs %d rounds by distinct trustees.\n", t)
	}
	return nil
}

// mixers lists the trustees who mixed c, in round order.
func mixers(c *mixnet.Chain) []int {
	var out []int
	for _, r := range c.Rounds {
		out = append(out, r.Trustee)
	}
	return out
}

// decryptMixed posts trustee j's decryption share of every mixed question
// whose mix is complete and that it has not decrypted, and says which are
// not complete yet.
func (s *trusteeSession) decryptMixed(chains []*mixnet.Chain, stdout, stderr io.Writer) error {
	j, t := s.t.Index, s.m.Threshold
	for _, c := range chains {
		if !c.Complete() {
			fmt.Fprintf(stdout, "Question %s: the mix is not complete yet (%d of %d rounds): waiting for round %d; run koe trustee decrypt again once it is.\n", c.ID, len(c.Rounds), t, len(c.Rounds)+1)
			continue
		}
		if js, _ := c.Shares(); slices.Contains(js, j) {
			fmt.Fprintf(stdout, "Question %s: already decrypted.\n", c.ID)
			continue
		}
		done := startStep(stderr, fmt.Sprintf("question %s: decrypting the mixed list of %d answers", c.ID, c.Input.Len()))
		share, err := c.Decrypt(rand.Reader, j, s.t.Share())
		done()
		if err != nil {
			return fmt.Errorf("question %q: %w", c.ID, err)
		}
		if err := c.AddShare(j, share); err != nil {
			return fmt.Errorf("your decryption of question %q does not verify: %w", c.ID, err)
		}
		where, err := s.place.publishMixShare(c, j, share)
		if err != nil {
			return fmt.Errorf("question %q: %w", c.ID, err)
		}
		fmt.Fprintf(stdout, "Question %s: decryption of the mixed list of %d answers (mixed by trustees %v: check with them that they did), with proofs, posted to %s.\n", c.ID, c.Input.Len(), mixers(c), where)
	}
	return nil
}

// mixedResults combines the decryption shares of every mixed question's
// final list (at least t each) and counts the answers.
func mixedResults(chains []*mixnet.Chain, t int) ([]*tally.MixedResult, error) {
	var out []*tally.MixedResult
	for _, c := range chains {
		if !c.Complete() {
			return nil, withHint(fmt.Errorf("question %q: the mix is not complete (%d of %d rounds)", c.ID, len(c.Rounds), t), "%d qualified trustees run koe trustee mix, then koe trustee decrypt", t)
		}
		if js, _ := c.Shares(); len(js) < t {
			return nil, withHint(fmt.Errorf("question %q: %d trustees decrypted the mixed list, the threshold is %d", c.ID, len(js), t), "at least %d trustees run koe trustee decrypt once the mix is complete", t)
		}
		r, err := c.Result()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// dirPlace: a round or share is a file of the record's mixes/ (SPEC.md §16.6).

// checkMixState has nothing to compare in a directory: the chain was
// just rebuilt from its own files.
func (d dirPlace) checkMixState(c *mixnet.Chain) error { return nil }

func (d dirPlace) publishRound(c *mixnet.Chain, j int, msg []byte) (string, error) {
	name := record.MixRoundFile(string(d), c.ID, len(c.Rounds)+1, j)
	if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s already exists", name)
	}
	return name, record.WriteFile(name, msg)
}

func (d dirPlace) publishMixShare(c *mixnet.Chain, j int, share []byte) (string, error) {
	name := record.MixShareFile(string(d), c.ID, j)
	return name, record.WriteFile(name, share)
}

// printMixed prints the results of the text and rank questions (SPEC.md
// §16.4–16.6): a text question's number of comments and the first few, a
// rank question's Borda scores as bars and its Schulze winners.
func printMixed(w io.Writer, m *ballot.Manifest, mixed []*tally.MixedResult) {
	const shown, width = 3, 60
	for _, mr := range mixed {
		qi := slices.IndexFunc(m.Questions, func(q ballot.Question) bool { return q.ID == mr.Question })
		if qi < 0 {
			continue
		}
		q := &m.Questions[qi]
		fmt.Fprintf(w, "\n  %d. %s\n     %s\n", qi+1, q.Label.Ja, q.Label.In("en"))
		switch mr.Kind {
		case ballot.KindText:
			fmt.Fprintf(w, "     %d 件の意見 / %d comments", len(mr.Comments), len(mr.Comments))
			if mr.Empty > 0 {
				fmt.Fprintf(w, ", %d 件は空欄 / %d left empty", mr.Empty, mr.Empty)
			}
			if mr.Invalid > 0 {
				fmt.Fprintf(w, ", %d 件は無効 / %d invalid", mr.Invalid, mr.Invalid)
			}
			fmt.Fprintln(w, " (shuffled: nobody can tell whose is whose)")
			for _, c := range mr.Comments[:min(shown, len(mr.Comments))] {
				fmt.Fprintf(w, "       「%s」\n", ellipsis(c, width))
			}
			if len(mr.Comments) > shown {
				fmt.Fprintf(w, "       … and %d more in mixed/%s.json\n", len(mr.Comments)-shown, mr.Question)
			}
		case ballot.KindRank:
			fmt.Fprintf(w, "     %d 件の順位付け / %d valid rankings", mr.Valid, mr.Valid)
			if mr.Invalid > 0 {
				fmt.Fprintf(w, ", %d 件は無効 / %d invalid", mr.Invalid, mr.Invalid)
			}
			fmt.Fprintln(w, "; Borda score (first choice: n−1 points)")
			most := 1
			for _, b := range mr.Borda {
				most = max(most, b)
			}
			for oi, o := range q.Options {
				if oi >= len(mr.Borda) {
					break
				}
				fmt.Fprintf(w, "     %s %8d  %s\n", bar(mr.Borda[oi], most, 30), mr.Borda[oi], optionLabel(o))
			}
			var names []string
			for _, id := range mr.Winners {
				for _, o := range q.Options {
					if o.ID == id {
						names = append(names, optionLabel(o))
					}
				}
			}
			switch len(names) {
			case 0:
				fmt.Fprintln(w, "     Schulze 勝者なし / no Schulze winner")
			case 1:
				fmt.Fprintf(w, "     Schulze 勝者 / winner: %s\n", names[0])
			default:
				fmt.Fprintf(w, "     Schulze 同順位 / tie: %s\n", strings.Join(names, "; "))
			}
		}
	}
}

func optionLabel(o ballot.Option) string {
	label := o.Label.Ja
	if en := o.Label.In("en"); en != label {
		label += " / " + en
	}
	return label
}

// ellipsis shortens s to n characters, on one line.
func ellipsis(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
