// Package strictjson decodes JSON the way koe's record formats require
// (SPEC.md §2.3): exactly one value, object keys spelled exactly as the
// fields are named (encoding/json alone matches them without regard to
// case), no unknown or duplicate keys, nothing after the value, and bounded
// nesting, no null anywhere, valid UTF-8 only, and base64 ([]byte fields)
// in its one canonical form.
package strictjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Decode decodes exactly one JSON value from data into v. The object keys
// allowed at each place are the JSON names of the fields of the struct that
// place decodes into, spelled exactly; a json.RawMessage field's value is
// left unchecked (its own decoder checks it), as are map keys.
func Decode(data []byte, v any) error {
	if !utf8.Valid(data) {
		return ErrUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, reflect.TypeOf(v), 0); err != nil {
		return err
	}
	return decodeOne(data, v)
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	bytesType      = reflect.TypeFor[[]byte]()
)

// Errors for what encoding/json alone would accept.
var (
	// ErrNull is a null anywhere in a document: koe's formats omit a field
	// rather than give it the value null (SPEC §2.3).
	ErrNull = errors.New("null is not allowed")
	// ErrUTF8 is a document that is not valid UTF-8 (encoding/json would
	// replace the bad bytes with U+FFFD).
	ErrUTF8 = errors.New("JSON is not valid UTF-8")
	// ErrBase64 is base64 not in its one canonical form: padded standard
	// alphabet, no line breaks or spaces, zero trailing bits (SPEC §2.3).
	ErrBase64 = errors.New("base64 is not canonical (standard alphabet, padded, no whitespace, zero trailing bits)")
)

// Base64 decodes s, which must be in its one canonical form: the standard
// alphabet with padding, no whitespace or line breaks (which
// encoding/base64 skips even in strict mode), and zero trailing bits.
func Base64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, ErrBase64
	}
	return b, nil
}

// fieldsOf returns the JSON names of t's fields, with their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// checkValue reads one JSON value from dec and checks its object keys
// against t.
func checkValue(dec *json.Decoder, t reflect.Type, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deeply")
	}
	for t != nil && t.Kind() == reflect.Pointer && t != rawMessageType {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return ErrNull
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		if str, ok := tok.(string); ok && t == bytesType {
			if _, err := Base64(str); err != nil {
				return err
			}
		}
		return nil
	}
	if t == nil || t == rawMessageType || t.Kind() == reflect.Interface {
		return skip(dec, depth+1)
	}
	switch {
	case d == '{' && t.Kind() == reflect.Struct:
		fields := fieldsOf(t)
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string)
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q", k)
			}
			if seen[k] {
				return fmt.Errorf("duplicate field %q", k)
			}
			seen[k] = true
			if err := checkValue(dec, ft, depth+1); err != nil {
				return err
			}
		}
	case d == '{' && t.Kind() == reflect.Map:
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			if seen[kt.(string)] {
				return fmt.Errorf("duplicate key %q", kt)
			}
			seen[kt.(string)] = true
			if err := checkValue(dec, t.Elem(), depth+1); err != nil {
				return err
			}
		}
	case d == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for dec.More() {
			if err := checkValue(dec, t.Elem(), depth+1); err != nil {
				return err
			}
		}
	default:
		// The JSON does not have the type's shape: encoding/json reports it.
		return skip(dec, depth+1)
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// skip reads the rest of an object or array whose opening delimiter was read.
func skip(dec *json.Decoder, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deeply")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == nil {
			return ErrNull
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if err := skip(dec, depth+1); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token()
	return err
}

// DecodeKeys is Decode with an explicit set of allowed object keys.
func DecodeKeys(data []byte, v any, allowed map[string]bool) error {
	if !utf8.Valid(data) {
		return ErrUTF8
	}
	if err := checkKeys(data, allowed); err != nil {
		return err
	}
	return decodeOne(data, v)
}

// decodeOne decodes one JSON value with unknown fields disallowed, and
// nothing after it.
func decodeOne(data []byte, v any) error {
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
		if tok == nil {
			return ErrNull
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
