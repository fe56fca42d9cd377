package trusteeflow

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/koe-vote/koe/examples"
	"github.com/koe-vote/koe/internal/ceremony"
	"github.com/koe-vote/koe/internal/keystore"
	"github.com/koe-vote/koe/internal/record"
)

// newRecord is a record directory holding only the referendum's
// manifest (five trustees, threshold three), as koe election init leaves it.
func newRecord(t *testing.T) DirPlace {
	t.Helper()
	data, err := examples.Manifest("referendum")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := record.WriteFile(filepath.Join(dir, record.Manifest), data); err != nil {
		t.Fatal(err)
	}
	return DirPlace(dir)
}

// TestDue walks five trustees through the ceremony in a record directory
// with Keygen and Run, checking at each point which step is due, what it
// waits for, and that a step run too early does nothing.
func TestDue(t *testing.T) {
	pl := newRecord(t)
	pass := []byte("a passphrase")
	keys := map[int][]byte{}                // the key files keygen made
	trustees := map[int]*ceremony.Trustee{} // opened once: the passphrase's KDF is slow
	open := func(j int) *Session {
		t.Helper()
		s, err := Open(pl)
		if err != nil {
			t.Fatal(err)
		}
		if trustees[j] == nil {
			if trustees[j], err = OpenKey("key", keys[j], pass); err != nil {
				t.Fatal(err)
			}
		}
		s.T = trustees[j]
		s.Save = func(tr *ceremony.Trustee) error { trustees[j] = tr; return nil }
		return s
	}
	s, err := Open(pl)
	if err != nil {
		t.Fatal(err)
	}
	if s.P.N != 5 || s.P.T != 3 || strings.Join(s.Steps(), " ") != "keygen deal shares respond finish decrypt" {
		t.Fatalf("params %+v, steps %v", s.P, s.Steps())
	}
	if _, err := s.Keygen(6, "t", pass, nil); err == nil {
		t.Fatal("keygen of trustee 6 of 5")
	}
	keygen := func(j int) {
		t.Helper()
		s, _ := Open(pl)
		r, err := s.Keygen(j, "trustee", pass, func(b []byte) error { keys[j] = b; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if r.Due.Step != StepKeygen || r.Due.Number != 1 || !r.KeyChanged {
			t.Fatalf("keygen report %+v", r)
		}
	}
	keygen(1)
	if _, err := s.Keygen(1, "again", pass, func([]byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "trustee 1 has already announced") {
		t.Fatalf("a second keygen: %v", err)
	}
	// Trustee 1 waits for the others' keys: running does nothing.
	r, err := open(1).Run()
	if err != nil || r.Due.Step != StepDeal || r.Due.Waiting != ceremony.RoundAnnounce || r.Due.Have != 1 || r.Due.Need != 5 || r.Where != "" {
		t.Fatalf("trustee 1 before the others' keys: %+v, %v", r, err)
	}
	for j := 2; j <= 5; j++ {
		keygen(j)
	}
	for _, want := range []struct {
		step    string
		changed bool
	}{{StepDeal, false}, {StepShares, true}, {StepRespond, false}, {StepFinish, true}} {
		for j := 1; j <= 5; j++ {
			r, err := open(j).Run()
			if err != nil {
				t.Fatalf("trustee %d, %s: %v", j, want.step, err)
			}
			if r.Due.Step != want.step || r.Due.Waiting != "" || r.KeyChanged != want.changed {
				t.Fatalf("trustee %d: %+v, want %s (key changed: %v)", j, r, want.step, want.changed)
			}
			if want.step == StepFinish && len(r.Qual) != 5 {
				t.Fatalf("finish: %+v", r)
			}
		}
	}
	d, err := open(2).Due()
	if err != nil || d.Step != StepDecrypt || d.Waiting != "tally" || d.Number != 6 || d.Total != 6 {
		t.Fatalf("after the ceremony: %+v, %v", d, err)
	}
	// The key files are koe trustee's: only the share is left in them.
	key, err := SealKey(trustees[2], pass)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := keystore.Open(pass, "koe/v2/trustee-secret", key)
	if err != nil {
		t.Fatal(err)
	}
	var tr ceremony.Trustee
	if err := tr.UnmarshalBinary(plain); err != nil || !tr.Finished() {
		t.Fatalf("the key file after finish: finished %v, %v", tr.Finished(), err)
	}
}

// TestDueForeignKey: a key file whose trustee has not announced at this
// place is refused, not taken for a trustee still to deal.
func TestDueForeignKey(t *testing.T) {
	pl, other := newRecord(t), newRecord(t)
	pass := []byte("a passphrase")
	s, _ := Open(other)
	var key []byte
	if _, err := s.Keygen(2, "t2", pass, func(b []byte) error { key = b; return nil }); err != nil {
		t.Fatal(err)
	}
	s, _ = Open(pl)
	var err error
	if s.T, err = OpenKey("key", key, pass); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Due(); err == nil || !strings.Contains(err.Error(), "its announcement is not at") {
		t.Fatalf("a key file of another election: %v", err)
	}
}

func TestOpenKey(t *testing.T) {
	pl := newRecord(t)
	s, _ := Open(pl)
	var key []byte
	if _, err := s.Keygen(1, "t1", []byte("right passphrase"), func(b []byte) error { key = b; return nil }); err != nil {
		t.Fatal(err)
	}
	var h *HintError
	if _, err := OpenKey("trustee-1.key", key, []byte("wrong passphrase")); err == nil || !errors.As(err, &h) || !strings.HasPrefix(err.Error(), "trustee-1.key: ") {
		t.Fatalf("the wrong passphrase: %v", err)
	}
	if _, err := OpenKey("k", key[:len(key)-2], []byte("right passphrase")); err == nil {
		t.Fatal("a truncated key file opened")
	}
	if _, err := OpenKey("k", nil, []byte("right passphrase")); err == nil {
		t.Fatal("an empty key file opened")
	}
	if _, err := ReadTally(string(pl)); !errors.Is(err, ErrNoTally) {
		t.Fatalf("no tally: %v", err)
	}
	if _, err := os.Stat(filepath.Join(string(pl), record.CeremonyDir)); err != nil {
		t.Fatalf("keygen published nothing: %v", err)
	}
}

// FuzzOpenKey: any bytes, as a key file, are refused with an error or
// open to a trustee; nothing panics.
func FuzzOpenKey(f *testing.F) {
	pl := DirPlace(f.TempDir())
	data, _ := examples.Manifest("referendum")
	if err := record.WriteFile(filepath.Join(string(pl), record.Manifest), data); err != nil {
		f.Fatal(err)
	}
	s, err := Open(pl)
	if err != nil {
		f.Fatal(err)
	}
	pass := []byte("fuzz passphrase")
	t, _, err := ceremony.NewTrustee(bytes.NewReader(bytes.Repeat([]byte{7}, 1<<12)), s.P, s.Ctx, 1, "t1")
	if err != nil {
		f.Fatal(err)
	}
	key, err := SealKey(t, pass)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key)
	f.Add(key[:40])
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tr, err := OpenKey("k", data, pass); err == nil && tr == nil {
			t.Fatal("no error and no trustee")
		}
	})
}
