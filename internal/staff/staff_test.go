package staff

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPasswordRoundTrip(t *testing.T) {
	enc := HashPassword("つくば市役所-2027-春")
	if !bytes.HasPrefix(enc, []byte("$argon2id$v=19$m=19456,t=2,p=1$")) {
		t.Fatalf("encoding %s", enc)
	}
	if !CheckPassword(enc, "つくば市役所-2027-春") {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"", "つくば市役所-2027-夏", "つくば市役所-2027-春 "} {
		if CheckPassword(enc, wrong) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
	if other := HashPassword("つくば市役所-2027-春"); bytes.Equal(other, enc) {
		t.Error("two hashes of one password share a salt")
	}
	h, err := ParseHash(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Encode(), enc) {
		t.Errorf("re-encoding %s, want %s", h.Encode(), enc)
	}
	if CheckMissing("つくば市役所-2027-春") {
		t.Error("CheckMissing returned true")
	}
}

func TestParseHashRejects(t *testing.T) {
	good := string(HashPassword("correct horse battery"))
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"too few fields", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"},
		{"trailing field", good + "$x"},
		{"leading text", "x" + good},
		{"argon2i", with(1, "argon2i")},
		{"version 16", with(2, "v=16")},
		{"parameters reordered", with(3, "t=2,m=19456,p=1")},
		{"parameter missing", with(3, "m=19456,t=2")},
		{"leading zero", with(3, "m=019456,t=2,p=1")},
		{"plus sign", with(3, "m=+19456,t=2,p=1")},
		{"memory too large", with(3, "m=4194304,t=2,p=1")},
		{"memory too small", with(3, "m=7,t=2,p=1")},
		{"no passes", with(3, "m=19456,t=0,p=1")},
		{"too many passes", with(3, "m=19456,t=1000,p=1")},
		{"no threads", with(3, "m=19456,t=2,p=0")},
		{"threads overflow", with(3, "m=19456,t=2,p=257")},
		{"padded salt", with(4, parts[4]+"==")},
		{"short salt", with(4, "c2FsdA")},
		{"salt not base64", with(4, "!!!!!!!!!!!")},
		{"short hash", with(5, "aGFzaA")},
		{"hash not base64", with(5, parts[5][:len(parts[5])-1]+"*")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := ParseHash([]byte(tt.in)); err == nil {
				t.Errorf("ParseHash(%q) = %+v, want an error", tt.in, h)
			}
			if CheckPassword([]byte(tt.in), "correct horse battery") {
				t.Errorf("CheckPassword accepted %q", tt.in)
			}
		})
	}
}

func TestNamesAndPasswords(t *testing.T) {
	for _, ok := range []string{"suzuki.hanako", "鈴木花子", "tanaka_jiro-2", "kikaku@city.tsukuba"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "鈴木 花子", "a<b>", "x\n", strings.Repeat("a", 65), "tab\t"} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
	if err := CheckPasswordRules("短いパス"); err == nil {
		t.Error("a 4-character password accepted")
	}
	if err := CheckPasswordRules("筑波山の紅葉は十一月が見頃"); err != nil {
		t.Errorf("a 13-character Japanese password: %v", err)
	}
	if err := CheckPasswordRules("\xff\xfe" + strings.Repeat("a", 12)); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

// FuzzParseHash checks that ParseHash never panics and that whatever it
// accepts re-encodes to the same bytes (the encoding is canonical).
func FuzzParseHash(f *testing.F) {
	f.Add(HashPassword("fuzz seed password"))
	f.Add([]byte("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"))
	f.Add([]byte("$argon2id$v=19$m=19456,t=2,p=1$$"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ParseHash(in)
		if err != nil {
			return
		}
		if got := h.Encode(); !bytes.Equal(got, in) {
			t.Fatalf("ParseHash(%q) re-encodes as %q", in, got)
		}
	})
}

func TestThrottle(t *testing.T) {
	th := &Throttle{Free: 3, Max: time.Minute}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if w := th.Wait("account:suzuki", now); w != 0 {
			t.Fatalf("before failure %d: wait %v", i+1, w)
		}
		th.Fail("account:suzuki", now)
	}
	// Then 1 s, 2 s, 4 s … up to a minute, never more.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := th.Wait("account:suzuki", now); got != w {
			t.Fatalf("after %d failures: wait %v, want %v", 3+i, got, w)
		}
		if got := th.Wait("account:tanaka", now); got != 0 {
			t.Fatalf("another key waits %v", got)
		}
		now = now.Add(w)
		if got := th.Wait("account:suzuki", now); got != 0 {
			t.Fatalf("after waiting %v: still %v", w, got)
		}
		th.Fail("account:suzuki", now)
	}
	// Many more failures keep the wait at the maximum: never a lockout.
	for range 1000 {
		th.Fail("account:suzuki", now)
	}
	if got := th.Wait("account:suzuki", now.Add(time.Minute)); got != 0 {
		t.Errorf("a minute after the last failure: wait %v", got)
	}
	th.Succeed("account:suzuki")
	if got := th.Wait("account:suzuki", now); got != 0 {
		t.Errorf("after a success: wait %v", got)
	}
	// An hour without failure forgets the count.
	for range 10 {
		th.Fail("client:192.0.2.1", now)
	}
	th.Fail("client:192.0.2.1", now.Add(2*time.Hour))
	if got := th.Wait("client:192.0.2.1", now.Add(2*time.Hour)); got != 0 {
		t.Errorf("a failure after an hour's quiet: wait %v", got)
	}
}
