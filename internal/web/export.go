package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/tally"
)

// Exports of the published results (SPEC.md §9.5): one question as CSV
// (GET /elections/{id}/results/{question}.csv), every question as an XLSX
// workbook (GET /elections/{id}/results/results.xlsx). Both hold what the
// results page shows, in the page's language, with the same small-count
// suppression; the verifiable record (results.json, mixed/Q.json) is the
// exact source.

// exportPath is the download of question qid's CSV, or of the workbook
// when qid is "".
func exportPath(id, qid, lang string) string {
	file := "results.xlsx"
	if qid != "" {
		file = qid + ".csv"
	}
	return "/elections/" + url.PathEscape(id) + "/results/" + file + "?lang=" + lang
}

// mixedResults fetches the mixed result of every text and rank question.
func (s *Site) mixedResults(ctx context.Context, ev *electionView, res *tally.Results) (map[string]*tally.MixedResult, error) {
	out := map[string]*tally.MixedResult{}
	for i, q := range ev.Manifest.Questions {
		if !ballot.Mixed(q.Kind) || i >= len(res.Questions) {
			continue
		}
		mr, err := s.api.Mixed(ctx, ev.Info.ID, q.ID)
		if err != nil {
			return nil, fmt.Errorf("the mixed result of question %q: %w", q.ID, err)
		}
		if mr.Question != q.ID || mr.Kind != q.Kind {
			return nil, fmt.Errorf("the mixed result of question %q is of %s question %q", q.ID, mr.Kind, mr.Question)
		}
		out[q.ID] = mr
	}
	return out, nil
}

// cell is one cell of an exported table: a number or a string.
type cell struct {
	S   string
	N   float64
	Num bool
}

func str(s string) cell              { return cell{S: s} }
func num(n float64) cell             { return cell{N: n, Num: true} }
func count[T int | uint64](n T) cell { return num(float64(n)) }

// sheet is one question's table (or the workbook's overview).
type sheet struct {
	Name string
	Rows [][]cell
}

// exportData is an election's published results, ready to export.
type exportData struct {
	ev     *electionView
	res    *tally.Results
	mixed  map[string]*tally.MixedResult
	lang   string
	k      int // the small-count threshold (0: none)
	sheets []sheet
}

func (s *Site) loadExport(ctx context.Context, id, lang string) (*exportData, error) {
	ev, err := s.loadElection(ctx, id)
	if err != nil {
		return nil, err
	}
	res, err := s.publishedResults(ctx, ev.Info.ID)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errNotFound
	}
	mixed, err := s.mixedResults(ctx, ev, res)
	if err != nil {
		return nil, err
	}
	return newExport(ev, res, mixed, lang), nil
}

// newExport lays out every question's table.
func newExport(ev *electionView, res *tally.Results, mixed map[string]*tally.MixedResult, lang string) *exportData {
	d := &exportData{ev: ev, res: res, mixed: mixed, lang: lang, k: suppressBelow(ev.Manifest)}
	charts := questionCharts(ev.Manifest, res, lang)
	for i := range charts {
		d.sheets = append(d.sheets, d.question(i, &charts[i]))
	}
	return d
}

func (d *exportData) t(key string, args ...any) string {
	return msgFor(d.lang, key, d.ev.survey(), args...)
}

// countCell is a count, or "fewer than k" when it is suppressed.
func (d *exportData) countCell(n uint64) cell {
	if hidden(n, d.k) {
		return str(d.t("results.fewer", d.k))
	}
	return count(n)
}

// head is the rows every question's table starts with.
func (d *exportData) head(label string) [][]cell {
	rows := [][]cell{
		{str(d.t("export.election")), str(d.ev.Info.Title.In(d.lang))},
		{str(d.t("export.electionid")), str(d.ev.Info.ID)},
		{str(d.t("export.question")), str(label)},
		{str(d.t("export.ballots")), count(d.res.Ballots)},
	}
	if d.k > 0 {
		rows = append(rows, []cell{str(d.t("export.suppressed")), str(d.t("results.suppressed", d.k))})
	}
	return append(rows, nil)
}

func (d *exportData) question(i int, c *barChart) sheet {
	q := &d.ev.Manifest.Questions[i]
	sh := sheet{Name: fmt.Sprintf("Q%d", i+1), Rows: d.head(q.Label.In(d.lang))}
	add := func(cells ...cell) { sh.Rows = append(sh.Rows, cells) }
	switch q.Kind {
	case ballot.KindRating:
		// The distribution, value by value (SPEC.md §9.5): the value as a
		// number, so that a spreadsheet can compute with it, and the
		// scale's labels in a column of their own.
		add(str(d.t("results.value")), str(d.t("results.answercount")), str(d.t("export.percent")), str(d.t("export.scalelabel")))
		for j, r := range c.Rows {
			pct := num(roundTo(r.Percent, 1))
			if r.Hidden {
				pct = str("")
			}
			v := q.Min + j
			label := ""
			if end := scaleEndLabel(q, v); end != nil {
				label = end.In(d.lang)
			}
			add(count(v), d.countCell(r.Count), pct, str(label))
		}
		add()
		add(str(d.t("export.mean")), num(roundTo(c.Rating.Mean, 2)))
		add(str(d.t("export.min")), count(q.Min))
		add(str(d.t("export.max")), count(q.Max))
	case ballot.KindText:
		mr := d.mixed[q.ID]
		add(str(d.t("export.number")), str(d.t("export.comment")))
		for j, text := range mr.Comments {
			add(count(j+1), str(text))
		}
		add()
		add(str(d.t("export.comments")), count(len(mr.Comments)))
		add(str(d.t("export.empty")), count(mr.Empty))
		add(str(d.t("export.invalid")), count(mr.Invalid))
	case ballot.KindRank:
		rv := newRankView(q, d.mixed[q.ID], d.lang, d.k)
		header := []cell{str(d.t("results.option")), str(d.t("results.borda"))}
		for _, o := range rv.Options {
			header = append(header, str(d.t("export.above", o)))
		}
		add(header...)
		for a, o := range rv.Options {
			row := []cell{str(o), count(rv.Borda[a].Count)}
			for _, pc := range rv.Pairwise[a].Cells {
				switch {
				case pc.Self:
					row = append(row, str(""))
				default:
					row = append(row, d.countCell(uint64(pc.Count)))
				}
			}
			add(row...)
		}
		add()
		add(str(d.t("export.winners")), str(rv.WinnerList))
		add(str(d.t("export.valid")), count(rv.Valid))
		add(str(d.t("export.invalid")), count(rv.Invalid))
	default:
		add(str(d.t("results.option")), str(d.t("results.count")), str(d.t("export.percent")))
		for _, r := range c.Rows {
			pct := num(roundTo(r.Percent, 1))
			if r.Hidden {
				pct = str("")
			}
			add(str(r.Label), d.countCell(r.Count), pct)
		}
	}
	return sh
}

