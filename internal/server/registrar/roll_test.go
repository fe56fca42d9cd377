package registrar

import (
	"errors"
	"slices"
	"testing"

	"github.com/koe-vote/koe/internal/api"
	"github.com/koe-vote/koe/internal/credential"
	"github.com/koe-vote/koe/internal/server/httpx"
)

func TestParseRoll(t *testing.T) {
	ids, err := ParseRoll([]byte("voter_id\nA001\nA002,extra column\n\"A 003\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A001", "A002", "A003"}; !slices.Equal(ids, want) {
		t.Fatalf("ids %q, want %q", ids, want)
	}
}

func TestParseRollRejects(t *testing.T) {
	for _, tc := range []struct{ name, csv, code string }{
		{"empty", "", api.CodeMalformed},
		{"header only", "voter_id\n", api.CodeMalformed},
		{"twice", "A001\nA002\nA001\n", api.CodeDuplicate},
		{"twice once folded", "K-0001\nK-0002\nｋ－０００１\n", api.CodeDuplicate},
		{"twice but for spaces", "田中 太郎\n田中太郎\n", api.CodeDuplicate},
		{"empty id", "A001\n\"\"\n", api.CodeMalformed},
		{"bad quote", "\"A001\n", api.CodeMalformed},
		{"invalid UTF-8", "A\xff01\n", api.CodeMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRoll([]byte(tc.csv))
			var he *httpx.Error
			if !errors.As(err, &he) || he.Code != tc.code {
				t.Fatalf("ParseRoll(%q) = %v, want code %s", tc.csv, err, tc.code)
			}
		})
	}
}

// FuzzParseRoll: whatever ParseRoll accepts is a list of distinct,
// normalised voter ids.
func FuzzParseRoll(f *testing.F) {
	f.Add([]byte("voter_id\nA001\nA002\n"))
	f.Add([]byte("A001,x\n\"B,2\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := ParseRoll(data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, id := range ids {
			n, err := credential.NormalizeVoter(id)
			if err != nil || n != id || seen[id] {
				t.Fatalf("accepted id %q (normalised %q, %v, seen %v)", id, n, err, seen[id])
			}
			seen[id] = true
		}
	})
}
