package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/tally"

	"github.com/koe-vote/koe/internal/trusteeflow"
)

// The mix of text and rank answers (SPEC.md §16.6): koe trustee mix posts
// this trustee's round of every mixed question that still needs one, and
// koe trustee decrypt, once a question has its t rounds, its decryption
// share of the final list.

// loadChains rebuilds the mix of every mixed question of the verified
// record in dir (trusteeflow.LoadChains), showing each check on stderr.
func loadChains(dir string, e *ballot.Election, res *ceremony.Result, counted int, stderr io.Writer) ([]*mixnet.Chain, error) {
	return trusteeflow.LoadChains(dir, e, res, counted, func(label string) func() { return startStep(stderr, label) })
}

func trusteeMix(args []string, stdout, stderr io.Writer) error {
	var checkpoint *string
	s, err := newSession("mix", args, stderr, true, func(fs *flag.FlagSet) {
		checkpoint = fs.String("checkpoint", "", "a signed board checkpoint obtained elsewhere (the public site, an observer): the board must extend it")
	})
	if err != nil {
		return err
	}
	if err := s.checkpointFlag(*checkpoint); err != nil {
		return err
	}
	if len(s.M.Mixed()) == 0 {
		return withHint(errors.New("this election has no text or rank question: there is nothing to mix"), "decrypt the tally: koe trustee decrypt")
	}
	e, res, err := s.election(stdout)
	if err != nil {
		return err
	}
	v, err := s.verifiedTally(e, res, stdout)
	if err != nil {
		return err
	}
	t := e.Manifest.Threshold
	outcomes, err := s.Mix(v.Chains)
	posted := 0
	for _, o := range outcomes {
		switch o.What {
		case "already":
			fmt.Fprintf(stdout, "Question %s: already mixed (you mixed round %d of %d).\n", o.Question, o.Round, t)
		case "complete":
			fmt.Fprintf(stdout, "Question %s: the mix is complete (%d rounds, by trustees %v).\n", o.Question, t, o.Mixers)
		case "posted":
			posted++
			fmt.Fprintf(stdout, "Question %s: round %d of %d posted to %s.\n", o.Question, o.Round, t, o.Where)
		}
	}
	if err != nil {
		return err
	}
	var left []string
	for _, c := range v.Chains {
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

// decryptMixed posts the trustee's decryption share of every mixed
// question whose mix is complete and that it has not decrypted, and says
// which are not complete yet.
func (s *trusteeSession) decryptMixed(chains []*mixnet.Chain, stdout io.Writer) error {
	t := s.M.Threshold
	outcomes, err := s.DecryptMixed(chains)
	for _, o := range outcomes {
		switch o.What {
		case "incomplete":
			fmt.Fprintf(stdout, "Question %s: the mix is not complete yet (%d of %d rounds): waiting for round %d; run koe trustee decrypt again once it is.\n", o.Question, o.Round, t, o.Round+1)
		case "already":
			fmt.Fprintf(stdout, "Question %s: already decrypted.\n", o.Question)
		case "posted":
			fmt.Fprintf(stdout, "Question %s: decryption of the mixed list of %d answers (mixed by trustees %v: check with them that they did), with proofs, posted to %s.\n", o.Question, o.Answers, o.Mixers, o.Where)
		}
	}
	return err
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
