package web

// The console's question editor: a manifest (SPEC.md §7) written in a
// server-rendered form. Every button posts the whole draft, which is read
// back from the form's fields (readDraft), changed (add or remove a
// question or an option, move a question, change a kind) and shown again;
// "preview" checks it and shows it as a voter sees it; "create" posts the
// manifest to the API. The checks here only point at the field at fault;
// ballot.ParseManifest, which the API runs too, decides.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/client"
)

var exampleNames = examples.Names()

// draft is a manifest being edited, field by field as typed.
type draft struct {
	// Editing is the id of the draft election whose manifest this edits
	// (PUT …/manifest), empty for a new one.
	Editing                          string
	ID, Kind                         string
	TitleJa, TitleEn, DescJa, DescEn string
	Opens, Closes                    string // datetime-local, in the site's time zone
	Trustees, Threshold              string
	Privacy                          string // the privacy threshold; empty: the default
	// Langs are the label languages besides Japanese and English the
	// editor shows fields for (BCP 47 tags, space- or comma-separated),
	// besides those the labels already have.
	Langs     string
	Tr        translations // title, desc
	Questions []*draftQuestion
}

// translations are a draft's labels in languages other than Japanese and
// English: field ("title", "label", "desc", …) → tag → text. They are
// kept with their question or option, so that moving or removing one
// moves its translations too.
type translations map[string]map[string]string

// readTranslations reads the fields prefix+field+"."+tag of f.
func readTranslations(f map[string][]string, prefix string, fields ...string) translations {
	var tr translations
	for name, v := range f {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || len(v) == 0 {
			continue
		}
		field, tag, ok := strings.Cut(rest, ".")
		if !ok || tag == "ja" || tag == "en" || strings.Contains(tag, ".") || !slices.Contains(fields, field) {
			continue
		}
		if t := strings.TrimSpace(v[0]); t != "" {
			if tr == nil {
				tr = translations{}
			}
			if tr[field] == nil {
				tr[field] = map[string]string{}
			}
			tr[field][tag] = t
		}
	}
	return tr
}

// put keeps a manifest label's other languages as field's.
func (tr *translations) put(field string, t *ballot.Text) {
	if t == nil || len(t.Other) == 0 {
		return
	}
	if *tr == nil {
		*tr = translations{}
	}
	(*tr)[field] = maps.Clone(t.Other)
}

type draftQuestion struct {
	ID, Kind                                       string
	LabelJa, LabelEn                               string
	Min, Max                                       string
	Optional                                       bool
	MinLabelJa, MinLabelEn, MaxLabelJa, MaxLabelEn string
	Options                                        []*draftOption
	Tr                                             translations // label, minlabel, maxlabel
}

type draftOption struct {
	ID, LabelJa, LabelEn, DescJa, DescEn string
	Tr                                   translations // label, desc
}

// fieldErrors maps a form field's name to what is wrong with it.
type fieldErrors map[string]string

// editorData is the editor page's data.
type editorData struct {
	consoleBase
	D       *draft
	Errors  fieldErrors
	Order   []string // the fields in error, in the form's order
	Invalid string   // ParseManifest's or the API's message, when no field is at fault
	Problem *apiProblem
	Preview *ballot.Manifest
	Other   string // the preview's other language
	Import  string // why the pasted or uploaded manifest could not be read
	status  int
}

func (d *editorData) statusCode() int { return max(d.status, http.StatusOK) }

// E returns the error of a field, if any.
func (d *editorData) E(name string) string { return d.Errors[name] }

func (c *console) newElection(r *creq) (string, any, error) {
	d := &editorData{consoleBase: r.base(), Errors: fieldErrors{}}
	if name := r.URL.Query().Get("example"); name != "" {
		data, err := examples.Manifest(name)
		if err != nil {
			return "", nil, errNotFound
		}
		var m ballot.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return "", nil, err
		}
		d.D = fromManifest(&m, c.s.opts.Location)
	} else {
		d.D = &draft{Kind: "survey", Trustees: "3", Threshold: "2", Questions: []*draftQuestion{newQuestion()}}
	}
	fillIDs(d.D)
	return "console-editor", d, nil
}

