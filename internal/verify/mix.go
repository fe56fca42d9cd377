package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/group"
	"github.com/koe-vote/koe/internal/mixnet"
	"github.com/koe-vote/koe/internal/record"
	"github.com/koe-vote/koe/internal/shuffle"
	"github.com/koe-vote/koe/internal/tally"
)

// mixStage is the Progress stage of the mix checks.
const mixStage = "mixes"

// checkMixes runs SPEC.md §11 step 11 on the record in dir: for each text
// or rank question, its rounds (record.ListMix) in order through a
// mixnet.Chain started from the counted ballots (ballots.bin without the
// excluded ones), then its decryption shares in ascending trustee order;
// with the results published, exactly t rounds, at least t valid shares,
// and mixed/Q.json equal to the recomputed answers. It returns the
// recomputed results of the questions whose check reached them, by id;
// complete is false if a question failed before its result.
func checkMixes(r *Report, dir string, e *ballot.Election, res *ceremony.Result, excluded []int, published bool, opt Options) (out map[string]*tally.MixedResult, complete bool) {
	mixed := e.Manifest.Mixed()
	out = map[string]*tally.MixedResult{}
	if len(mixed) == 0 {
		return out, true
	}
	ballots, err := countedList(dir, e, excluded)
	if err != nil {
		r.fail(record.MixesDir, "%v", err)
		return out, false
	}
	// Read the listings first, so that progress knows the whole work.
	files := make([]*record.MixFiles, len(mixed))
	listErr := make([]error, len(mixed))
	total := 0
	for n, qi := range mixed {
		files[n], listErr[n] = record.ListMix(dir, e.Manifest.Questions[qi].ID)
		if listErr[n] == nil {
			total += len(files[n].Rounds) + len(files[n].Shares)
		}
	}
	done := 0
	step := func() {
		done++
		if opt.Progress != nil {
			opt.Progress(mixStage, done, total)
		}
	}
	if opt.Progress != nil && total > 0 {
		opt.Progress(mixStage, 0, total)
	}
	complete = true
	for n, qi := range mixed {
		q := &e.Manifest.Questions[qi]
		what := record.MixesDir + "/" + q.ID
		if listErr[n] != nil {
			r.fail(what, "%v", listErr[n])
			complete = false
			continue
		}
		mr := checkMix(r, what, dir, e, res, qi, ballots, files[n], published, step)
		if mr == nil {
			complete = false
			continue
		}
		out[q.ID] = mr
	}
	return out, complete
}

// checkMix checks one question's mix; it returns the recomputed result if
// the results are published and every check of the question passed.
func checkMix(r *Report, what, dir string, e *ballot.Election, res *ceremony.Result, qi int, ballots []*ballot.Ballot, files *record.MixFiles, published bool, step func()) *tally.MixedResult {
	q := &e.Manifest.Questions[qi]
	t := e.Manifest.Threshold
	c, err := mixnet.NewChain(e, qi, ballots, res.VerificationKeys, t)
	if err != nil {
		r.fail(what, "%v", err)
		return nil
	}
	if len(files.Rounds) > t {
		r.fail(what, "%d round files; the mix has exactly %d rounds (the threshold), so round %d (%s) and after are not part of it", len(files.Rounds), t, t+1, filepath.Base(files.Rounds[t]))
		return nil
	}
	for k, name := range files.Rounds {
		round, j := k+1, files.Trustees[k]
		file := what + "/" + filepath.Base(name)
		msg, err := record.ReadBinary(name, int64(c.NextRoundSize()))
		if err == nil {
			err = c.AddRound(j, msg)
		}
		step()
		if err != nil {
			who := fmt.Sprintf("question %q round %d by trustee %d: ", q.ID, round, j)
			r.fail(file, "%s%s", who, strings.TrimPrefix(trimRound(err), who))
			if k+1 < len(files.Rounds) {
				r.fail(what, "rounds %d..%d not checked: each shuffles the list of the round before", round+1, len(files.Rounds))
			}
			return nil
		}
	}
	js := make([]int, 0, len(files.Shares))
	for j := range files.Shares {
		js = append(js, j)
	}
	slices.Sort(js)
	if len(js) > 0 && !c.Complete() {
		r.fail(what, "decryption shares of trustees %v stand beside %d of the %d rounds: a share decrypts the final list only", js, len(c.Rounds), t)
		return nil
	}
	var bad []int
	for _, j := range js {
		file := what + "/" + filepath.Base(files.Shares[j])
		data, err := record.ReadBinary(files.Shares[j], int64(c.ShareSize()))
		if err == nil {
			err = c.AddShare(j, data)
		}
		step()
		if err != nil {
			r.fail(file, "question %q, trustee %d's decryption of the final list: %s", q.ID, j, strings.TrimPrefix(trimShare(err), fmt.Sprintf("question %q: ", q.ID)))
			bad = append(bad, j)
		}
	}
	valid, _ := c.Shares()
	if len(c.Rounds) > 0 {
		r.pass(what, "%d rounds by trustees %v: every proof of shuffle of the %d answers verifies; valid decryption shares of trustees %v", len(c.Rounds), trusteesOf(c), c.Input.Len(), valid)
	}
	if !published {
		return nil
	}
	if !c.Complete() {
		r.fail(what, "the results are published but question %q has %d of its %d rounds", q.ID, len(c.Rounds), t)
		return nil
	}
	if len(valid) < t {
		r.fail(what, "the results are published but question %q has %d valid decryption shares of its final list, the threshold is %d", q.ID, len(valid), t)
		return nil
	}
	mr, err := c.Result()
	if err != nil {
		r.fail(what, "decrypting the final list: %v", err)
		return nil
	}
	name := record.MixedFile(dir, q.ID)
	file := record.MixedDir + "/" + q.ID + ".json"
	var got tally.MixedResult
	if err := record.ReadJSON(name, &got); err != nil {
		r.fail(file, "%v", err)
		return mr
	}
	if diff := compareMixed(mr, &got); diff != "" {
		r.fail(file, "does not follow from the final list and the decryption shares of trustees %v: %s", valid, diff)
		return mr
	}
	r.pass(file, "%s", describeMixed(mr, valid))
	return mr
}

