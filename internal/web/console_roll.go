package web

// The voter roll in the console. The API's roll import (SPEC.md §15.3)
// answers with each new voter's one-time code, once: the registrar keeps
// only keyed hashes of them. So the console never stores the codes
// either. Right after an import it shows a page holding the codes (in a
// hidden field, the page not to be stored), from which the administrator
// downloads them as CSV or as printable letters; each download posts them
// back, and the console checks them and formats them. Letters can also be
// made later from a codes CSV the administrator kept (the console's or
// `koe admin roll -o`'s).

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/letters"
)

// lettersPerPage bounds the letters in one printable page.
const lettersPerPage = 1000

type voterCode struct{ Voter, Code string }

type codesData struct {
	consoleBase
	*electionView
	CSV     string // voter_id,code lines, as the API answered
	Count   int
	Batches []batch
	// Reissued: the codes are new codes for voters who lost their letter
	// (SPEC.md §15.3 Re-issue); Registered and Unknown are the voters the
	// re-issue left as they were.
	Reissued            bool
	Registered, Unknown []string
	// FontProblem says why the letters cannot be made as PDF ("" if they can).
	FontProblem string
}

type batch struct{ From, To int } // 1-based, inclusive

func batches(n int) []batch {
	var out []batch
	for from := 0; from < n; from += lettersPerPage {
		out = append(out, batch{from + 1, min(from+lettersPerPage, n)})
	}
	return out
}

// importRoll posts the voter roll (a CSV, uploaded or pasted) to the API
// and shows the codes it answers with.
func (c *console) importRoll(r *creq) (string, any, error) {
	id := r.PathValue("id")
	data := []byte(r.PostFormValue("voters"))
	if f, err := formFile(r, "file", consoleMaxBody); err != nil {
		return "", nil, err
	} else if f != nil {
		data = f
	}
	var raw []byte
	var err error
	if len(bytes.TrimSpace(data)) == 0 {
		err = &client.Error{Status: http.StatusBadRequest, Code: "empty-roll"}
	} else {
		raw, err = c.admin.Raw(r.Context(), "POST", api.ElectionPath(id, "/roll"), "text/csv", data)
	}
	if err != nil {
		return c.failOnElectionPage(r, id, err, http.StatusBadRequest, func(d *electionData, p *apiProblem) { d.RollError = p })
	}
	codes, err := parseCodes(raw)
	if err != nil {
		return "", nil, err // the API's own answer: a bug
	}
	ev, err := c.s.loadElection(r.Context(), id)
	if err != nil {
		return "", nil, err
	}
	return "console-codes", &codesData{consoleBase: r.base(), electionView: ev, CSV: string(raw), Count: len(codes), Batches: batches(len(codes)),
		FontProblem: c.s.font.problem()}, nil
}

// reissue asks the API for new codes for the voters named (pasted, one a
// line), or, with a roll file, for every voter of it who has not
// registered, and shows the new codes as the import does. The server keeps
// no codes, so this is also how lost codes are downloaded again: as new
// ones, the old letters revoked.
func (c *console) reissue(r *creq) (string, any, error) {
	id := r.PathValue("id")
	data := []byte(r.PostFormValue("voters"))
	all := false
	if f, err := formFile(r, "file", consoleMaxBody); err != nil {
		return "", nil, err
	} else if f != nil {
		data, all = f, true
	}
	voters, err := parseVoterList(data)
	var out *api.ReissueResponse
	switch {
	case err != nil:
	case len(voters) == 0:
		err = &client.Error{Status: http.StatusBadRequest, Code: "empty-reissue"}
	case all && r.PostFormValue("confirm") != "yes":
		err = &client.Error{Status: http.StatusBadRequest, Code: "confirm-reissue"}
	default:
		out, err = c.admin.Reissue(r.Context(), id, voters, all)
	}
	if err != nil {
		return c.failOnElectionPage(r, id, err, http.StatusBadRequest, func(d *electionData, p *apiProblem) { d.ReissueError = p })
	}
	ev, err := c.s.loadElection(r.Context(), id)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write([]string{"voter_id", "code"})
	for _, vc := range out.Codes {
		cw.Write([]string{vc.Voter, vc.Code})
	}
	cw.Flush()
	return "console-codes", &codesData{consoleBase: r.base(), electionView: ev, CSV: b.String(), Count: len(out.Codes),
		Batches: batches(len(out.Codes)), Reissued: true, Registered: out.Registered, Unknown: out.Unknown, FontProblem: c.s.font.problem()}, nil
}

