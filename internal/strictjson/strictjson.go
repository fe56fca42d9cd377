// Package strictjson decodes JSON the way koe's record formats require
// (SPEC.md §2.3): exactly one value, object keys spelled exactly as the
// fields are named (encoding/json alone matches them without regard to
// case), no unknown or duplicate keys, nothing after the value, and bounded
// nesting, no null anywhere, valid UTF-8 only, base64 ([]byte fields) in
// its one canonical form, and every required field present.
//
// A struct field is optional when its json tag has the omitempty or
// omitzero option, and required otherwise (SPEC §2.3): the tags of a
// decoded type are its schema.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Decode decodes exactly one JSON value from data into v. The object keys
// allowed at each place are the JSON names of the fields of the struct that
// place decodes into, spelled exactly; a json.RawMessage field's value is
// left unchecked (its own decoder checks it), as are map keys and the value
// of a type with its own UnmarshalJSON. Every field of a struct that is not
// optional (see the package doc) must be present.
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
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	bytesType       = reflect.TypeFor[[]byte]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
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
	// ErrMissing is an object without one of its required fields (a field
	// whose json tag has neither omitempty nor omitzero); encoding/json
	// would leave the field at its zero value (SPEC §2.3). The error
	// returned wraps it and names the field.
	ErrMissing = errors.New("missing required field")
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

// field is one JSON field of a struct: its name, its type, and whether it
// may be absent.
type field struct {
	name     string
	typ      reflect.Type
	optional bool
}

// schema is the JSON fields of a struct type, in declaration order and by
// name.
type schema struct {
	fields []field
	byName map[string]int
}

var schemas sync.Map // reflect.Type → *schema

// schemaOf returns the JSON fields of struct type t, as encoding/json names
// them (embedded untagged structs are flattened).
func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	s := &schema{byName: map[string]int{}}
	for _, f := range fieldsOf(t) {
		if _, dup := s.byName[f.name]; dup {
			continue
		}
		s.byName[f.name] = len(s.fields)
		s.fields = append(s.fields, f)
	}
	schemas.Store(t, s)
	return s
}

// fieldsOf lists the JSON fields of struct type t.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, fieldsOf(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		out = append(out, field{name: name, typ: f.Type, optional: optional})
	}
	return out
}

// decodesItself reports whether values of t are decoded by their own
// UnmarshalJSON or UnmarshalText, which then check them.
func decodesItself(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) ||
		t.Implements(textType) || reflect.PointerTo(t).Implements(textType)
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
	if t == nil || t == rawMessageType || t.Kind() == reflect.Interface || decodesItself(t) {
		return skip(dec, depth+1)
	}
	switch {
	case d == '{' && t.Kind() == reflect.Struct:
		return checkObject(dec, schemaOf(t), depth)
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

// checkObject reads the rest of an object whose opening delimiter was read,
// checking its keys and values against s and that every required field is
// present.
func checkObject(dec *json.Decoder, s *schema, depth int) error {
	seen := make([]bool, len(s.fields))
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k := kt.(string)
		i, ok := s.byName[k]
		if !ok {
			return fmt.Errorf("unknown field %q", k)
		}
		if seen[i] {
			return fmt.Errorf("duplicate field %q", k)
		}
		seen[i] = true
		if err := checkValue(dec, s.fields[i].typ, depth+1); err != nil {
			return err
		}
	}
	for i, f := range s.fields {
		if !seen[i] && !f.optional {
			return fmt.Errorf("%w %q", ErrMissing, f.name)
		}
	}
	_, err := dec.Token() // the closing brace
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
