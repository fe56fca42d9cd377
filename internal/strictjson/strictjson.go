// Package strictjson decodes JSON the way koe's record formats require
// (SPEC.md §2.3): exactly one value, object keys spelled exactly as the
// fields are named (encoding/json alone matches them without regard to
// case), no unknown or duplicate keys, nothing after the value, and bounded
// nesting.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Decode decodes exactly one JSON value from data into v, which must point
// to a struct (or a slice of structs) without maps. The allowed object keys
// are the JSON names of the fields of every struct reachable from v.
func Decode(data []byte, v any) error {
	return DecodeKeys(data, v, Keys(reflect.TypeOf(v)))
}

// Keys returns the JSON names of the fields of every struct reachable from t.
// It panics if t contains a map, whose keys are data, not field names.
func Keys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			panic("strictjson: maps are not supported: " + t.String())
		case reflect.Struct:
			for f := range t.Fields() {
				if !f.IsExported() {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if f.Anonymous && f.Tag.Get("json") == "" {
					walk(f.Type)
					continue
				}
				keys[name] = true
				walk(f.Type)
			}
		}
	}
	walk(t)
	return keys
}

// DecodeKeys is Decode with an explicit set of allowed object keys.
func DecodeKeys(data []byte, v any, allowed map[string]bool) error {
	if err := checkKeys(data, allowed); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

const maxDepth = 16

// checkKeys walks the tokens of data and checks every object key.
func checkKeys(data []byte, allowed map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k, ok := tok.(string)
			if !ok {
				return errors.New("malformed JSON object")
			}
			if !allowed[k] {
				return fmt.Errorf("unknown field %q", k)
			}
			if top.keys[k] {
				return fmt.Errorf("duplicate field %q", k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // this token is a value; a key comes next
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			case ']':
				stack = stack[:len(stack)-1]
			}
			if len(stack) > maxDepth {
				return errors.New("JSON nested too deeply")
			}
		}
	}
}
