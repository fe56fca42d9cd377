package verify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/board"
)

// TestLifecycleEligibility runs the lifecycle and eligibility checks of
// SPEC.md §13.6 step 4 on boards made entry by entry.
func TestLifecycleEligibility(t *testing.T) {
	en := func(typ string, body any) board.Entry {
		raw, _ := json.Marshal(body)
		return board.Entry{Type: typ, Election: "e", Time: time.Unix(1e9, 0), Body: raw}
	}
	c1, c2, d1 := [32]byte{1}, [32]byte{2}, [32]byte{3}
	manifest := en(board.TypeManifest, map[string]string{"manifest": ""})
	regKey := en(board.TypeRegistrarKey, board.RegistrarKeyBody{Key: "k"})
	key := en(board.TypeElectionKey, map[string]string{})
	open := en(board.TypeOpen, map[string]string{})
	closeE := en(board.TypeClose, map[string]string{})
	roll := en(board.TypeRoll, board.RollEntries([][32]byte{c2, c1})[0])
	byRoll := func(c [32]byte) board.Entry { return en(board.TypeCredentialIssued, board.Issuance{Value: c}.Body()) }
	byID := func(d [32]byte) board.Entry {
		return en(board.TypeCredentialIssued, board.Issuance{DigitalID: true, Value: d}.Body())
	}
	honest := []board.Entry{manifest, regKey, roll, key, open, byRoll(c1), byID(d1), byRoll(c2), closeE}
	with := func(at int, extra ...board.Entry) []board.Entry {
		out := append([]board.Entry{}, honest[:at]...)
		out = append(out, extra...)
		return append(out, honest[at:]...)
	}
	without := func(i int) []board.Entry {
		return append(append([]board.Entry{}, honest[:i]...), honest[i+1:]...)
	}
	t.Run("draft edited", func(t *testing.T) {
		// A superseding manifest in setup before the ceremony (SPEC.md §13.6 L1).
		r := &Report{}
		if !checkLifecycle(r, with(2, manifest), nil, nil, 0) {
			t.Fatalf("a board with a superseding manifest before the ceremony: %+v", r.Failures())
		}
	})
	t.Run("honest", func(t *testing.T) {
		r := &Report{}
		if !checkLifecycle(r, honest, nil, nil, 0) || r.issued != 3 || r.issuedRoll != 2 || r.issuedDigital != 1 {
			t.Fatalf("honest board: issued %d (%d by roll, %d by digital ID): %+v", r.issued, r.issuedRoll, r.issuedDigital, r.Failures())
		}
	})
	for _, tc := range []struct {
		name    string
		entries []board.Entry
		want    string
	}{
		{"registrar key after open", append(without(1)[:4:4], append([]board.Entry{regKey}, without(1)[4:]...)...), "opens before the registrar key is on the board"},
		{"registrar key after open, as a second", with(5, regKey), "a second registrar key"},
		{"registrar key after the election key", append(without(1)[:3:3], append([]board.Entry{regKey}, without(1)[3:]...)...), "must stand before the election-key and open entries"},
		{"no registrar key", without(1), "opens before the registrar key is on the board"},
		{"roll after open", with(5, en(board.TypeRoll, board.RollEntries([][32]byte{{9}})[0])), "the roll is published before the election opens"},
		{"a commitment in two roll entries", with(2, en(board.TypeRoll, board.RollEntries([][32]byte{c1})[0])), "listed twice"},
		{"issuance naming no letter", with(5, byRoll([32]byte{9})), "not on the roll published before open"},
		{"second issuance to a voter", with(6, byRoll(c1)), "was issued a second credential"},
		{"digital-ID registration twice", with(7, byID(d1)), "digital-ID registration"},
		{"issuance before open", with(3, byRoll(c1)), "only while the election is open"},
		{"issuance naming both", with(5, en(board.TypeCredentialIssued, map[string]string{"roll": strings.Repeat("01", 32), "digitalId": strings.Repeat("02", 32)})), `exactly one of "roll" and "digitalId"`},
		{"koe/v1 issuance", with(5, en(board.TypeCredentialIssued, map[string]string{"voter": strings.Repeat("01", 32)})), "unknown field"},
		{"koe/v1 roll", with(2, en(board.TypeRoll, map[string]int{"added": 1, "voters": 1})), "unknown field"},
		{"manifest after the election key", with(4, manifest), "only in setup, before the key ceremony"},
		{"manifest after open", with(6, manifest), "only in setup, before the key ceremony"},
		{"manifest after a ceremony message", with(3, en(board.TypeAnnounce, board.CeremonyBody{Trustee: 1}), manifest), "only in setup, before the key ceremony (entry 3)"},
		{"no manifest first", without(0), "entry 0 is not the manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{}
			if checkLifecycle(r, tc.entries, nil, nil, 0) {
				t.Fatal("accepted")
			}
			if f := r.Failures(); len(f) == 0 || !strings.Contains(f[0].Detail, tc.want) {
				t.Fatalf("got %+v, want a failure saying %q", f, tc.want)
			}
		})
	}
}