func newQuestion() *draftQuestion {
	return &draftQuestion{Kind: ballot.KindSingle, Options: []*draftOption{{}, {}}}
}

// editElection handles every button of the editor.
func (c *console) editElection(r *creq) (string, any, error) {
	d := &editorData{consoleBase: r.base(), Errors: fieldErrors{}}
	action, arg, _ := strings.Cut(r.PostFormValue("action"), ":")
	if action == "import" {
		return c.importManifest(r, d)
	}
	d.D = readDraft(r.PostForm)
	q, o := indices(arg)
	qs := d.D.Questions
	switch action {
	case "add-question":
		if len(qs) < ballot.MaxQuestions {
			d.D.Questions = append(qs, newQuestion())
		}
	case "remove-question":
		if q >= 0 && q < len(qs) {
			d.D.Questions = slices.Delete(qs, q, q+1)
		}
	case "up", "down":
		to := q - 1
		if action == "down" {
			to = q + 1
		}
		if q >= 0 && q < len(qs) && to >= 0 && to < len(qs) {
			qs[q], qs[to] = qs[to], qs[q]
		}
	case "add-option":
		if q >= 0 && q < len(qs) && len(qs[q].Options) < ballot.MaxOptions {
			qs[q].Options = append(qs[q].Options, &draftOption{})
		}
	case "remove-option":
		if q >= 0 && q < len(qs) && o >= 0 && o < len(qs[q].Options) {
			qs[q].Options = slices.Delete(qs[q].Options, o, o+1)
		}
	case "kind":
		// The kind's select was changed: show the fields of the new kind.
	case "preview", "create", "json":
		return c.checkDraft(r, d, action)
	default:
		return "", nil, errConsoleForm
	}
	fillIDs(d.D)
	return "console-editor", d, nil
}

// indices reads "Q" or "Q:O" of a button's value.
func indices(arg string) (q, o int) {
	a, b, _ := strings.Cut(arg, ":")
	q, err := strconv.Atoi(a)
	if err != nil {
		q = -1
	}
	o, err = strconv.Atoi(b)
	if err != nil {
		o = -1
	}
	return q, o
}

// checkDraft checks the draft and previews it, downloads it as JSON, or
// creates the election.
func (c *console) checkDraft(r *creq, d *editorData, action string) (string, any, error) {
	fillIDs(d.D)
	m, data := d.build(r.lang, c.s.opts.Location)
	if m == nil {
		d.status = http.StatusBadRequest
		return "console-editor", d, nil
	}
	switch action {
	case "json":
		h := r.w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+m.ID+`.json"`)
		r.w.Write(data)
		return "", nil, nil
	case "create":
		if d.D.Editing != "" {
			return c.saveDraft(r, d, m, data)
		}
		var created api.Created
		err := c.admin.Do(r.Context(), "POST", "/api/v1/elections", "application/json", data, &created)
		if p := problem(r.lang, err); p != nil {
			d.Problem, d.status = p, http.StatusBadRequest
			if client409(err) {
				d.status = http.StatusConflict
			}
			d.Preview, d.Other = m, otherLang(r.lang)
			return "console-editor", d, nil
		} else if err != nil {
			return "", nil, err
		}
		return "console-created", &createdData{consoleBase: r.base(), Created: &created, Server: publicURL(r.Request, ""), Manifest: m}, nil
	}
	d.Preview, d.Other = m, otherLang(r.lang)
	return "console-editor", d, nil
}

func otherLang(lang string) string {
	if lang == "ja" {
		return "en"
	}
	return "ja"
}