// trimRound and trimShare drop the sentinel prefixes of mixnet's errors:
// the failure line names the question, round and trustee itself.
func trimRound(err error) string { return trimSentinel(err, mixnet.ErrRound) }
func trimShare(err error) string { return trimSentinel(err, mixnet.ErrShare) }

func trimSentinel(err, sentinel error) string {
	s := err.Error()
	if errors.Is(err, sentinel) {
		if p := sentinel.Error() + ": "; len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

func trusteesOf(c *mixnet.Chain) []int {
	out := make([]int, len(c.Rounds))
	for i, r := range c.Rounds {
		out[i] = r.Trustee
	}
	return out
}

func describeMixed(mr *tally.MixedResult, shares []int) string {
	if mr.Kind == ballot.KindRank {
		return fmt.Sprintf("%d valid and %d invalid rankings, winners %v: as the decryption by trustees %v gives them", mr.Valid, mr.Invalid, mr.Winners, shares)
	}
	return fmt.Sprintf("%d comments, %d empty and %d invalid answers: as the decryption by trustees %v gives them", len(mr.Comments), mr.Empty, mr.Invalid, shares)
}

// compareMixed says how a published mixed/Q.json differs from the
// recomputed result, "" if it does not (SPEC.md §16.6).
func compareMixed(want, got *tally.MixedResult) string {
	switch {
	case got.Question != want.Question:
		return fmt.Sprintf("question %q, want %q", got.Question, want.Question)
	case got.Kind != want.Kind:
		return fmt.Sprintf("kind %q, want %q", got.Kind, want.Kind)
	case len(got.Comments) != len(want.Comments):
		return fmt.Sprintf("%d comments, the decryption gives %d", len(got.Comments), len(want.Comments))
	}
	for i := range want.Comments {
		if got.Comments[i] != want.Comments[i] {
			return fmt.Sprintf("comment %d is %q, the decryption gives %q", i+1, got.Comments[i], want.Comments[i])
		}
	}
	switch {
	case got.Empty != want.Empty:
		return fmt.Sprintf("%d empty answers, the decryption gives %d", got.Empty, want.Empty)
	case got.Invalid != want.Invalid:
		return fmt.Sprintf("%d invalid answers, the decryption gives %d", got.Invalid, want.Invalid)
	case got.Valid != want.Valid:
		return fmt.Sprintf("%d valid rankings, the decryption gives %d", got.Valid, want.Valid)
	case !slices.Equal(got.Borda, want.Borda):
		return fmt.Sprintf("Borda scores %v, the decryption gives %v", got.Borda, want.Borda)
	case !slices.EqualFunc(got.Pairwise, want.Pairwise, slices.Equal):
		return fmt.Sprintf("pairwise matrix %v, the decryption gives %v", got.Pairwise, want.Pairwise)
	case !slices.Equal(got.Winners, want.Winners):
		return fmt.Sprintf("winners %v, the decryption gives %v", got.Winners, want.Winners)
	}
	return ""
}

// mixFilesPresent counts the round and share files of the record's mixed
// questions (a listing that fails counts as one).
func mixFilesPresent(dir string, e *ballot.Election) int {
	n := 0
	for _, qi := range e.Manifest.Mixed() {
		files, err := record.ListMix(dir, e.Manifest.Questions[qi].ID)
		if err != nil {
			n++
			continue
		}
		n += len(files.Rounds) + len(files.Shares)
	}
	return n
}

// countedList decodes the ballots of ballots.bin but the excluded ones
// (indexes in increasing order): the ballots verification counts, in
// order, round 0 of every mix (SPEC.md §16.6). They were verified already.
func countedList(dir string, e *ballot.Election, excluded []int) ([]*ballot.Ballot, error) {
	br, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		return nil, err
	}
	defer br.Close()
	var out []*ballot.Ballot
	for i := 0; ; i++ {
		raw, err := br.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(excluded) > 0 && excluded[0] == i {
			excluded = excluded[1:]
			continue
		}
		b, err := ballot.Decode(e, raw)
		if err != nil {
			return nil, fmt.Errorf("ballot %d: %v", i+1, err)
		}
		out = append(out, b)
	}
}

// mixedCounts puts the counts of the recomputed mixed results into the
// results computed from the tally (tally.Results.AddMixed); a question
// whose mix could not be recomputed keeps none and is skipped by
// compareResults.
func mixedCounts(res *tally.Results, mixed map[string]*tally.MixedResult) (skip map[string]bool, err error) {
	skip = map[string]bool{}
	var list []*tally.MixedResult
	for _, q := range res.Questions {
		if q.Kind != ballot.KindText && q.Kind != ballot.KindRank {
			continue
		}
		if mr := mixed[q.ID]; mr != nil {
			list = append(list, mr)
		} else {
			skip[q.ID] = true
		}
	}
	if len(skip) == 0 {
		return skip, res.AddMixed(list)
	}
	// AddMixed wants every mixed question: fill the known ones one by one.
	for i := range res.Questions {
		q := &res.Questions[i]
		mr := mixed[q.ID]
		if mr == nil || skip[q.ID] {
			continue
		}
		one := &tally.Results{Questions: []tally.QuestionResult{*q}}
		if err := one.AddMixed([]*tally.MixedResult{mr}); err != nil {
			return skip, err
		}
		*q = one.Questions[0]
	}
	return skip, nil
}

// MixedFiles computes mixed/Q.json (SPEC.md §16.6), as record.WriteJSON
// writes it, for every text or rank question of the record in dir that has
// its t round files and at least t decryption shares that verify against
// its last round's list. It is for a record derived from a board, whose
// entries hold the rounds and shares but not their decryption (the
// monitor's, §13.9 step 5). It checks no proof of shuffle: it trusts
// nothing either, since Record then checks every round and requires these
// files to be what the verified mix gives.
func MixedFiles(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	e, res, err := record.LoadElection(dir)
	if err != nil {
		return nil, err
	}
	if len(e.Manifest.Mixed()) == 0 {
		return out, nil
	}
	br, err := record.OpenBallots(dir, e.Style.Size())
	if err != nil {
		return nil, err
	}
	n := br.Count
	br.Close()
	t := e.Manifest.Threshold
	for _, qi := range e.Manifest.Mixed() {
		id := e.Manifest.Questions[qi].ID
		files, err := record.ListMix(dir, id)
		if err != nil || len(files.Rounds) != t || n == 0 {
			continue
		}
		w := e.Style.Questions[qi].Selections
		msg, err := record.ReadBinary(files.Rounds[t-1], int64(mixnet.RoundSize(n, w)))
		if err != nil || len(msg) != mixnet.RoundSize(n, w) {
			continue
		}
		final, err := shuffle.DecodeList(msg[:64*n*w], n, w)
		if err != nil {
			continue
		}
		partials := map[int][]*group.Element{}
		for j, name := range files.Shares {
			Y := res.VerificationKeys[j]
			data, err := record.ReadBinary(name, int64(tally.ListShareSize(n*w)))
			if Y == nil || err != nil {
				continue
			}
			if who, Ds, err := tally.CheckListShare(e.Context[:], final, data, Y); err == nil && who == j {
				partials[j] = Ds
			}
		}
		if len(partials) < t {
			continue
		}
		ms, err := tally.CombineList(final, partials, t)
		if err != nil {
			return nil, err
		}
		mr, err := tally.MixedResultOf(e.Manifest, qi, ms)
		if err != nil {
			return nil, fmt.Errorf("question %q: %w", id, err)
		}
		data, err := json.MarshalIndent(mr, "", "  ")
		if err != nil {
			return nil, err
		}
		out[record.MixedDir+"/"+id+".json"] = append(data, '\n')
	}
	return out, nil
}

// MixedFilesOf is MixedFiles for a record held in memory (paths with '/',
// as record.FromBoard gives them): it adds the mixed/Q.json files to
// files. A record without text or rank questions is left as it is.
func MixedFilesOf(files map[string][]byte) error {
	m, err := ballot.ParseManifest(files[record.Manifest])
	if err != nil || len(m.Mixed()) == 0 {
		return nil // nothing to add; verification names a bad manifest
	}
	tmp, err := os.MkdirTemp("", "koe-mixed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for name, data := range files {
		if !strings.HasPrefix(name, "board/") {
			p := filepath.Join(tmp, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
		}
	}
	mixed, err := MixedFiles(tmp)
	if err != nil {
		return err
	}
	for name, data := range mixed {
		files[name] = data
	}
	return nil
}
