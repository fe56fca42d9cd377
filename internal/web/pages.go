package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/ballotbox"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/tally"
)

// parseTemplates parses every page: templates/NAME.html, with the layout
// and every partial (templates/partials/*.html) beside it.
func parseTemplates() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		t := template.New("layout").Funcs(template.FuncMap{
			"add": func(a, b int) int { return a + b },
		})
		out[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html", file))
	}
	return out
}

// electionView is an election with its parsed manifest.
type electionView struct {
	Info     *api.ElectionInfo
	Manifest *ballot.Manifest
}

func (s *Site) loadElection(ctx context.Context, id string) (*electionView, error) {
	in, err := s.election(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := ballot.ParseManifest(in.Manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", id, err)
	}
	return &electionView{Info: in, Manifest: m}, nil
}

// --- The elections list.

func (s *Site) elections(r *request) (string, any, error) {
	list, err := s.listElections(r.Context())
	if err != nil {
		return "", nil, err
	}
	return "elections", list, nil
}

// --- An election's overview.

type overviewData struct {
	*electionView
	Summary    *summary
	Checkpoint *board.Checkpoint
	Booth      string
	Command    string
}

func (s *Site) overview(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	cp, err := s.checkpoint(r.Context(), ev.Info)
	if err != nil {
		return "", nil, err
	}
	sum, err := s.boardSummary(r.Context(), ev.Info.ID, cp.Size)
	if err != nil {
		return "", nil, err
	}
	d := &overviewData{electionView: ev, Summary: sum, Checkpoint: cp, Command: verifyCommand(r.Request, ev.Info.ID)}
	if ev.Info.State == api.StateOpen {
		d.Booth = s.opts.BoothPath(ev.Info.ID)
	}
	return "overview", d, nil
}

// --- Results.

type resultsData struct {
	*electionView
	Results *tally.Results
	Charts  []barChart
	Summary *summary
	Turnout *turnoutChart
	Loc     *time.Location
	// Turnout of the roll, in percent (when there is a roll).
	RollPercent float64
	// Withheld is set when the tally counts fewer ballots than the
	// manifest's privacy threshold: no results will be published.
	Withheld *withheld
	// Suppress is the small-count threshold (0: none, SPEC.md §9.5).
	Suppress int
	// Downloads of the published results (export.go): the workbook of
	// every question; each question's CSV is on its chart.
	XLSX string
}

// withheld is why an election's results are withheld (SPEC.md §9.2).
type withheld struct {
	Ballots, Min int
}

func (s *Site) results(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	res, err := s.publishedResults(r.Context(), ev.Info.ID)
	if err != nil {
		return "", nil, err
	}
	cp, err := s.checkpoint(r.Context(), ev.Info)
	if err != nil {
		return "", nil, err
	}
	sum, err := s.boardSummary(r.Context(), ev.Info.ID, cp.Size)
	if err != nil {
		return "", nil, err
	}
	d := &resultsData{electionView: ev, Results: res, Summary: sum, Turnout: turnout(sum.PerHour, s.opts.Location), Loc: s.opts.Location}
	if res == nil && ev.Info.State == api.StateTallied {
		t, err := s.encryptedTally(r.Context(), ev.Info.ID)
		if err != nil {
			return "", nil, err
		}
		if t != nil && tally.CheckPrivacy(ev.Manifest, t.Ballots) != nil {
			d.Withheld = &withheld{Ballots: t.Ballots, Min: ev.Manifest.PrivacyThreshold()}
		}
	}
	if res != nil {
		mixed, err := s.mixedResults(r.Context(), ev, res)
		if err != nil {
			return "", nil, err
		}
		d.Charts = questionCharts(ev.Manifest, res, r.lang)
		d.Suppress = suppressBelow(ev.Manifest)
		d.XLSX = exportPath(ev.Info.ID, "", r.lang)
		for i := range d.Charts {
			c := &d.Charts[i]
			q := &ev.Manifest.Questions[i]
			c.Export = exportPath(ev.Info.ID, q.ID, r.lang)
			switch mr := mixed[q.ID]; q.Kind {
			case ballot.KindText:
				c.Text = newTextView(mr, r.URL.Query(), r.URL.Path, c.ID+"-h")
			case ballot.KindRank:
				c.Rank = newRankView(q, mr, r.lang, d.Suppress)
			}
		}
		if sum.HasRoll && sum.Voters > 0 {
			d.RollPercent = 100 * float64(res.Ballots) / float64(sum.Voters)
		}
	}
	return "results", d, nil
}

// --- The board explorer.

const entriesPerPage = 50

type boardData struct {
	*electionView
	Checkpoint     *board.Checkpoint
	CheckpointHash string
	Entries        []entryView
	Page, Pages    int
	First, Last    int64 // the entries shown, inclusive
	Lookup         *lookup
	Command        string
	Record         string
}

type lookup struct {
	Code      string
	Error     string // catalogue key, when the code is malformed or absent
	Found     bool
	Verified  bool
	Failure   string // why the receipt did not verify
	Index     int64
	Tracking  string
	TreeSize  int64
	ProofLen  int
	Counter   uint64
	EntryTime time.Time
}

func (s *Site) board(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	id := ev.Info.ID
	cp, err := s.checkpoint(r.Context(), ev.Info)
	if err != nil {
		return "", nil, err
	}
	d := &boardData{electionView: ev, Checkpoint: cp, CheckpointHash: base64.StdEncoding.EncodeToString(cp.Hash[:]),
		Command: verifyCommand(r.Request, id), Record: api.ElectionPath(id, "/record")}
	d.Pages = int((cp.Size + entriesPerPage - 1) / entriesPerPage)
	d.Page = 1
	if p, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && p >= 1 && p <= d.Pages {
		d.Page = p
	}
	if cp.Size > 0 {
		from := int64(d.Page-1) * entriesPerPage
		to := min(from+entriesPerPage, cp.Size)
		raws, err := s.readEntries(r.Context(), id, from, to)
		if err != nil {
			return "", nil, err
		}
		for i, raw := range raws {
			d.Entries = append(d.Entries, describeEntry(from+int64(i), raw))
		}
		d.First, d.Last = from, to-1
	}
	if code := strings.TrimSpace(r.URL.Query().Get("code")); code != "" {
		if d.Lookup, err = s.lookupReceipt(r.Context(), ev.Info, code); err != nil {
			return "", nil, err
		}
	}
	return "board", d, nil
}

// lookupReceipt asks the ballot box for the receipt of a tracking code
// and checks it as a voter's device would: the entry it names is a ballot
// with this tracking code, and the inclusion proof takes it to a
// checkpoint signed with the election's board key (board.VerifyReceipt).
func (s *Site) lookupReceipt(ctx context.Context, in *api.ElectionInfo, code string) (*lookup, error) {
	l := &lookup{Code: code}
	if len(code) > 128 {
		l.Error = "lookup.malformed"
		return l, nil
	}
	var rc client.Receipt
	err := s.api.Do(ctx, "GET", api.ElectionPath(in.ID, "/receipts/"+url.PathEscape(code)), "", nil, &rc)
	switch {
	case client.IsCode(err, api.CodeMalformed):
		l.Error = "lookup.malformed"
		return l, nil
	case client.IsCode(err, api.CodeNotFound):
		l.Error = "lookup.notfound"
		return l, nil
	case err != nil:
		return nil, err
	}
	l.Found, l.Tracking, l.Index = true, rc.TrackingCode, rc.Receipt.Index
	l.ProofLen = len(rc.Receipt.Proof)
	entry, err := s.api.Raw(ctx, "GET", api.ElectionPath(in.ID, fmt.Sprintf("/entries/%d", rc.Receipt.Index)), "", nil)
	if err != nil {
		return nil, err
	}
	v, err := board.ParseVerifierKey(in.BoardKey)
	if err != nil {
		return nil, err
	}
	if cp, err := board.ParseCheckpoint([]byte(rc.Receipt.Checkpoint), v); err == nil {
		l.TreeSize = cp.Size
	}
	if err := board.VerifyReceipt(rc.Receipt, entry, v); err != nil {
		l.Failure = err.Error()
		return l, nil
	}
	e, err := board.DecodeEntry(entry)
	if err != nil {
		l.Failure = err.Error()
		return l, nil
	}
	env, err := ballotbox.ParseEnvelope(e.Body)
	if e.Type != board.TypeBallot || err != nil {
		l.Failure = fmt.Sprintf("board entry %d is not a ballot", rc.Receipt.Index)
		return l, nil
	}
	tc := ballot.TrackingCode(env.Ballot)
	if want, err := hex.DecodeString(rc.Receipt.Tracking); err != nil || !bytes.Equal(want, tc[:]) {
		l.Failure = fmt.Sprintf("board entry %d holds a ballot with another tracking code", rc.Receipt.Index)
		return l, nil
	}
	l.Verified, l.Counter, l.EntryTime = true, env.Counter, e.Time
	return l, nil
}

// --- How to verify.

type verifyData struct {
	Command  string
	Election string
}

func (s *Site) verify(r *request) (string, any, error) {
	id := r.URL.Query().Get("election")
	if id == "" || len(id) > 64 {
		id = "ID"
	}
	return "verify", &verifyData{Command: verifyCommand(r.Request, id), Election: id}, nil
}

// verifyCommand is the koe verify command line for an election of this server.
func verifyCommand(r *http.Request, id string) string {
	return fmt.Sprintf("koe verify --server %s --election %s", publicURL(r, ""), id)
}

// publicURL is the absolute address of path on this server as the request
// reached it: https, unless the host is the loopback (koe serve behind a
// TLS-terminating proxy, or run locally).
func publicURL(r *http.Request, path string) string {
	scheme := "https"
	if r.TLS == nil && (strings.HasPrefix(r.Host, "127.0.0.1") || strings.HasPrefix(r.Host, "localhost") || strings.HasPrefix(r.Host, "[::1]")) {
		scheme = "http"
	}
	host := r.Host
	if host == "" {
		host = "koe.example"
	}
	return scheme + "://" + host + path
}
