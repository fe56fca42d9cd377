// Package examples embeds the sample manifests (from the city's realistic
// questionnaires) that koe demo and the tests use.
package examples

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed *.json
var files embed.FS

// Names lists the embedded manifests.
func Names() []string { return []string{"referendum", "survey", "budget", "city-survey"} }

// Manifest returns the bytes of an embedded manifest by name.
func Manifest(name string) ([]byte, error) {
	data, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no example manifest %q (there are: %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}
