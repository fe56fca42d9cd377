// Package record reads and writes koe's election record (SPEC.md §10): one
// directory holding everything a verifier needs and nothing secret.
//
//	manifest.json             the manifest, byte for byte as hashed
//	ceremony/announce-J.json  trustee J's commitments, proofs and HPKE key
//	ceremony/deal-J.json      trustee J's encrypted shares
//	ceremony/verdict-J.json   trustee J's complaints (possibly none)
//	ceremony/respond-J.json   trustee J's answers to complaints against it
//	election.json             the derived public parameters
//	ballots.bin               the counted ballots, concatenated
//	spoiled.jsonl             spoiled (Benaloh-challenged) ballots, one per line
//	tally.json                the encrypted tally
//	decryptions/trustee-J.json  trustee J's partial decryptions
//	results.json              the results
//	mixes/Q/round-R-J.bin     round R of the mix of text or rank question Q, by trustee J
//	mixes/Q/decryption-J.bin  trustee J's decryption share of Q's final list
//	mixed/Q.json              Q's decrypted answers and counts
//	board/                    from a server: the bulletin board itself
package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/koe-vote/koe/internal/strictjson"
)

// File names in a record.
const (
	Manifest    = "manifest.json"
	Election    = "election.json"
	Registrar   = "registrar.pub" // the registrar's public key text, then "\n"; absent = no registrar
	Ballots     = "ballots.bin"
	Spoiled     = "spoiled.jsonl"
	Tally       = "tally.json"
	Results     = "results.json"
	CeremonyDir = "ceremony"
	DecryptDir  = "decryptions"

	// A record exported from a server's bulletin board (SPEC.md §13.6) also holds:
	BoardEntries    = "board/entries.jsonl" // every board entry, one per line, as hashed
	BoardCheckpoint = "board/checkpoint"    // the latest signed checkpoint
	BoardKey        = "board/key"           // the note verifier key that signs checkpoints
)

// MaxJSONFile bounds every JSON file a reader accepts.
const MaxJSONFile = 64 << 20

// CeremonyFile returns the path of trustee j's message for a round (one
// of ceremony.Rounds).
func CeremonyFile(dir, round string, j int) string {
	return filepath.Join(dir, CeremonyDir, fmt.Sprintf("%s-%d.json", round, j))
}

// DecryptionFile returns the path of trustee j's partial decryption.
func DecryptionFile(dir string, j int) string {
	return filepath.Join(dir, DecryptDir, fmt.Sprintf("trustee-%d.json", j))
}

// WriteFile writes data durably and atomically: to a temporary file that is
// synced and then renamed over name, and the directory synced.
func WriteFile(name string, data []byte) error { return WriteFileMode(name, data, 0o644) }

// WriteFileMode is WriteFile with the file's permissions (0600 for secrets:
// the file never exists with wider ones).
func WriteFileMode(name string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteJSON writes v as indented JSON with WriteFile.
func WriteJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(name, append(data, '\n'))
}

// ReadFile reads a file of at most MaxJSONFile bytes.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxJSONFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxJSONFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxJSONFile)
	}
	return data, nil
}

// DecodeStrict decodes one JSON value into v, rejecting unknown fields and
// trailing data.
func DecodeStrict(data []byte, v any) error { return strictjson.Decode(data, v) }

// ReadJSON reads a JSON file strictly into v.
func ReadJSON(name string, v any) error {
	data, err := ReadFile(name)
	if err != nil {
		return err
	}
	if err := DecodeStrict(data, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return nil
}

// Indexed lists the files "PREFIX-J.json" in dir and returns them by J.
// Other files are ignored.
func Indexed(dir, prefix string) (map[int]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[int]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `-([1-9][0-9]{0,2})\.json$`)
	out := map[int]string{}
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		j, _ := strconv.Atoi(m[1])
		out[j] = filepath.Join(dir, e.Name())
	}
	return out, nil
}

// SortedKeys returns the keys of an Indexed map in order.
func SortedKeys(m map[int]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// BallotWriter appends ballots to a record's ballots.bin durably.
type BallotWriter struct {
	f *os.File
	w *bufio.Writer
}

// AppendBallots opens dir's ballots.bin for appending.
func AppendBallots(dir string) (*BallotWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, Ballots), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &BallotWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Write appends one encoded ballot (buffered until Close or Sync).
func (w *BallotWriter) Write(raw []byte) error {
	_, err := w.w.Write(raw)
	return err
}

// Sync flushes and syncs what was written.
func (w *BallotWriter) Sync() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	return w.f.Sync()
}

