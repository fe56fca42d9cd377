package web

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The migration of the Go maps' messages into the catalogue files:
//
//	go test ./internal/web -run TestLocalesUpdate -update
//
// writes locales/ja.json and locales/en.json from the Go maps (catalogue
// and surveyWords, the latter as "survey."+key), keeping what the files
// already hold: a key's description, and plural forms where a file has
// them (a plural entry is the file's). Running it again changes nothing.
var update = flag.Bool("update", false, "write the Go maps' messages into locales/ja.json and locales/en.json")

func TestLocalesUpdate(t *testing.T) {
	dir := t.TempDir()
	if *update {
		dir = "locales"
	} else {
		for _, l := range languages {
			data, err := localeFiles.ReadFile("locales/" + l.code + ".json")
			if err == nil {
				os.WriteFile(filepath.Join(dir, l.code+".json"), data, 0o644)
			}
		}
	}
	for range 2 {
		if err := migrateLocales(dir); err != nil {
			t.Fatal(err)
		}
	}
	first := map[string][]byte{}
	for _, lang := range []string{"ja", "en"} {
		data, err := os.ReadFile(filepath.Join(dir, lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseLocale(lang, data)
		if err != nil {
			t.Fatalf("the migration wrote a file it cannot read: %v", err)
		}
		for k, v := range goMessages[lang] {
			e, ok := m[k]
			if !ok {
				t.Errorf("%s: %s not migrated", lang, k)
			} else if e.Message != nil && *e.Message != v {
				t.Errorf("%s: %s migrated as %q, the Go map says %q", lang, k, *e.Message, v)
			}
		}
		first[lang] = data
	}
	if err := migrateLocales(dir); err != nil {
		t.Fatal(err)
	}
	for lang, data := range first {
		again, _ := os.ReadFile(filepath.Join(dir, lang+".json"))
		if !reflect.DeepEqual(again, data) {
			t.Errorf("%s: running the migration again changed the file", lang)
		}
	}
}

// migrateLocales merges the Go maps' ja and en messages into dir's files.
func migrateLocales(dir string) error {
	for _, lang := range []string{"ja", "en"} {
		file := filepath.Join(dir, lang+".json")
		m := map[string]localeEntry{}
		if data, err := os.ReadFile(file); err == nil {
			if m, err = parseLocale(lang, data); err != nil {
				return err
			}
		} else if !os.IsNotExist(err) {
			return err
		}
		put := func(k, v string) {
			e := m[k]
			if e.Description == "" {
				ja := goMessages["ja"][k]
				if s, ok := strings.CutPrefix(k, "survey."); ok {
					ja = surveyWords["ja"][s]
				}
				e.Description = describe(strings.TrimPrefix(k, "survey."), ja)
				if strings.HasPrefix(k, "survey.") {
					e.Description += " Worded for a survey (回答, answer), where an election's says 投票, vote."
				}
			}
			if e.Plural == nil {
				e.Message = &v
			}
			m[k] = e
		}
		for k, v := range goMessages[lang] {
			put(k, v)
		}
		for k, v := range surveyWords[lang] {
			put("survey."+k, v)
		}
		data, err := encodeLocale(m)
		if err != nil {
			return err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