// importManifest loads a manifest, uploaded or pasted, into the editor.
// It need not be valid: its faults are shown at their fields.
func (c *console) importManifest(r *creq, d *editorData) (string, any, error) {
	data := []byte(r.PostFormValue("manifest"))
	file, err := formFile(r, "file", ballot.MaxManifestSize)
	if err != nil {
		return "", nil, err
	}
	if file != nil {
		data = file
	}
	var m ballot.Manifest
	err = json.Unmarshal(data, &m)
	switch {
	case len(strings.TrimSpace(string(data))) == 0:
		d.Import = msg(r.lang, "console.import.empty")
	case len(data) > ballot.MaxManifestSize:
		d.Import = msg(r.lang, "console.import.large")
	case err != nil:
		d.Import = msg(r.lang, "console.import.bad", err.Error())
	}
	if d.Import != "" {
		d.D, d.status = &draft{Kind: "survey", Trustees: "3", Threshold: "2", Questions: []*draftQuestion{newQuestion()}}, http.StatusBadRequest
		fillIDs(d.D)
		return "console-editor", d, nil
	}
	d.D = fromManifest(&m, c.s.opts.Location)
	return c.checkDraft(r, d, "preview")
}

type createdData struct {
	consoleBase
	Created  *api.Created
	Manifest *ballot.Manifest
	Server   string
}

// --- Drafts and forms.

const datetimeLocal = "2006-01-02T15:04"

// readDraft reads the draft from the editor's fields (see the names in
// console-editor.html): id, kind, title.ja, …; q0.id, q0.kind, …;
// q0.o0.id, q0.o0.label.ja, ….
func readDraft(f map[string][]string) *draft {
	g := func(name string) string {
		if v := f[name]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	d := &draft{Editing: g("editing"), ID: g("id"), Kind: g("kind"), TitleJa: g("title.ja"), TitleEn: g("title.en"),
		DescJa: g("desc.ja"), DescEn: g("desc.en"), Opens: g("opens"), Closes: g("closes"),
		Trustees: g("trustees"), Threshold: g("threshold"), Privacy: g("privacy"), Langs: g("langs"),
		Tr: readTranslations(f, "", "title", "desc")}
	for i := 0; i < ballot.MaxQuestions; i++ {
		p := fmt.Sprintf("q%d.", i)
		if _, ok := f[p+"kind"]; !ok {
			break
		}
		q := &draftQuestion{ID: g(p + "id"), Kind: g(p + "kind"), LabelJa: g(p + "label.ja"), LabelEn: g(p + "label.en"),
			Min: g(p + "min"), Max: g(p + "max"), Optional: g(p+"optional") == "on",
			MinLabelJa: g(p + "minlabel.ja"), MinLabelEn: g(p + "minlabel.en"), MaxLabelJa: g(p + "maxlabel.ja"), MaxLabelEn: g(p + "maxlabel.en"),
			Tr: readTranslations(f, p, "label", "minlabel", "maxlabel")}
		for k := 0; k < ballot.MaxOptions; k++ {
			op := fmt.Sprintf("%so%d.", p, k)
			if _, ok := f[op+"id"]; !ok {
				break
			}
			q.Options = append(q.Options, &draftOption{ID: g(op + "id"), LabelJa: g(op + "label.ja"), LabelEn: g(op + "label.en"),
				DescJa: g(op + "desc.ja"), DescEn: g(op + "desc.en"), Tr: readTranslations(f, op, "label", "desc")})
		}
		d.Questions = append(d.Questions, q)
	}
	return d
}

// fromManifest makes a draft of a manifest (possibly invalid).
func fromManifest(m *ballot.Manifest, loc *time.Location) *draft {
	d := &draft{ID: m.ID, Kind: m.Kind, TitleJa: m.Title.Ja, TitleEn: m.Title.En,
		Opens: toLocal(m.Opens, loc), Closes: toLocal(m.Closes, loc),
		Trustees: strconv.Itoa(m.Trustees), Threshold: strconv.Itoa(m.Threshold)}
	if m.Privacy != nil {
		d.Privacy = strconv.Itoa(*m.Privacy)
	}
	if m.Description != nil {
		d.DescJa, d.DescEn = m.Description.Ja, m.Description.En
	}
	d.Tr.put("title", &m.Title)
	d.Tr.put("desc", m.Description)
	for i, mq := range m.Questions {
		if i == ballot.MaxQuestions {
			break
		}
		q := &draftQuestion{ID: mq.ID, Kind: mq.Kind, LabelJa: mq.Label.Ja, LabelEn: mq.Label.En, Optional: mq.Optional}
		q.Tr.put("label", &mq.Label)
		q.Tr.put("minlabel", mq.MinLabel)
		q.Tr.put("maxlabel", mq.MaxLabel)
		switch mq.Kind {
		case ballot.KindSingle:
		case ballot.KindText:
			q.Max = strconv.Itoa(mq.MaxLength)
		case ballot.KindRank:
			q.Min, q.Max = strconv.Itoa(mq.Min), strconv.Itoa(mq.RankMax())
		default:
			q.Min, q.Max = strconv.Itoa(mq.Min), strconv.Itoa(mq.Max)
		}
		if mq.MinLabel != nil {
			q.MinLabelJa, q.MinLabelEn = mq.MinLabel.Ja, mq.MinLabel.En
		}
		if mq.MaxLabel != nil {
			q.MaxLabelJa, q.MaxLabelEn = mq.MaxLabel.Ja, mq.MaxLabel.En
		}
		for k, mo := range mq.Options {
			if k == ballot.MaxOptions {
				break
			}
			o := &draftOption{ID: mo.ID, LabelJa: mo.Label.Ja, LabelEn: mo.Label.En}
			o.Tr.put("label", &mo.Label)
			o.Tr.put("desc", mo.Description)
			if mo.Description != nil {
				o.DescJa, o.DescEn = mo.Description.Ja, mo.Description.En
			}
			q.Options = append(q.Options, o)
		}
		d.Questions = append(d.Questions, q)
	}
	return d
}

func toLocal(rfc3339 string, loc *time.Location) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.In(loc).Format(datetimeLocal)
}