// Close syncs and closes the file.
func (w *BallotWriter) Close() error {
	if err := w.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// BallotReader reads the fixed-size ballots of ballots.bin in order.
type BallotReader struct {
	f     *os.File
	r     *bufio.Reader
	size  int
	Count int // number of ballots in the file
}

// OpenBallots opens dir's ballots.bin, whose ballots are each size bytes.
// A missing file holds no ballots.
func OpenBallots(dir string, size int) (*BallotReader, error) {
	f, err := os.Open(filepath.Join(dir, Ballots))
	if errors.Is(err, fs.ErrNotExist) {
		return &BallotReader{size: size}, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size()%int64(size) != 0 {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of %d-byte ballots", Ballots, st.Size(), size)
	}
	return &BallotReader{f: f, r: bufio.NewReaderSize(f, 1<<20), size: size, Count: int(st.Size() / int64(size))}, nil
}

// Next returns the next ballot, or io.EOF.
func (r *BallotReader) Next() ([]byte, error) {
	if r.f == nil {
		return nil, io.EOF
	}
	buf := make([]byte, r.size)
	if _, err := io.ReadFull(r.r, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: truncated ballot", Ballots)
		}
		return nil, err
	}
	return buf, nil
}

// Close closes the file.
func (r *BallotReader) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

// ReadSpoiled returns the lines of spoiled.jsonl (none if it is missing).
func ReadSpoiled(dir string) ([][]byte, error) {
	data, err := ReadFile(filepath.Join(dir, Spoiled))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return SpoiledLines(data), nil
}

// SpoiledLines splits spoiled.jsonl's contents into its lines (SPEC.md
// §10.1): split on "\n", skipping blank lines, those empty or holding only
// JSON whitespace other than "\n" (space, tab, carriage return).
func SpoiledLines(data []byte) [][]byte {
	var out [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.Trim(line, " \t\r")) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// AppendSpoiled appends one spoiled ballot as a line of JSON, durably.
func AppendSpoiled(dir string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, Spoiled), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Directories of a record's mix (SPEC.md §16.6).
const (
	MixesDir = "mixes" // mixes/Q/round-R-J.bin, mixes/Q/decryption-J.bin
	MixedDir = "mixed" // mixed/Q.json
)

// MixRoundFile returns the path of round r of question q's mix, by trustee j.
func MixRoundFile(dir, q string, r, j int) string {
	return filepath.Join(dir, MixesDir, q, fmt.Sprintf("round-%d-%d.bin", r, j))
}

// MixShareFile returns the path of trustee j's decryption share of
// question q's final list.
func MixShareFile(dir, q string, j int) string {
	return filepath.Join(dir, MixesDir, q, fmt.Sprintf("decryption-%d.bin", j))
}

// MixedFile returns the path of question q's decrypted answers.
func MixedFile(dir, q string) string { return filepath.Join(dir, MixedDir, q+".json") }

// MixFiles are the files of one question's mix in a record: the rounds'
// files by round (1..len) with their trustees, and the shares' files by
// trustee.
type MixFiles struct {
	Rounds   []string // Rounds[r-1] is round r's file
	Trustees []int    // Trustees[r-1] mixed round r
	Shares   map[int]string
}

var (
	mixRoundName = regexp.MustCompile(`^round-([1-9][0-9]{0,2})-([1-9][0-9]{0,2})\.bin$`)
	mixShareName = regexp.MustCompile(`^decryption-([1-9][0-9]{0,2})\.bin$`)
)

// ListMix lists the files of question q's mix (SPEC.md §16.6): an error if
// two files name one round or the rounds have a gap. Other files are
// ignored; with no directory there are no files.
func ListMix(dir, q string) (*MixFiles, error) {
	d := filepath.Join(dir, MixesDir, q)
	entries, err := os.ReadDir(d)
	out := &MixFiles{Shares: map[int]string{}}
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	rounds := map[int]int{}
	for _, e := range entries {
		if m := mixRoundName.FindStringSubmatch(e.Name()); m != nil {
			r, _ := strconv.Atoi(m[1])
			j, _ := strconv.Atoi(m[2])
			if _, dup := rounds[r]; dup {
				return nil, fmt.Errorf("%s/%s: two files for round %d", MixesDir, q, r)
			}
			rounds[r] = j
		} else if m := mixShareName.FindStringSubmatch(e.Name()); m != nil {
			j, _ := strconv.Atoi(m[1])
			out.Shares[j] = filepath.Join(d, e.Name())
		}
	}
	for r := 1; r <= len(rounds); r++ {
		j, ok := rounds[r]
		if !ok {
			return nil, fmt.Errorf("%s/%s: round %d is missing (there are %d round files)", MixesDir, q, r, len(rounds))
		}
		out.Rounds = append(out.Rounds, MixRoundFile(dir, q, r, j))
		out.Trustees = append(out.Trustees, j)
	}
	return out, nil
}

// ReadBinary reads a binary record file of at most max bytes.
func ReadBinary(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", filepath.Base(name), max)
	}
	return data, nil
}
