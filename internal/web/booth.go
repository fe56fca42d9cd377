package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
	"rsc.io/qr"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/board"
	"github.com/koe-vote/koe/internal/client"
)

// The voter's booth (issue 5, item 1): a server-rendered page whose
// script (web/booth, bundled into static/booth/booth.js) registers the
// voter's anonymous credential, encrypts the answers on the device,
// offers the Benaloh challenge, casts and keeps the receipt. The page
// itself holds nothing about the voter; the script talks to the API
// directly, without cookies, one request for the credential and another
// for the ballot.

// boothScript is the path of the booth's bundled script.
const boothScript = "booth/booth.js"

type boothData struct {
	*electionView
	Config     template.JS // the script's settings, JSON
	Script     bool        // the script is built into this binary
	ScriptPath string
	Results    string
}

// boothConfig is what the booth's script reads from the page.
type boothConfig struct {
	Election     string            `json:"election"`
	Lang         string            `json:"lang"`
	API          string            `json:"api"`
	Context      string            `json:"context"`
	JointKey     string            `json:"jointKey"`
	RegistrarKey string            `json:"registrarKey"`
	BoardKey     string            `json:"boardKey"`
	DigitalID    bool              `json:"digitalID"`
	ReceiptPage  string            `json:"receiptPage"`
	QR           string            `json:"qr"`
	Messages     map[string]string `json:"messages"`
	// Closed: the election is closed (or later); the script checks the
	// receipts this device kept against the final cosigned board.
	Closed bool `json:"closed,omitempty"`
}

func (s *Site) booth(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	id := ev.Info.ID
	d := &boothData{electionView: ev, Results: "/elections/" + url.PathEscape(id) + "/results"}
	if _, err := fs.Stat(s.assets, boothScript); err == nil {
		d.Script, d.ScriptPath = true, "/static/"+boothScript
	}
	if ev.Info.State == api.StateSetup || ev.Info.Params == nil {
		return "booth", d, nil
	}
	if d.Config, err = s.boothConfigJS(r, ev, ev.Info.State != api.StateOpen); err != nil {
		return "", nil, err
	}
	return "booth", d, nil
}