// fillIDs gives every question and option without an id a fresh one, and
// a kind's bounds their usual values when they are empty.
func fillIDs(d *draft) {
	used := map[string]bool{}
	for _, q := range d.Questions {
		used[q.ID] = true
	}
	fresh := func(used map[string]bool, prefix string, n int) string {
		for ; ; n++ {
			if id := prefix + strconv.Itoa(n); !used[id] {
				used[id] = true
				return id
			}
		}
	}
	for i, q := range d.Questions {
		if q.ID == "" {
			q.ID = fresh(used, "q", i+1)
		}
		if q.Kind == "" {
			q.Kind = ballot.KindSingle
		}
		switch q.Kind {
		case ballot.KindMultiple:
			if q.Min == "" {
				q.Min = "1"
			}
			if q.Max == "" || q.Max == "0" {
				q.Max = strconv.Itoa(max(len(q.Options), 1))
			}
		case ballot.KindRating:
			if q.Min == "" {
				q.Min = "1"
			}
			if q.Max == "" || q.Max == "0" {
				q.Max = "5"
			}
		case ballot.KindRank:
			if q.Min == "" {
				q.Min = "1"
			}
			if q.Max == "" || q.Max == "0" {
				q.Max = strconv.Itoa(max(len(q.Options), 2))
			}
		case ballot.KindText: // Max holds maxLength
			if q.Max == "" || q.Max == "0" {
				q.Max = "400"
			}
		}
		opts := map[string]bool{}
		for _, o := range q.Options {
			opts[o.ID] = true
		}
		for k, o := range q.Options {
			if o.ID == "" {
				o.ID = fresh(opts, "o", k+1)
			}
		}
	}
}

