//go:build js && wasm

// Command koe-trustee-wasm is the trustee page's program: koe's own
// trustee code (internal/trusteeflow), compiled to WebAssembly, so that a
// trustee in a browser makes, checks and decrypts with exactly the code
// and encodings of koe trustee, on their own device. It talks to the
// server the page came from with the trustee's token, as koe trustee
// --server does; the key file and the passphrase never leave the page.
//
// It exposes globalThis.koeTrustee, whose functions each return a
// Promise (SPEC.md §6.7):
//
//	status({election, token, key?, passphrase?})  → the step due
//	keygen({election, token, index, name, passphrase, keep}) → report
//	step({election, token, key, passphrase, progress}) → report
//
// key is the key file's bytes (a Uint8Array); keep and a report's
// newKey are the key file to save. progress(text, done, total) shows
// long work.
package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"syscall/js"

	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/trusteeflow"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("status", promised(status))
	api.Set("keygen", promised(keygen))
	api.Set("step", promised(step))
	js.Global().Set("koeTrustee", api)
	if ready := js.Global().Get("koeTrusteeReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// promised runs f in a goroutine (it blocks on the network, which a
// JavaScript callback must not) and returns a Promise of its result, a
// JSON text, or of an Error carrying the message and the hint.
func promised(f func(args js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, argv []js.Value) any {
		var args js.Value
		if len(argv) > 0 {
			args = argv[0]
		}
		return js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, pv []js.Value) any {
			resolve, reject := pv[0], pv[1]
			go func() {
				out, err := f(args)
				if err != nil {
					e := js.Global().Get("Error").New(err.Error())
					var h *trusteeflow.HintError
					if errors.As(err, &h) {
						e.Set("hint", h.Hint)
					}
					reject.Invoke(e)
					return
				}
				if v, ok := out.(js.Value); ok {
					resolve.Invoke(v)
					return
				}
				data, err := json.Marshal(out)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				resolve.Invoke(js.Global().Get("JSON").Call("parse", string(data)))
			}()
			return nil
		}))
	})
}

// localState keeps the board key pinned on first use and the last
// checkpoint seen in the browser's storage, per election and trustee,
// as koe trustee keeps them in KEY.board.
type localState struct{ key string }

func (s localState) Load() ([]byte, error) {
	v := js.Global().Get("localStorage").Call("getItem", s.key)
	if v.IsNull() || v.IsUndefined() {
		return nil, nil
	}
	return []byte(v.String()), nil
}

func (s localState) Save(data []byte) error {
	js.Global().Get("localStorage").Call("setItem", s.key, string(data))
	return nil
}

func (s localState) Describe() string { return "this browser's storage" }

func str(v js.Value, name string) string {
	if f := v.Get(name); f.Type() == js.TypeString {
		return f.String()
	}
	return ""
}

func bytesOf(v js.Value) []byte {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

func toJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// session opens the election at the page's own server with the
// trustee's token.
func session(args js.Value) (*trusteeflow.Session, error) {
	id, token := str(args, "election"), str(args, "token")
	if id == "" {
		return nil, errors.New("no election")
	}
	if token == "" {
		return nil, trusteeflow.WithHint(errors.New("no trustee token"), "the administrator gave you one when the election was created")
	}
	origin := js.Global().Get("location").Get("origin").String()
	pl := &trusteeflow.ServerPlace{C: client.New(origin, token), ID: id,
		State: localState{fmt.Sprintf("koe-trustee-board:%s", id)}}
	return trusteeflow.Open(pl)
}

// unlock opens the key file with the passphrase.
func unlock(s *trusteeflow.Session, args js.Value) ([]byte, error) {
	sealed, pass := bytesOf(args.Get("key")), []byte(str(args, "passphrase"))
	if len(sealed) == 0 {
		return nil, errors.New("no key file")
	}
	t, err := trusteeflow.OpenKey("the key file", sealed, pass)
	if err != nil {
		return nil, err
	}
	s.T = t
	return pass, nil
}

// statusReport is what status returns.
type statusReport struct {
	Trustees  int               `json:"trustees"`
	Threshold int               `json:"threshold"`
	Mixed     bool              `json:"mixed"`
	Steps     []string          `json:"steps"`
	Announced []int             `json:"announced"`
	Index     int               `json:"index,omitempty"`
	Name      string            `json:"name,omitempty"`
	Due       *trusteeflow.Due  `json:"due,omitempty"`
	Pinned    string            `json:"pinned,omitempty"`
	Board     map[string]string `json:"board,omitempty"`
}

func status(args js.Value) (any, error) {
	s, err := session(args)
	if err != nil {
		return nil, err
	}
	r := &statusReport{Trustees: s.P.N, Threshold: s.P.T, Mixed: len(s.M.Mixed()) > 0, Steps: s.Steps()}
	if r.Announced, err = s.Announced(); err != nil {
		return nil, err
	}
	r.Pinned = s.Place.(*trusteeflow.ServerPlace).Pinned()
	if args.Get("key").IsUndefined() || args.Get("key").IsNull() {
		return r, nil
	}
	if _, err := unlock(s, args); err != nil {
		return nil, err
	}
	r.Index, r.Name = s.T.Index, s.T.Name
	d, err := s.Due()
	if err != nil {
		return nil, err
	}
	r.Due = &d
	return r, nil
}

func keygen(args js.Value) (any, error) {
	s, err := session(args)
	if err != nil {
		return nil, err
	}
	pass := []byte(str(args, "passphrase"))
	if len(pass) < 8 {
		return nil, errors.New("the passphrase must have at least 8 characters")
	}
	keep := args.Get("keep")
	rep, err := s.Keygen(args.Get("index").Int(), str(args, "name"), pass, func(sealed []byte) error {
		if keep.Type() != js.TypeFunction {
			return errors.New("nowhere to keep the key file")
		}
		keep.Invoke(toJS(sealed))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func step(args js.Value) (any, error) {
	s, err := session(args)
	if err != nil {
		return nil, err
	}
	pass, err := unlock(s, args)
	if err != nil {
		return nil, err
	}
	var newKey []byte
	s.Save = func(t *ceremony.Trustee) error {
		sealed, err := trusteeflow.SealKey(t, pass)
		newKey = sealed
		return err
	}
	if progress := args.Get("progress"); progress.Type() == js.TypeFunction {
		s.Progress = func(stage string, done, total int) { progress.Invoke("verifying "+stage, done, total) }
		s.Step = func(label string) func() {
			progress.Invoke(label, 0, 0)
			return func() {}
		}
	}
	rep, err := s.Run()
	out := js.Global().Get("Object").New()
	if rep != nil {
		data, jerr := json.Marshal(rep)
		if jerr != nil {
			return nil, jerr
		}
		out.Set("report", js.Global().Get("JSON").Call("parse", string(data)))
	}
	if newKey != nil {
		// A changed key file is handed back even when a later part of
		// the step failed: the trustee must keep it.
		out.Set("newKey", toJS(newKey))
	}
	if err != nil {
		if newKey == nil {
			return nil, err
		}
		out.Set("error", err.Error())
		var h *trusteeflow.HintError
		if errors.As(err, &h) {
			out.Set("hint", h.Hint)
		}
	}
	return out, nil
}
