package web

import (
	"net/http"
	"net/url"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/ballot"
)

// A draft (an election in setup, SPEC.md §15.2 Drafts) can be edited in
// the editor, until a trustee begins the key ceremony, and deleted after
// a confirmation page.

func (c *console) mountDrafts(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/elections/{id}/edit", c.handle(c.editDraft, true))
	mux.HandleFunc("GET /admin/elections/{id}/delete", c.handle(c.confirmDelete, true))
	mux.HandleFunc("POST /admin/elections/{id}/delete", c.handle(c.deleteDraft, true))
}

// draftActions are the election page's buttons for a draft.
func draftActions(state string) []actionView {
	if state != api.StateSetup {
		return nil
	}
	return []actionView{
		{Name: "edit", Enabled: true, Why: "console.action.edit.help"},
		{Name: "delete", Enabled: true, Why: "console.action.delete.help"},
	}
}

// editDraft opens the editor on a draft's manifest.
func (c *console) editDraft(r *creq) (string, any, error) {
	ev, err := c.s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if ev.Info.State != api.StateSetup {
		return "", nil, &redirect{"/admin/elections/" + url.PathEscape(ev.Info.ID)}
	}
	d := &editorData{consoleBase: r.base(), Errors: fieldErrors{}}
	d.D = fromManifest(ev.Manifest, c.s.opts.Location)
	d.D.Editing = ev.Info.ID
	fillIDs(d.D)
	return "console-editor", d, nil
}

// saveDraft replaces the draft's manifest through the API and goes back to
// the election's page; what the API refuses is shown in the editor.
func (c *console) saveDraft(r *creq, d *editorData, m *ballot.Manifest, data []byte) (string, any, error) {
	id := d.D.Editing
	err := c.admin.Do(r.Context(), "PUT", api.ElectionPath(id, "/manifest"), "application/json", data, nil)
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
	c.s.log.Info("console: draft edited", "election", id)
	return "", nil, &redirect{"/admin/elections/" + url.PathEscape(id) + "?done=edit"}
}

// confirmDelete asks before deleting a draft.
func (c *console) confirmDelete(r *creq) (string, any, error) {
	ev, err := c.s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	if ev.Info.State != api.StateSetup {
		return "", nil, &redirect{"/admin/elections/" + url.PathEscape(ev.Info.ID)}
	}
	return "console-confirm", &confirmData{consoleBase: r.base(), electionView: ev, Action: "delete"}, nil
}

// deleteDraft deletes the draft through the API and goes to the console's
// home page.
func (c *console) deleteDraft(r *creq) (string, any, error) {
	id := r.PathValue("id")
	err := c.admin.Do(r.Context(), "DELETE", api.ElectionPath(id, ""), "", nil, nil)
	if err == nil {
		c.s.log.Info("console: draft deleted", "election", id)
		return "", nil, &redirect{"/admin?deleted=" + url.QueryEscape(id)}
	}
	return c.failOnElectionPage(r, id, err, http.StatusConflict, func(d *electionData, p *apiProblem) { d.ActionError = p })
}