var manifestID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// build checks the draft and makes its manifest: nil, with the faults in
// d.Errors or d.Invalid, if it is not valid.
func (d *editorData) build(lang string, loc *time.Location) (*ballot.Manifest, []byte) {
	e := func(field, key string, args ...any) {
		if _, dup := d.Errors[field]; !dup {
			d.Errors[field] = msg(lang, key, args...)
			d.Order = append(d.Order, field)
		}
	}
	text := func(field string, ja, en string, other map[string]string, required bool) *ballot.Text {
		switch {
		case ja == "" && en == "" && len(other) == 0 && !required:
			return nil
		case ja == "":
			e(field+".ja", "console.e.ja")
		case len(ja) > 2000:
			e(field+".ja", "console.e.long")
		case len(en) > 2000:
			e(field+".en", "console.e.long")
		}
		for _, tag := range slices.Sorted(maps.Keys(other)) {
			if len(other[tag]) > 2000 {
				e(field+"."+tag, "console.e.long")
			}
		}
		return &ballot.Text{Ja: ja, En: en, Other: maps.Clone(other)}
	}
	num := func(field, s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			e(field, "console.e.number")
		}
		return n
	}
	when := func(field, s string) string {
		if s == "" {
			return ""
		}
		t, err := time.ParseInLocation(datetimeLocal, s, loc)
		if err != nil {
			if t, err = time.ParseInLocation(datetimeLocal+":05", s, loc); err != nil {
				e(field, "console.e.time")
				return ""
			}
		}
		return t.Format(time.RFC3339)
	}
	D := d.D
	m := &ballot.Manifest{Spec: "koe/v2", ID: D.ID, Kind: D.Kind}
	if !manifestID.MatchString(D.ID) {
		e("id", "console.e.id")
	}
	if D.Kind != "vote" && D.Kind != "survey" {
		e("kind", "console.e.kind")
	}
	if _, err := draftLangs(D); err != nil {
		e("langs", "console.e.langs", err.Error())
	}
	m.Title = *text("title", D.TitleJa, D.TitleEn, D.Tr["title"], true)
	m.Description = text("desc", D.DescJa, D.DescEn, D.Tr["desc"], false)
	m.Opens, m.Closes = when("opens", D.Opens), when("closes", D.Closes)
	if m.Opens != "" && m.Closes != "" && m.Closes <= m.Opens {
		// Both are in the same zone and format, so they compare as strings.
		e("closes", "console.e.closes")
	}
	m.Trustees, m.Threshold = num("trustees", D.Trustees), num("threshold", D.Threshold)
	if _, bad := d.Errors["trustees"]; !bad && (m.Trustees < 1 || m.Trustees > ballot.MaxTrustees) {
		e("trustees", "console.e.trustees", ballot.MaxTrustees)
	}
	if _, bad := d.Errors["threshold"]; !bad && (m.Threshold < 1 || m.Threshold > m.Trustees) {
		e("threshold", "console.e.threshold")
	}
	if D.Privacy != "" {
		p := num("privacy", D.Privacy)
		if _, bad := d.Errors["privacy"]; !bad && (p < 1 || p > ballot.MaxPrivacyThreshold) {
			e("privacy", "console.e.privacy", ballot.MaxPrivacyThreshold)
		}
		m.Privacy = &p
	}
	if len(D.Questions) == 0 {
		e("questions", "console.e.noquestions")
	}
	qids := map[string]bool{}
	for i, dq := range D.Questions {
		p := fmt.Sprintf("q%d.", i)
		q := ballot.Question{ID: dq.ID, Kind: dq.Kind}
		switch {
		case !manifestID.MatchString(dq.ID):
			e(p+"id", "console.e.id")
		case qids[dq.ID]:
			e(p+"id", "console.e.dupid")
		}
		qids[dq.ID] = true
		q.Label = *text(p+"label", dq.LabelJa, dq.LabelEn, dq.Tr["label"], true)
		switch dq.Kind {
		case ballot.KindSingle, ballot.KindMultiple, ballot.KindRank:
			if len(dq.Options) == 0 {
				e(p+"options", "console.e.nooptions")
			}
			oids := map[string]bool{}
			for k, do := range dq.Options {
				op := fmt.Sprintf("%so%d.", p, k)
				switch {
				case !manifestID.MatchString(do.ID):
					e(op+"id", "console.e.id")
				case oids[do.ID]:
					e(op+"id", "console.e.dupid")
				}
				oids[do.ID] = true
				q.Options = append(q.Options, ballot.Option{ID: do.ID, Label: *text(op+"label", do.LabelJa, do.LabelEn, do.Tr["label"], true),
					Description: text(op+"desc", do.DescJa, do.DescEn, do.Tr["desc"], false)})
			}
			if dq.Kind == ballot.KindSingle {
				q.Optional = dq.Optional
				break
			}
			q.Min, q.Max = num(p+"min", dq.Min), num(p+"max", dq.Max)
			if dq.Kind == ballot.KindRank {
				if len(q.Options) == 1 {
					e(p+"options", "console.e.rank.options")
				}
				if _, bad := d.Errors[p+"min"]; !bad && (q.Min < 0 || q.Min > q.Max) {
					e(p+"min", "console.e.multiple.min")
				}
				if _, bad := d.Errors[p+"max"]; !bad && (q.Max < 1 || q.Max > len(q.Options)) {
					e(p+"max", "console.e.multiple.max", len(q.Options))
				}
				break
			}
			if _, bad := d.Errors[p+"min"]; !bad && (q.Min < 0 || q.Min > q.Max) {
				e(p+"min", "console.e.multiple.min")
			}
			if _, bad := d.Errors[p+"max"]; !bad && (q.Max < 1 || q.Max > len(q.Options)) {
				e(p+"max", "console.e.multiple.max", len(q.Options))
			}
		case ballot.KindRating:
			q.Min, q.Max = num(p+"min", dq.Min), num(p+"max", dq.Max)
			if _, bad := d.Errors[p+"min"]; !bad && q.Min < 0 {
				e(p+"min", "console.e.rating.min")
			}
			if _, bad := d.Errors[p+"max"]; !bad && (q.Max <= q.Min || q.Max > q.Min+ballot.MaxRatingSpan || q.Max > ballot.MaxRatingValue) {
				e(p+"max", "console.e.rating.max", ballot.MaxRatingSpan)
			}
			q.MinLabel = text(p+"minlabel", dq.MinLabelJa, dq.MinLabelEn, dq.Tr["minlabel"], false)
			q.MaxLabel = text(p+"maxlabel", dq.MaxLabelJa, dq.MaxLabelEn, dq.Tr["maxlabel"], false)
		case ballot.KindText:
			q.MaxLength, q.Optional = num(p+"max", dq.Max), dq.Optional
			if _, bad := d.Errors[p+"max"]; !bad && (q.MaxLength < 1 || q.MaxLength > ballot.MaxTextLength) {
				e(p+"max", "console.e.text.max", ballot.MaxTextLength)
			}
		default:
			e(p+"kind", "console.e.kind")
		}
		m.Questions = append(m.Questions, q)
	}
	if len(d.Errors) > 0 {
		return nil, nil
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		d.Invalid = err.Error()
		return nil, nil
	}
	data = append(data, '\n')
	parsed, err := ballot.ParseManifest(data)
	if err != nil {
		d.Invalid = err.Error()
		return nil, nil
	}
	return parsed, data
}

