package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/client"
	"github.com/koe-vote/koe/internal/letters"
	"github.com/koe-vote/koe/internal/server/registrar"
	"github.com/koe-vote/koe/internal/tally"
	"github.com/koe-vote/koe/internal/web"
)

func runAdmin(args []string, stdout, stderr io.Writer) error {
	return subcommand("admin", args, stdout, stderr, []command{
		{"create", "create an election on a server from a manifest", adminCreate},
		{"roll", "import the voter roll (CSV of voter ids); write the one-time codes", adminRoll},
		{"letters", "write the letters of a codes CSV as a print-ready PDF (A4 or postcard)", adminLetters},
		{"reissue", "issue new one-time codes for voters who lost their letter (the old codes stop working)", adminReissue},
		{"open", "check the key ceremony and open the election", adminStep("open")},
		{"close", "close the election: no more ballots", adminStep("close")},
		{"tally", "add up the counted ballots while encrypted", adminStep("tally")},
		{"publish", "combine the trustees' decryptions into the results", adminStep("publish")},
		{"edit", "replace a draft's manifest (in setup, before the key ceremony)", adminEdit},
		{"delete", "delete a draft (in setup) and everything stored of it", adminDelete},
		{"status", "show an election", adminStatus},
	})
}

// adminFlags are the flags every admin subcommand takes.
type adminFlags struct{ server, election, tokenFile *string }

func addAdminFlags(fs interface {
	String(name, value, usage string) *string
}) adminFlags {
	return adminFlags{
		server:    fs.String("server", "http://127.0.0.1:8080", "the koe server"),
		election:  fs.String("election", "", "the election id"),
		tokenFile: fs.String("token-file", "", "file holding the administrator's token (default: $KOE_ADMIN_TOKEN)"),
	}
}

// readToken reads a bearer token from a file, or else from an environment variable.
func readToken(file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (f adminFlags) client(needElection bool) (*client.Client, error) {
	token, err := readToken(*f.tokenFile, "KOE_ADMIN_TOKEN")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, withHint(errors.New("no administrator's token"), "use --token-file FILE (koe serve wrote one to DATA/admin-token) or set KOE_ADMIN_TOKEN")
	}
	if needElection && *f.election == "" {
		return nil, usagef("--election ID is required")
	}
	return client.New(*f.server, token), nil
}

func adminCreate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin create", "koe admin create --manifest FILE [--server URL]", stderr)
	f := addAdminFlags(fs)
	manifest := fs.String("manifest", "", "the manifest (file, or an example: referendum, survey, budget)")
	tokensOut := fs.String("trustee-tokens", "", "write each trustee's token to DIR/trustee-J.token (default: print them)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := f.client(false)
	if err != nil {
		return err
	}
	data, err := readManifestArg(*manifest)
	if err != nil {
		return err
	}
	var created api.Created
	if err := c.Do(context.Background(), "POST", "/api/v1/elections", "application/json", data, &created); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Election %s created (%s).\n  %s\n", created.ID, created.State, created.Title.Ja)
	var lines []string
	for j, t := range created.TrusteeTokens {
		lines = append(lines, fmt.Sprintf("%d %s", j+1, t))
	}
	if *tokensOut != "" {
		for j, t := range created.TrusteeTokens {
			if err := writePrivate(filepath.Join(*tokensOut, fmt.Sprintf("trustee-%d.token", j+1)), []byte(t+"\n")); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "The %d trustees' tokens are in %s/trustee-J.token: give each trustee its own, privately.\n", len(lines), *tokensOut)
	} else {
		fmt.Fprintf(stdout, "Trustees' tokens (give each trustee its own, privately; they are not shown again):\n  %s\n", strings.Join(lines, "\n  "))
	}
	fmt.Fprintf(stdout, "Board key: %s\n", created.BoardKey)
	return nil
}

func adminEdit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin edit", "koe admin edit --election ID --manifest FILE [--server URL]", stderr)
	f := addAdminFlags(fs)
	manifest := fs.String("manifest", "", "the new manifest (same id and number of trustees)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := f.client(true)
	if err != nil {
		return err
	}
	if *manifest == "" {
		return usagef("--manifest FILE is required")
	}
	data, err := os.ReadFile(*manifest)
	if err != nil {
		return err
	}
	var in api.ElectionInfo
	if err := c.Do(context.Background(), "PUT", api.ElectionPath(*f.election, "/manifest"), "application/json", data, &in); err != nil {
		if client.IsCode(err, api.CodeManifestFixed) {
			return withHint(err, "delete the draft (koe admin delete) and create a new one with another id")
		}
		return err
	}
	fmt.Fprintf(stdout, "The manifest of %s is replaced (a superseding manifest entry is on the board).\n  %s\n", in.ID, in.Title.Ja)
	return nil
}