// boothConfigJS is the booth script's settings for an election that is
// open or, with closed, closed or later (then the script checks the
// device's receipts against the final board, final.js).
func (s *Site) boothConfigJS(r *request, ev *electionView, closed bool) (template.JS, error) {
	id := ev.Info.ID
	cfg := boothConfig{Closed: closed,
		Election: id, Lang: r.lang, API: api.ElectionPath(id, ""),
		Context: ev.Info.Params.Context, JointKey: ev.Info.Params.JointKey,
		RegistrarKey: ev.Info.RegistrarKey, BoardKey: ev.Info.BoardKey, DigitalID: ev.Info.DigitalID != nil,
		ReceiptPage: "/elections/" + url.PathEscape(id) + "/receipt",
		QR:          "/elections/" + url.PathEscape(id) + "/qr",
		Messages:    map[string]string{},
	}
	for k := range catalogue["ja"] {
		if name, ok := strings.CutPrefix(k, "booth.js."); ok {
			cfg.Messages[name] = msgFor(r.lang, k, ev.survey())
		}
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	// json.Marshal escapes <, > and &, so the text cannot end the script
	// element it is put in.
	return template.JS(js), nil
}

// --- Checking a receipt.

type receiptData struct {
	*electionView
	Config     template.JS // the booth script's settings after the close (final.js), else empty
	ScriptPath string
	Code       string
	Lookup     *lookup
	File       *fileCheck
	Command    string
}

// fileCheck is the result of checking a receipt file the voter kept.
type fileCheck struct {
	Error      string // catalogue key: the file could not be read
	Failure    string // why it failed the check
	Verified   bool
	Tracking   string
	Index      int64
	Size       int64 // the receipt's checkpoint's tree size
	LatestSize int64
}

func (s *Site) receipt(r *request) (string, any, error) {
	ev, err := s.loadElection(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	d := &receiptData{electionView: ev, Command: verifyCommand(r.Request, ev.Info.ID)}
	if _, err := fs.Stat(s.assets, boothScript); err == nil && ev.Info.Params != nil &&
		ev.Info.State != api.StateOpen && ev.Info.State != api.StateSetup {
		d.ScriptPath = "/static/" + boothScript
		if d.Config, err = s.boothConfigJS(r, ev, true); err != nil {
			return "", nil, err
		}
	}
	if r.Method == http.MethodPost {
		d.File, err = s.checkReceiptFile(r, ev.Info)
		if err != nil {
			return "", nil, err
		}
		return "receipt", d, nil
	}
	if code := strings.TrimSpace(r.URL.Query().Get("code")); code != "" {
		d.Code = code
		if d.Lookup, err = s.lookupReceipt(r.Context(), ev.Info, code); err != nil {
			return "", nil, err
		}
	}
	return "receipt", d, nil
}

// maxReceiptFile bounds a receipt file: an inclusion proof has at most 63
// hashes, a checkpoint a few hundred bytes.
const maxReceiptFile = 16 << 10

// checkReceiptFile checks a receipt as the voter got it when casting
// (SPEC.md §13.4): its checkpoint is signed with the election's board
// key, its inclusion proof takes the ballot's entry to that checkpoint,
// and the board's latest checkpoint is consistent with it — the board
// has only grown since, so the ballot is still on it.
func (s *Site) checkReceiptFile(r *request, in *api.ElectionInfo) (*fileCheck, error) {
	fc := &fileCheck{}
	r.Body = http.MaxBytesReader(nil, r.Body, maxReceiptFile+4<<10)
	var text string
	if err := r.ParseMultipartForm(maxReceiptFile + 4<<10); err == nil || errors.Is(err, http.ErrNotMultipart) {
		text = r.PostFormValue("receipt")
		if f, _, err := r.FormFile("file"); err == nil {
			data, err := io.ReadAll(io.LimitReader(f, maxReceiptFile+1))
			f.Close()
			if err != nil || len(data) > maxReceiptFile {
				fc.Error = "receipt.file.toolarge"
				return fc, nil
			}
			if len(bytes.TrimSpace(data)) > 0 {
				text = string(data)
			}
		}
	} else {
		fc.Error = "receipt.file.toolarge"
		return fc, nil
	}
	text = strings.TrimSpace(text)
	if text == "" {
		fc.Error = "receipt.file.empty"
		return fc, nil
	}
	rc, err := parseReceiptFile([]byte(text))
	if err != nil {
		fc.Error = "receipt.file.malformed"
		fc.Failure = err.Error()
		return fc, nil
	}
	fc.Tracking, fc.Index = rc.Tracking, rc.Index
	if rc.Election != in.ID {
		fc.Failure = fmt.Sprintf("the receipt is for election %q, not %q", rc.Election, in.ID)
		return fc, nil
	}
	v, err := board.ParseVerifierKey(in.BoardKey)
	if err != nil {
		return nil, err
	}
	cp, err := board.ParseCheckpoint([]byte(rc.Checkpoint), v)
	if err != nil {
		fc.Failure = err.Error()
		return fc, nil
	}
	fc.Size = cp.Size
	entry, err := s.api.Raw(r.Context(), "GET", api.ElectionPath(in.ID, fmt.Sprintf("/entries/%d", rc.Index)), "", nil)
	if client.IsCode(err, api.CodeNotFound) {
		fc.Failure = fmt.Sprintf("the board has no entry %d", rc.Index)
		return fc, nil
	} else if err != nil {
		return nil, err
	}
	if err := board.VerifyReceipt(rc, entry, v); err != nil {
		fc.Failure = err.Error()
		return fc, nil
	}
	latest, err := s.checkpoint(r.Context(), in)
	if err != nil {
		return nil, err
	}
	fc.LatestSize = latest.Size
	if latest.Size < cp.Size {
		fc.Failure = fmt.Sprintf("the board's latest checkpoint (size %d) is older than the receipt's (size %d)", latest.Size, cp.Size)
		return fc, nil
	}
	tiles := tlog.TileHashReader(tlog.Tree{N: latest.Size, Hash: latest.Hash}, &apiTiles{ctx: r.Context(), s: s, id: in.ID})
	proof, err := tlog.ProveTree(latest.Size, cp.Size, tiles)
	if err != nil {
		fc.Failure = fmt.Sprintf("cannot prove the board's consistency: %v", err)
		return fc, nil
	}
	if err := board.CheckConsistency(cp.Note, latest.Note, proof, v); err != nil {
		fc.Failure = err.Error()
		return fc, nil
	}
	fc.Verified = true
	return fc, nil
}

// parseReceiptFile reads the receipt file the booth offers for download:
// the ballot box's answer to a cast (api.CastResponse), or the bare
// receipt (board.Receipt).
func parseReceiptFile(data []byte) (*board.Receipt, error) {
	var wrapped struct {
		Receipt json.RawMessage `json:"receipt"`
	}
	if err := json.Unmarshal(data, &wrapped); err == nil && len(wrapped.Receipt) > 0 {
		data = wrapped.Receipt
	}
	return board.DecodeReceipt(data)
}

// apiTiles reads the board's hash tiles through the API, for proofs
// between checkpoints (tlog.TileHashReader checks every tile it reads
// against the latest checkpoint's tree hash).
type apiTiles struct {
	ctx context.Context
	s   *Site
	id  string
}

func (t *apiTiles) Height() int { return board.TileHeight }

func (t *apiTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		p := tileAPIPath(tile)
		data, err := t.s.api.Raw(t.ctx, "GET", api.ElectionPath(t.id, "/log/"+p), "", nil)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		out[i] = data
	}
	return out, nil
}

func (t *apiTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// tileAPIPath is the tlog-tiles path of a hash tile (SPEC.md §13.5).
func tileAPIPath(t tlog.Tile) string {
	p := "tile/" + strconv.Itoa(t.L) + "/" + strings.TrimPrefix(bundlePath(t.N, t.W), "tile/entries/")
	return p
}

// --- The receipt's QR code.

// qrCode serves, as SVG, a QR code of the address of the receipt check
// for a tracking code: ?code= names it.
func (s *Site) qrCode(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	if code == "" || len(code) > 128 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		http.Error(w, "a tracking code is needed: ?code=", http.StatusBadRequest)
		return
	}
	target := publicURL(r, "/elections/"+url.PathEscape(r.PathValue("id"))+"/receipt?code="+url.QueryEscape(code))
	c, err := qr.Encode(target, qr.M)
	if err != nil {
		http.Error(w, "cannot encode", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(qrSVG(c))
}

// qrSVG draws a QR code with a four-module quiet zone, one path of
// unit squares.
func qrSVG(c *qr.Code) []byte {
	n := c.Size + 8
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes()
}

// lookupView is the argument of the "lookup" template.
type lookupView struct {
	V    *view
	ID   string
	Page string // the page the form is on: board or receipt
	L    *lookup
}

// Lookup is the argument of the "lookup" template.
func (v *view) Lookup(id, page string, l *lookup) lookupView {
	return lookupView{V: v, ID: id, Page: page, L: l}
}