// FieldID is the element id of a form field's name (dots become dashes).
func (d *editorData) FieldID(name string) string { return strings.ReplaceAll(name, ".", "-") }

func client409(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

// fieldView is the argument of the "consolefield" and "consolepair"
// templates: one input, or a Japanese and an English input (and one for
// each other language of the draft).
type fieldView struct {
	V                           *view
	Name, ID, Label, Hint, Type string
	Value, Err                  string // one input
	Ja, En, ErrJa, ErrEn        string // a pair
	Others                      []otherField
	Required, Area              bool
	Min, Max                    string // number inputs
}

// otherField is a label's input in a language other than ja and en.
type otherField struct {
	Tag, Name, Value, Err string
}

// draftLangs lists the draft's other label languages: those named in
// Langs and those its labels have, sorted; an ill-formed or non-canonical
// tag in Langs is an error.
func draftLangs(d *draft) ([]string, error) {
	seen := map[string]bool{}
	var bad error
	for _, tag := range strings.FieldsFunc(d.Langs, func(r rune) bool { return r == ',' || r == ' ' || r == '、' }) {
		lt, err := language.Parse(tag)
		switch {
		case err != nil:
			bad = fmt.Errorf("%q: %v", tag, err)
		case lt.String() != tag:
			bad = fmt.Errorf("%q: write %q", tag, lt.String())
		case tag == "ja" || tag == "en":
		default:
			seen[tag] = true
		}
	}
	add := func(tr translations) {
		for _, m := range tr {
			for tag := range m {
				seen[tag] = true
			}
		}
	}
	add(d.Tr)
	for _, q := range d.Questions {
		add(q.Tr)
		for _, o := range q.Options {
			add(o.Tr)
		}
	}
	return slices.Sorted(maps.Keys(seen)), bad
}

// ConsoleField is an input of the editor: name is the field's name,
// label and hint catalogue keys (hint may be empty).
func (v *view) ConsoleField(d *editorData, name, label, value, typ, hint string) fieldView {
	f := fieldView{V: v, Name: name, ID: d.FieldID(name), Label: v.T(label), Value: value, Type: typ, Err: d.E(name)}
	if hint != "" {
		f.Hint = v.T(hint)
	}
	return f
}

// ConsoleNumber is a number input with bounds.
func (v *view) ConsoleNumber(d *editorData, name, label, value, hint string, lo, hi int) fieldView {
	f := v.ConsoleField(d, name, label, value, "number", hint)
	f.Min, f.Max = strconv.Itoa(lo), strconv.Itoa(hi)
	return f
}

// ConsolePair is a label's Japanese and English inputs; a textarea if area.
// other holds the label's other languages (a translations entry); the
// pair has an input for each language of the draft (draftLangs).
func (v *view) ConsolePair(d *editorData, name, label, ja, en string, other map[string]string, required, area bool) fieldView {
	f := fieldView{V: v, Name: name, ID: d.FieldID(name), Label: v.T(label), Ja: ja, En: en,
		ErrJa: d.E(name + ".ja"), ErrEn: d.E(name + ".en"), Required: required, Area: area}
	tags, _ := draftLangs(d.D)
	for _, tag := range tags {
		f.Others = append(f.Others, otherField{Tag: tag, Name: name + "." + tag, Value: other[tag], Err: d.E(name + "." + tag)})
	}
	return f
}

// LangName names a label language in itself where the site knows it
// ("简体中文"), else by its tag.
func (v *view) LangName(tag string) string {
	for _, l := range languages {
		if l.code == tag {
			return l.name
		}
	}
	return tag
}

// summaryItem is a link of the error summary to a field in error.
type summaryItem struct{ ID, Where, Message string }

// Summary lists the fields in error, in the form's order, with where they are.
func (d *editorData) Summary(v *view) []summaryItem {
	var out []summaryItem
	for _, name := range d.Order {
		out = append(out, summaryItem{ID: d.FieldID(name), Where: fieldLabel(v, name), Message: d.Errors[name]})
	}
	return out
}

// fieldLabel says where a field is: "質問 2 › 選択肢 1 › ラベル（日本語）".
func fieldLabel(v *view, name string) string {
	var where []string
	parts := strings.Split(name, ".")
	for len(parts) > 0 {
		p := parts[0]
		if n, err := strconv.Atoi(strings.TrimLeft(p, "qo")); err == nil && len(p) > 1 && (p[0] == 'q' || p[0] == 'o') {
			where = append(where, v.T("console.f."+p[:1], n+1))
			parts = parts[1:]
			continue
		}
		label := v.T("console.f." + p)
		if len(parts) > 1 {
			if parts[1] == "ja" || parts[1] == "en" {
				label += v.T("console.lang." + parts[1])
			} else {
				label += v.T("console.lang.other", v.LangName(parts[1]), parts[1])
			}
		}
		where = append(where, label)
		break
	}
	return strings.Join(where, " › ")
}

// Examples names the sample manifests the editor can start from.
func (d *editorData) Examples() []string { return exampleNames }