func roundTo(f float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', digits, 64), 64)
	return v
}

// defuse makes a CSV cell inert in a spreadsheet: a text starting with
// = + - @ TAB or CR is read as a formula by Excel, LibreOffice and Google
// Sheets, so it gets a leading apostrophe (OWASP's advice on CSV
// injection). A comment's text is untrusted.
func defuse(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// writeCSV writes a table as CSV: UTF-8 with a byte-order mark (so that
// Excel reads Japanese correctly), CRLF line ends and quoting as RFC 4180,
// every text cell defused. Empty rows are written as empty lines.
func writeCSV(rows [][]cell) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, c := range row {
			if c.Num {
				rec[i] = strconv.FormatFloat(c.N, 'f', -1, 64)
			} else {
				rec[i] = defuse(c.S)
			}
		}
		if len(rec) == 0 {
			rec = []string{""}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// writeXLSX writes the workbook: an overview sheet, then one sheet per
// question. Text cells are typed strings, never formulas, so they are
// written as they are.
func (d *exportData) writeXLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	overview := d.t("export.overview")
	if err := f.SetSheetName("Sheet1", overview); err != nil {
		return nil, err
	}
	rows := [][]cell{
		{str(d.t("export.election")), str(d.ev.Info.Title.In(d.lang))},
		{str(d.t("export.electionid")), str(d.ev.Info.ID)},
		{str(d.t("export.ballots")), count(d.res.Ballots)},
	}
	if d.k > 0 {
		rows = append(rows, []cell{str(d.t("export.suppressed")), str(d.t("results.suppressed", d.k))})
	}
	rows = append(rows, nil, []cell{str(d.t("export.sheet")), str(d.t("export.question"))})
	for i, sh := range d.sheets {
		rows = append(rows, []cell{str(sh.Name), str(d.ev.Manifest.Questions[i].Label.In(d.lang))})
	}
	if err := fillSheet(f, overview, rows); err != nil {
		return nil, err
	}
	for _, sh := range d.sheets {
		if _, err := f.NewSheet(sh.Name); err != nil {
			return nil, err
		}
		if err := fillSheet(f, sh.Name, sh.Rows); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func fillSheet(f *excelize.File, name string, rows [][]cell) error {
	for r, row := range rows {
		for c, v := range row {
			ref, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return err
			}
			if v.Num {
				err = f.SetCellFloat(name, ref, v.N, -1, 64)
			} else {
				err = f.SetCellStr(name, ref, v.S)
			}
			if err != nil {
				return err
			}
		}
	}
	return f.SetColWidth(name, "A", "B", 28)
}

// export serves GET /elections/{id}/results/{file}: QUESTION.csv or
// results.xlsx.
func (s *Site) export(w http.ResponseWriter, r *http.Request) {
	lang := s.language(w, r)
	fail := func(err error) {
		var pe *pageError
		if !errors.As(err, &pe) {
			s.log.Error("web: export failed", "path", r.URL.Path, "err", err)
			pe = &pageError{status: http.StatusInternalServerError, title: "err.internal.title", detail: "err.internal.detail"}
		}
		s.render(w, r, pe.status, lang, "error", &errorData{Title: msg(lang, pe.title), Detail: msg(lang, pe.detail, pe.args...)})
	}
	file := r.PathValue("file")
	qid, isCSV := strings.CutSuffix(file, ".csv")
	if !isCSV && file != "results.xlsx" {
		fail(errNotFound)
		return
	}
	d, err := s.loadExport(r.Context(), r.PathValue("id"), lang)
	if err != nil {
		fail(err)
		return
	}
	name := d.ev.Info.ID + "-results"
	var body []byte
	var ctype string
	if isCSV {
		qi := -1
		for i, q := range d.ev.Manifest.Questions {
			if q.ID == qid && i < len(d.sheets) {
				qi = i
			}
		}
		if qi < 0 {
			fail(errNotFound)
			return
		}
		body, err = writeCSV(d.sheets[qi].Rows)
		ctype, name = "text/csv; charset=utf-8", d.ev.Info.ID+"-"+qid+".csv"
	} else {
		body, err = d.writeXLSX()
		ctype, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx"
	}
	if err != nil {
		fail(err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
