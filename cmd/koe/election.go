package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ballot"
	"github.com/koe-vote/koe/internal/record"
)

func runElection(args []string, stdout, stderr io.Writer) error {
	return subcommand("election", args, stdout, stderr, []command{
		{"init", "create an election record from a manifest", electionInit},
		{"key", "check the key ceremony and publish the election key", electionKey},
		{"publish", "combine the trustees' decryptions into the results", electionPublish},
	})
}

// readManifestArg reads a manifest from a file or names an embedded example.
func readManifestArg(arg string) ([]byte, error) {
	if data, err := os.ReadFile(arg); err == nil {
		return data, nil
	} else if data, exErr := examples.Manifest(arg); exErr == nil {
		return data, nil
	} else {
		return nil, withHint(err, "give a manifest file, or one of the examples: %s", strings.Join(examples.Names(), ", "))
	}
}

func electionInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe election init", "koe election init --manifest FILE DIR", stderr)
	manifest := fs.String("manifest", "", "the manifest (JSON file, or an example name: "+strings.Join(examples.Names(), ", ")+")")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *manifest == "" || len(pos) != 1 {
		return withHint(usagef("koe election init needs --manifest FILE and a directory"), "koe election init --manifest examples/referendum.json ./record")
	}
	dir := pos[0]
	data, err := readManifestArg(*manifest)
	if err != nil {
		return err
	}
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return withHint(err, "SPEC.md §7 describes the manifest; examples/ has working ones")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return withHint(fmt.Errorf("%s exists and is not empty", dir), "choose a new directory for the election record")
	}
	if err := record.WriteFile(filepath.Join(dir, record.Manifest), data); err != nil {
		return err
	}
	h := ballot.Hash(data)
	fmt.Fprintf(stdout, "Election record created in %s\n  %s\n  %s\n  manifest hash %x\n", dir, m.Title.Ja, m.Title.In("en"), h)
	fmt.Fprintf(stdout, "Next: each of the %d trustees (threshold %d) runs, on their own machine:\n  koe trustee keygen --election %s --index J --name NAME --key trustee-J.key\n", m.Trustees, m.Threshold, dir)
	return nil
}

func electionKey(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe election key", "koe election key DIR", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("koe election key takes one election record")
	}
	dir := pos[0]
	e, res, err := loadElection(dir)
	if err != nil {
		return err
	}
	if err := record.WriteJSON(filepath.Join(dir, record.Election), record.ParamsOf(e, res)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Key ceremony verified: qualified trustees %v\n", res.Qual)
	for _, d := range res.Disqualified {
		fmt.Fprintf(stdout, "  trustee %d disqualified: %s\n", d.Trustee, d.Reason)
	}
	fmt.Fprintf(stdout, "Election key %x\nElection context %x\nWritten to %s. Voters can now encrypt ballots:\n  koe ballot encrypt --election %s --answer QUESTION=CHOICE\n",
		e.Key.Bytes(), e.Context, filepath.Join(dir, record.Election), dir)
	return nil
}

func manifestTrustees(data []byte) (int, int, error) {
	m, err := ballot.ParseManifest(data)
	if err != nil {
		return 0, 0, err
	}
	return m.Trustees, m.Threshold, nil
}