// TestLifecycleReissue runs rule L11 (SPEC.md §13.6): a reissue entry
// revokes a live roll commitment of a voter not issued a credential and
// adds a new one, in setup or while open.
func TestLifecycleReissue(t *testing.T) {
	en := func(typ string, body any) board.Entry {
		raw, _ := json.Marshal(body)
		return board.Entry{Type: typ, Election: "e", Time: time.Unix(1e9, 0), Body: raw}
	}
	c1, c2, n1, n2 := [32]byte{1}, [32]byte{2}, [32]byte{11}, [32]byte{12}
	manifest := en(board.TypeManifest, map[string]string{"manifest": ""})
	regKey := en(board.TypeRegistrarKey, board.RegistrarKeyBody{Key: "k"})
	key := en(board.TypeElectionKey, map[string]string{})
	open := en(board.TypeOpen, map[string]string{})
	closeE := en(board.TypeClose, map[string]string{})
	roll := en(board.TypeRoll, board.RollEntries([][32]byte{c2, c1})[0])
	byRoll := func(c [32]byte) board.Entry { return en(board.TypeCredentialIssued, board.Issuance{Value: c}.Body()) }
	reissue := func(old, c [32]byte) board.Entry {
		return en(board.TypeReissue, board.Reissue{Revoked: old, Roll: c}.Body())
	}
	seq := func(es ...board.Entry) []board.Entry { return es }
	t.Run("honest", func(t *testing.T) {
		r := &Report{}
		es := seq(manifest, regKey, roll, reissue(c1, n1), key, open, reissue(c2, n2), byRoll(n1), byRoll(n2), closeE)
		if !checkLifecycle(r, es, nil, nil, 0) || r.issuedRoll != 2 {
			t.Fatalf("re-issued board: %+v", r.Failures())
		}
		if p := r.Checks[len(r.Checks)-1].Detail; !strings.Contains(p, "a roll of 2 voters") || !strings.Contains(p, "2 codes re-issued") {
			t.Errorf("the report says %q", p)
		}
	})
	for _, tc := range []struct {
		name    string
		entries []board.Entry
		want    string
	}{
		{"the revoked code registers", seq(manifest, regKey, roll, key, open, reissue(c1, n1), byRoll(c1)), "revoked by a re-issue"},
		{"re-issue after registering", seq(manifest, regKey, roll, key, open, byRoll(c1), reissue(c1, n1)), "was issued a credential"},
		{"revoking a commitment twice", seq(manifest, regKey, roll, key, open, reissue(c1, n1), reissue(c1, n2)), "was revoked before"},
		{"revoking what is not on the roll", seq(manifest, regKey, roll, key, open, reissue([32]byte{9}, n1)), "not on the roll"},
		{"a new commitment already on the roll", seq(manifest, regKey, roll, key, open, reissue(c1, c2)), "on the roll already"},
		{"re-issuing a revoked commitment anew", seq(manifest, regKey, roll, key, open, reissue(c1, n1), reissue(n1, c1)), "on the roll already"},
		{"re-issue after close", seq(manifest, regKey, roll, key, open, closeE, reissue(c1, n1)), "before the election closes"},
		{"a roll entry repeating a re-issued commitment", seq(manifest, regKey, roll, reissue(c1, n1), en(board.TypeRoll, board.RollEntries([][32]byte{n1})[0])), "listed twice"},
		{"a roll entry repeating a revoked commitment", seq(manifest, regKey, roll, reissue(c1, n1), en(board.TypeRoll, board.RollEntries([][32]byte{c1})[0])), "listed twice"},
		{"a body naming a voter", seq(manifest, regKey, roll, key, open, en(board.TypeReissue, map[string]string{"revoked": strings.Repeat("01", 32), "roll": strings.Repeat("0b", 32), "voter": "K0001"})), "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{}
			if checkLifecycle(r, tc.entries, nil, nil, 0) {
				t.Fatal("accepted")
			}
			if f := r.Failures(); len(f) == 0 || !strings.Contains(f[0].Detail, tc.want) {
				t.Fatalf("got %+v, want a failure saying %q", f, tc.want)
			}
		})
	}
}
