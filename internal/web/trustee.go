package web

import (
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

// The trustee's page (issue 12, item 10): an election commission's
// trustee makes their key, takes part in the key ceremony, mixes the text
// and rank answers and decrypts, in a browser, with their key file. The
// cryptography is koe's own trustee code (internal/trusteeflow) compiled
// to WebAssembly (cmd/koe-trustee-wasm, built into static/trustee by
// web/trustee/build.sh): it runs on the trustee's device and talks to the
// API with the trustee's token, as koe trustee --server does. The key
// file and the passphrase never leave the page (SPEC.md §6.7).

const trusteeProgram = "trustee/trustee.wasm"

type trusteeData struct {
	*electionView
	Config template.JS
	Built  bool // the program is built into this binary
	Path   string
	// Trustees has one element per trustee number, for the choice.
	Trustees []struct{}
}

// trusteeConfig is what the page's script reads.
type trusteeConfig struct {
	Election string            `json:"election"`
	Lang     string            `json:"lang"`
	Program  string            `json:"program"`
	Messages map[string]string `json:"messages"`
}

func (s *Site) trustee(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	d := &trusteeData{electionView: ev, Path: r.URL.Path, Trustees: make([]struct{}, ev.Manifest.Trustees)}
	_, err1 := fs.Stat(s.assets, trusteeProgram)
	_, err2 := fs.Stat(s.assets, "trustee/wasm_exec.js")
	d.Built = err1 == nil && err2 == nil
	cfg := trusteeConfig{Election: ev.Info.ID, Lang: r.lang, Program: "/static/" + trusteeProgram, Messages: map[string]string{}}
	for k := range catalogue["ja"] {
		if name, ok := strings.CutPrefix(k, "trustee.js."); ok {
			cfg.Messages[name] = msg(r.lang, k)
		}
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return "", nil, err
	}
	// json.Marshal escapes <, > and &: the text cannot end its script element.
	d.Config = template.JS(js)
	return "trustee", d, nil
}

// allowWasm lets the page compile WebAssembly, which the site's policy
// otherwise forbids; only the trustee's page needs it.
func allowWasm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h(w, r)
	}
}
