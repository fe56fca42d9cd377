package linkage

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func entry(t *testing.T, typ string, at time.Duration, body string) []byte {
	t.Helper()
	raw, err := board.Entry{Type: typ, Election: "e", Time: t0.Add(at), Body: []byte(body)}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// ballotBody is a ballot entry's body as far as Read needs it.
func ballotBody(cred string) string {
	b := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return fmt.Sprintf(`{"ballot":%q,"credential":%q,"salt":%q,"counter":1,"signature":%q}`, b("ballot"), b(cred), b("0123456789abcdef0123456789abcdef"), b("sig"))
}

func TestStrategies(t *testing.T) {
	// a registers and casts at once; b registers, pauses, casts after c,
	// who registers and casts at once; a re-votes.
	entries := [][]byte{
		entry(t, board.TypeOpen, 0, `{}`),
		entry(t, board.TypeCredentialIssued, 1*time.Second, `{"voter":"a"}`),
		entry(t, board.TypeBallot, 1*time.Second, ballotBody("A")),
		entry(t, board.TypeCredentialIssued, 3*time.Second, `{"voter":"b"}`),
		entry(t, board.TypeCredentialIssued, 5*time.Second, `{"voter":"c"}`),
		entry(t, board.TypeBallot, 5*time.Second, ballotBody("C")),
		entry(t, board.TypeBallot, 6*time.Second, ballotBody("A")),
		entry(t, board.TypeBallot, 9*time.Second, ballotBody("B")),
	}
	b, err := Read(entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Issued) != 3 || len(b.Ballots) != 3 || b.Ballots[2].Index != 7 {
		t.Fatalf("Read: %d issued, ballots %+v", len(b.Issued), b.Ballots)
	}
	regs := []Registration{
		{Voter: "a", Time: t0.Add(1100 * time.Millisecond), Issued: 1},
		{Voter: "b", Time: t0.Add(3 * time.Second), Issued: -1},
		{Voter: "c", Time: t0.Add(5 * time.Second), Issued: -1},
	}
	truth := map[string]string{"a": CredentialOf([]byte("A")), "b": CredentialOf([]byte("B")), "c": CredentialOf([]byte("C"))}
	voters := []string{"a", "b", "c"}
	for name, g := range map[string]Guess{"order": ByOrder(regs, b), "time": ByTime(regs, b)} {
		if n := Correct(g, truth, voters); n != 3 {
			t.Errorf("%s linked %d of 3: %v", name, n, g)
		}
	}
	// Three ballots at three different times: chance links all.
	if c := Chance(b, truth, voters); c != 3 {
		t.Errorf("Chance = %v, want 3", c)
	}
	// One batch: all at one time, so chance is one in three each.
	batch := [][]byte{entry(t, board.TypeBallot, 10*time.Second, ballotBody("B")), entry(t, board.TypeBallot, 10*time.Second, ballotBody("A")), entry(t, board.TypeBallot, 10*time.Second, ballotBody("C"))}
	bb, err := Read(batch)
	if err != nil {
		t.Fatal(err)
	}
	if c := Chance(bb, truth, voters); c < 0.99 || c > 1.01 {
		t.Errorf("Chance in one batch of three = %v, want 1", c)
	}
}

func TestReadRejects(t *testing.T) {
	for name, raw := range map[string][]byte{
		"not an entry":    []byte(`{"type":"ballot"}`),
		"not an envelope": entry(t, board.TypeBallot, 0, `{"ballot":"AA=="}`),
		"trailing data":   append(entry(t, board.TypeOpen, 0, `{}`), ' '),
	} {
		if _, err := Read([][]byte{raw}); err == nil {
			t.Errorf("%s: Read accepted %q", name, raw)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"type":"open","election":"e","time":"2026-12-01T09:00:00Z","body":{}}`))
	f.Add([]byte(`{"type":"ballot","election":"e","time":"2026-12-01T09:00:00Z","body":{"ballot":"AA=="}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := Read([][]byte{raw})
		if err != nil {
			return
		}
		if len(b.Issued)+len(b.Ballots) > 1 {
			t.Fatalf("one entry read as %d", len(b.Issued)+len(b.Ballots))
		}
	})
}