func adminDelete(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin delete", "koe admin delete --election ID --yes [--server URL]", stderr)
	f := addAdminFlags(fs)
	yes := fs.Bool("yes", false, "confirm: the draft, its board, roll and codes are deleted for good")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := f.client(true)
	if err != nil {
		return err
	}
	if !*yes {
		return withHint(fmt.Errorf("not deleting %s without --yes", *f.election), "the draft, its board, its roll and its letters' codes are deleted for good, and the id can never be used again")
	}
	if err := c.Do(context.Background(), "DELETE", api.ElectionPath(*f.election, ""), "", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Draft %s deleted; its id is retired.\n", *f.election)
	return nil
}

func adminRoll(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin roll", "koe admin roll --election ID VOTERS.csv -o CODES.csv", stderr)
	f := addAdminFlags(fs)
	out := fs.String("o", "", "where to write voter ids with their one-time codes (CSV)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("koe admin roll needs a CSV of voter ids and -o CODES.csv")
	}
	c, err := f.client(true)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	codes, err := c.Raw(context.Background(), "POST", api.ElectionPath(*f.election, "/roll"), "text/csv", data)
	if err != nil {
		return err
	}
	if err := writePrivate(*out, codes); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d voters added to the roll of %s; their one-time codes are in %s (print and mail them, then delete the file).\n", strings.Count(string(codes), "\n")-1, *f.election, *out)
	return nil
}

// adminLetters writes the letters of a codes file (koe admin roll's or
// reissue's -o, or the console's CSV) as a PDF (SPEC.md §15.3 Letters).
// The election's title and dates come from the server; the codes only
// from the file, and they go nowhere but into the PDF.
func adminLetters(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin letters", "koe admin letters --election ID [--format a4|postcard] CODES.csv -o LETTERS.pdf", stderr)
	f := addAdminFlags(fs)
	out := fs.String("o", "", "where to write the letters (PDF)")
	format := fs.String("format", "a4", "a4 (a letter a page) or postcard (100 × 148 mm, the code under a peel-off seal)")
	public := fs.String("public", "", "the site's public address printed on the letters, as its QR code (default: --server)")
	font := fs.String("letter-font", os.Getenv("KOE_LETTER_FONT"), "TrueType font (.ttf) to embed (default: $KOE_LETTER_FONT, or Debian's IPAex Gothic)")
	city := fs.String("city", "", "the city's name, printed on the letters")
	contact := fs.String("contact", "", "the city's contact line, printed on the letters")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("koe admin letters needs a codes CSV and -o LETTERS.pdf")
	}
	size, err := letters.ParseSize(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	ft, err := letters.LoadFont(*font)
	if err != nil {
		return withHint(err, letters.FontHint)
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	ls, err := web.ParseCodes(data)
	if err != nil {
		return withHint(fmt.Errorf("%s: %w", pos[0], err), "give the voter_id,code file that koe admin roll -o or reissue -o wrote")
	}
	if len(ls) > letters.MaxLetters {
		return withHint(fmt.Errorf("%s has %d codes: %w", pos[0], len(ls), letters.ErrTooMany), "split the file and write a PDF of each part")
	}
	c, err := f.client(true)
	if err != nil {
		return err
	}
	var info api.ElectionInfo
	if err := c.Do(context.Background(), "GET", api.ElectionPath(*f.election, ""), "", nil, &info); err != nil {
		return err
	}
	base := strings.TrimRight(*public, "/")
	if base == "" {
		base = strings.TrimRight(*f.server, "/")
	}
	overview := base + "/elections/" + url.PathEscape(info.ID)
	sheet, err := web.LetterSheet(&info, size, overview+"/vote", overview, *city, *contact, nil)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := letters.Write(&b, ft, sheet, ls); err != nil {
		return err
	}
	if err := writePrivate(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d letters (%s) for %s are in %s, with a QR code to %s (print and mail them, then delete the file).\n", len(ls), size, info.ID, *out, overview+"/vote")
	return nil
}

// adminReissue re-issues the codes of voters who have not registered
// (SPEC.md §15.3 Re-issue): those named, or with --unused every voter of a
// roll file who has not registered. The new codes are written once, to -o.
func adminReissue(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin reissue", "koe admin reissue --election ID -o CODES.csv (VOTER_ID... | --unused VOTERS.csv)", stderr)
	f := addAdminFlags(fs)
	out := fs.String("o", "", "where to write the voter ids with their new one-time codes (CSV)")
	unused := fs.String("unused", "", "a roll file (CSV of voter ids): re-issue every voter of it who has not registered")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || (len(pos) == 0) == (*unused == "") {
		return usagef("koe admin reissue needs -o CODES.csv and either voter ids or --unused VOTERS.csv")
	}
	voters := pos
	if *unused != "" {
		data, err := os.ReadFile(*unused)
		if err != nil {
			return err
		}
		if voters, err = registrar.ParseRoll(data); err != nil {
			return fmt.Errorf("%s: %w", *unused, err)
		}
	}
	c, err := f.client(true)
	if err != nil {
		return err
	}
	res, err := c.Reissue(context.Background(), *f.election, voters, *unused != "")
	if err != nil {
		return err
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write([]string{"voter_id", "code"})
	for _, vc := range res.Codes {
		cw.Write([]string{vc.Voter, vc.Code})
	}
	cw.Flush()
	if err := writePrivate(*out, []byte(b.String())); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d new one-time codes for %s are in %s; the voters' earlier codes no longer register (print and mail the new letters, then delete the file).\n", len(res.Codes), *f.election, *out)
	if len(res.Registered) > 0 {
		fmt.Fprintf(stdout, "Left as they were, registered already: %s\n", strings.Join(res.Registered, ", "))
	}
	if len(res.Unknown) > 0 {
		fmt.Fprintf(stdout, "Not on the roll by code: %s\n", strings.Join(res.Unknown, ", "))
	}
	return nil
}

func adminStep(step string) func([]string, io.Writer, io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		fs := newFlags("koe admin "+step, "koe admin "+step+" --election ID [--server URL]", stderr)
		f := addAdminFlags(fs)
		if _, err := parse(fs, args); err != nil {
			return err
		}
		c, err := f.client(true)
		if err != nil {
			return err
		}
		raw, err := c.Raw(context.Background(), "POST", api.ElectionPath(*f.election, "/"+step), "", nil)
		if err != nil {
			return err
		}
		switch step {
		case "publish":
			var res tally.Results
			if err := json.Unmarshal(raw, &res); err != nil {
				return err
			}
			el, err := c.Election(context.Background(), *f.election)
			if err != nil {
				return err
			}
			printResults(stdout, el.E.Manifest, &res)
			var mixed []*tally.MixedResult
			for _, qi := range el.E.Manifest.Mixed() {
				mr, err := c.Mixed(context.Background(), *f.election, el.E.Manifest.Questions[qi].ID)
				if err != nil {
					return err
				}
				mixed = append(mixed, mr)
			}
			printMixed(stdout, el.E.Manifest, mixed)
		case "tally":
			var t tally.Encrypted
			json.Unmarshal(raw, &t)
			fmt.Fprintf(stdout, "Encrypted tally of %d ballots on the board.", t.Ballots)
			el, err := c.Election(context.Background(), *f.election)
			if err != nil {
				return err
			}
			if min := el.E.Manifest.PrivacyThreshold(); t.Ballots < min {
				fmt.Fprintf(stdout, " It counts fewer than the manifest's privacy threshold of %d ballots: no trustee decrypts it, and the results are withheld to protect the voters' privacy.\n", min)
				return nil
			}
			if len(el.E.Manifest.Mixed()) > 0 {
				fmt.Fprintf(stdout, " Next: %d trustees run koe trustee mix --server %s --election %s, one after another, then the trustees run koe trustee decrypt\n", el.E.Manifest.Threshold, *f.server, *f.election)
			} else {
				fmt.Fprintf(stdout, " Next: the trustees run koe trustee decrypt --server %s --election %s\n", *f.server, *f.election)
			}
		default:
			fmt.Fprintf(stdout, "Election %s: %s done.\n", *f.election, step)
		}
		return nil
	}
}

func adminStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("koe admin status", "koe admin status --election ID [--server URL]", stderr)
	f := addAdminFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c := client.New(*f.server, "")
	var in api.ElectionInfo
	if err := c.Do(context.Background(), "GET", api.ElectionPath(*f.election, ""), "", nil, &in); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\n  %s\n  board key %s\n", in.ID, in.State, in.Title.Ja, in.BoardKey)
	return nil
}