// parseVoterList reads voter ids, one a line or in the first column of a
// CSV roll (a "voter_id" heading is skipped), skipping blank lines; the
// API folds and checks them.
func parseVoterList(data []byte) ([]string, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	var out []string
	for line := 1; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &client.Error{Status: http.StatusBadRequest, Code: api.CodeMalformed, Message: err.Error()}
		}
		v := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		if v == "" || line == 1 && strings.EqualFold(v, "voter_id") {
			continue
		}
		out = append(out, v)
	}
}

// formFile returns an uploaded file's contents, at most limit+1 bytes of
// them (so a caller can tell a file over the limit), or nil if none was sent.
func formFile(r *creq, name string, limit int64) ([]byte, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	fh := r.MultipartForm.File[name]
	if len(fh) == 0 || fh[0].Size == 0 {
		return nil, nil
	}
	f, err := fh[0].Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

var codePattern = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$`)

var errCodes = errors.New("not a codes CSV")

// parseCodes reads a CSV of voter_id,code (with that header) as the API's
// roll import answers.
func parseCodes(data []byte) ([]voterCode, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = 2
	head, err := rd.Read()
	if err != nil || strings.TrimPrefix(head[0], "\ufeff") != "voter_id" || head[1] != "code" {
		return nil, errCodes
	}
	var out []voterCode
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || rec[0] == "" || !codePattern.MatchString(rec[1]) {
			return nil, errCodes
		}
		out = append(out, voterCode{rec[0], rec[1]})
	}
	if len(out) == 0 {
		return nil, errCodes
	}
	return out, nil
}

type lettersData struct {
	consoleBase
	*electionView
	Letters   []voterCode
	From, Of  int
	Booth     string
	Overview  string
	Closes    string
	FirstPage bool
}

var errNotCodes = &pageError{status: http.StatusBadRequest, title: "console.err.codes.title", detail: "console.err.codes.detail"}

// codes formats posted codes as a CSV download, as printable letters, or
// as letters in a PDF (format a4 or postcard).
func (c *console) codes(r *creq) (string, any, error) {
	data := []byte(r.PostFormValue("codes"))
	if f, err := formFile(r, "file", consoleMaxBody); err != nil {
		return "", nil, err
	} else if f != nil {
		data = f
	}
	codes, err := parseCodes(data)
	if err != nil {
		return "", nil, errNotCodes
	}
	ev, err := c.s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if r.PostFormValue("format") == "csv" {
		h := r.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+ev.Info.ID+`-codes.csv"`)
		cw := csv.NewWriter(r.w)
		cw.Write([]string{"voter_id", "code"})
		for _, vc := range codes {
			cw.Write([]string{vc.Voter, vc.Code})
		}
		cw.Flush()
		return "", nil, nil
	}
	from, err := strconv.Atoi(r.PostFormValue("from"))
	if err != nil || from < 1 || from > len(codes) {
		from = 1
	}
	base := publicURL(r.Request, "")
	d := &lettersData{consoleBase: r.base(), electionView: ev, From: from, Of: len(codes),
		Letters: codes[from-1 : min(from-1+lettersPerPage, len(codes))],
		Booth:   base + c.s.opts.BoothPath(ev.Info.ID), Overview: base + "/elections/" + url.PathEscape(ev.Info.ID)}
	if ev.Manifest.Closes != "" {
		d.Closes = ev.Manifest.Closes
	}
	if f := r.PostFormValue("format"); f != "letters" && f != "" {
		size, err := letters.ParseSize(f)
		if err != nil {
			return "", nil, &pageError{status: http.StatusBadRequest, title: "console.err.format.title", detail: "console.err.format.detail"}
		}
		return "", nil, c.letterPDF(r, size, d)
	}
	return "console-letters", d, nil
}

type letterPart struct {
	V *view
	D *lettersData
	L voterCode
}

// ConsoleLetter is the argument of the "letterpart" template: a voter's
// letter in one language (letters have both).
func (v *view) ConsoleLetter(lang string, d *lettersData, l voterCode) letterPart {
	return letterPart{v.ConsoleIn(lang), d, l}
}
