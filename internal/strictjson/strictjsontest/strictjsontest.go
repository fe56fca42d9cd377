// Package strictjsontest helps test decoders built on strictjson: it
// checks that a decoder refuses a valid document with any one of its
// required fields removed (SPEC.md §2.3).
package strictjsontest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// RequireFields checks that decode accepts valid and refuses it, with an
// error naming the field, once each field in paths is removed. A path is
// a top-level key ("counter") or a dotted path through objects and array
// indices ("questions.0.label.ja").
func RequireFields(t testing.TB, valid []byte, decode func([]byte) error, paths ...string) {
	t.Helper()
	if err := decode(valid); err != nil {
		t.Fatalf("the valid document is refused: %v", err)
	}
	for _, p := range paths {
		data := Drop(t, valid, p)
		err := decode(data)
		key := p[strings.LastIndex(p, ".")+1:]
		if err == nil {
			t.Errorf("without %q: accepted", p)
		} else if !strings.Contains(err.Error(), `missing required field "`+key+`"`) {
			t.Errorf("without %q: %v, want an error naming the missing field", p, err)
		}
	}
}

// Drop returns data, a JSON document, with the field at path removed.
func Drop(t testing.TB, data []byte, path string) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	parts := strings.Split(path, ".")
	v := doc
	for _, p := range parts[:len(parts)-1] {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				t.Fatalf("Drop: no element %q in %s", p, path)
			}
			v = x[i]
		default:
			t.Fatalf("Drop: %s does not lead to an object", path)
		}
	}
	obj, ok := v.(map[string]any)
	last := parts[len(parts)-1]
	if _, has := obj[last]; !ok || !has {
		t.Fatalf("Drop: the document has no field %s", path)
	}
	delete(obj, last)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("Drop: %v", err)
	}
	return out
}
