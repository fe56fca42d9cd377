package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/koe-vote/koe/internal/store"
)

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	suzuki := store.Account{Name: "suzuki.hanako", Role: store.RoleAdmin, Password: []byte("$argon2id$hash-1"), Created: created}
	tanaka := store.Account{Name: "tanaka.jiro", Role: store.RoleObserver, Password: []byte("$argon2id$hash-2"), Created: created.Add(time.Hour)}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 0 {
		t.Fatalf("Accounts of a new store = %v, %v; want none", as, err)
	}
	for _, a := range []store.Account{tanaka, suzuki} {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatalf("CreateAccount(%q): %v", a.Name, err)
		}
	}
	if err := s.CreateAccount(ctx, store.Account{Name: "suzuki.hanako", Role: store.RoleObserver, Password: []byte("x")}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateAccount of a taken name = %v, want ErrExists", err)
	}
	got, err := s.Account(ctx, "suzuki.hanako")
	if err != nil || got.Role != store.RoleAdmin || string(got.Password) != "$argon2id$hash-1" || !got.Created.Equal(created) {
		t.Fatalf("Account = %+v, %v; want %+v", got, err, suzuki)
	}
	if _, err := s.Account(ctx, "sato"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Account of nobody = %v, want ErrNotFound", err)
	}
	as, err := s.Accounts(ctx)
	if err != nil || len(as) != 2 || as[0].Name != "suzuki.hanako" || as[1].Name != "tanaka.jiro" || as[1].Role != store.RoleObserver {
		t.Fatalf("Accounts = %+v, %v; want both, by name", as, err)
	}

	now := created.Add(2 * time.Hour)
	sid := func(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "session %d", i)) }
	put := func(i int, account string, expires time.Time) {
		t.Helper()
		if err := s.PutSession(ctx, store.Session{ID: sid(i), Account: account, Expires: expires}, now); err != nil {
			t.Fatalf("PutSession(%d): %v", i, err)
		}
	}
	put(1, "tanaka.jiro", now.Add(8*time.Hour))
	put(2, "tanaka.jiro", now.Add(8*time.Hour))
	put(3, "suzuki.hanako", now.Add(8*time.Hour))
	put(4, "", now.Add(time.Minute)) // the administrator's token
	if err := s.PutSession(ctx, store.Session{ID: sid(1), Account: "suzuki.hanako", Expires: now.Add(time.Hour)}, now); !errors.Is(err, store.ErrExists) {
		t.Fatalf("PutSession of a kept id = %v, want ErrExists", err)
	}
	if se, err := s.Session(ctx, sid(1), now); err != nil || se.Account != "tanaka.jiro" || !se.Expires.Equal(now.Add(8*time.Hour)) {
		t.Fatalf("Session(1) = %+v, %v", se, err)
	}
	if se, err := s.Session(ctx, sid(4), now); err != nil || se.Account != "" {
		t.Fatalf("Session(4) = %+v, %v; want the token's", se, err)
	}
	if _, err := s.Session(ctx, sid(4), now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, sid(9), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, sid(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, sid(3)); err != nil {
		t.Fatalf("DeleteSession twice: %v", err)
	}
	if _, err := s.Session(ctx, sid(3), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted session = %v, want ErrNotFound", err)
	}

	// A new role or password ends the account's sessions, and no other's.
	put(5, "suzuki.hanako", now.Add(time.Hour))
	tanaka.Role, tanaka.Password = store.RoleAdmin, []byte("$argon2id$hash-3")
	if err := s.UpdateAccount(ctx, tanaka); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Account(ctx, "tanaka.jiro"); err != nil || got.Role != store.RoleAdmin || string(got.Password) != "$argon2id$hash-3" || !got.Created.Equal(tanaka.Created) {
		t.Fatalf("after UpdateAccount: %+v, %v", got, err)
	}
	for _, i := range []int{1, 2} {
		if _, err := s.Session(ctx, sid(i), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %d after UpdateAccount = %v, want ErrNotFound", i, err)
		}
	}
	if _, err := s.Session(ctx, sid(5), now); err != nil {
		t.Errorf("another account's session after UpdateAccount: %v", err)
	}
	if err := s.UpdateAccount(ctx, store.Account{Name: "sato", Role: store.RoleAdmin, Password: []byte("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateAccount of nobody = %v, want ErrNotFound", err)
	}

	if err := s.DeleteAccount(ctx, "suzuki.hanako"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sid(5), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted account's session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAccount(ctx, "suzuki.hanako"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteAccount twice = %v, want ErrNotFound", err)
	}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 1 || as[0].Name != "tanaka.jiro" {
		t.Fatalf("Accounts after DeleteAccount = %+v, %v", as, err)
	}
	testOIDCBinding(t, s, created)
}

// testOIDCBinding checks the accounts' bindings to an OpenID subject:
// found by issuer and subject together, unique, changed and cleared.
func testOIDCBinding(t *testing.T, s store.Store, created time.Time) {
	ctx := t.Context()
	const iss, other = "https://id.city.example", "https://id.elsewhere.example"
	sato := store.Account{Name: "sato.ichiro", Role: store.RoleObserver, Created: created, OIDCIssuer: iss, OIDCSubject: "u-1001"}
	if err := s.CreateAccount(ctx, sato); err != nil {
		t.Fatalf("CreateAccount of an account without password, bound to a subject: %v", err)
	}
	got, err := s.AccountByOIDC(ctx, iss, "u-1001")
	if err != nil || got.Name != "sato.ichiro" || got.OIDCIssuer != iss || got.OIDCSubject != "u-1001" || len(got.Password) != 0 || !got.Created.Equal(created) {
		t.Fatalf("AccountByOIDC = %+v, %v; want sato.ichiro", got, err)
	}
	if a, err := s.Account(ctx, "sato.ichiro"); err != nil || a.OIDCSubject != "u-1001" || a.OIDCIssuer != iss {
		t.Fatalf("Account of a bound account = %+v, %v", a, err)
	}
	for _, q := range [][2]string{{other, "u-1001"}, {iss, "u-1002"}, {iss, ""}, {"", ""}} {
		if _, err := s.AccountByOIDC(ctx, q[0], q[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AccountByOIDC(%q, %q) = %v, want ErrNotFound", q[0], q[1], err)
		}
	}
	dup := store.Account{Name: "sato.jiro", Role: store.RoleAdmin, Created: created, OIDCIssuer: iss, OIDCSubject: "u-1001"}
	if err := s.CreateAccount(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateAccount with another account's binding = %v, want ErrExists", err)
	}
	if _, err := s.Account(ctx, "sato.jiro"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused account was kept: %v", err)
	}
	// The same subject at another issuer is another person.
	dup.OIDCIssuer = other
	if err := s.CreateAccount(ctx, dup); err != nil {
		t.Fatalf("CreateAccount with the subject at another issuer: %v", err)
	}
	tanaka, err := s.Account(ctx, "tanaka.jiro")
	if err != nil {
		t.Fatal(err)
	}
	tanaka.OIDCIssuer, tanaka.OIDCSubject = iss, "u-1001"
	if err := s.UpdateAccount(ctx, tanaka); !errors.Is(err, store.ErrExists) {
		t.Fatalf("UpdateAccount to another account's binding = %v, want ErrExists", err)
	}
	tanaka.OIDCSubject = "u-2002"
	if err := s.UpdateAccount(ctx, tanaka); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AccountByOIDC(ctx, iss, "u-2002"); err != nil || a.Name != "tanaka.jiro" || a.Role != store.RoleAdmin {
		t.Fatalf("AccountByOIDC after UpdateAccount = %+v, %v", a, err)
	}
	// Several accounts have no binding at all.
	sato.OIDCIssuer, sato.OIDCSubject, sato.Password = "", "", []byte("$argon2id$hash-4")
	if err := s.UpdateAccount(ctx, sato); err != nil {
		t.Fatalf("UpdateAccount clearing a binding: %v", err)
	}
	tanaka.OIDCIssuer, tanaka.OIDCSubject = "", ""
	if err := s.UpdateAccount(ctx, tanaka); err != nil {
		t.Fatalf("UpdateAccount clearing a second binding: %v", err)
	}
	if _, err := s.AccountByOIDC(ctx, iss, "u-1001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AccountByOIDC of a cleared binding = %v, want ErrNotFound", err)
	}
	for _, n := range []string{"sato.ichiro", "sato.jiro"} {
		if err := s.DeleteAccount(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	if es, err := s.Audit(ctx, 0, 10); err != nil || len(es) != 0 {
		t.Fatalf("Audit of a new store = %v, %v; want none", es, err)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	actions := []string{"create", "roll", "codes", "open", "close", "tally", "publish"}
	for i, a := range actions {
		seq, err := s.AppendAudit(ctx, store.AuditEntry{Time: start.Add(time.Duration(i) * time.Minute),
			Actor: "鈴木 花子", Action: a, Election: "tsukuba-2027", Detail: "", Outcome: "ok"})
		if err != nil || seq != int64(i+1) {
			t.Fatalf("AppendAudit(%s) = %d, %v; want %d", a, seq, err, i+1)
		}
	}
	if _, err := s.AppendAudit(ctx, store.AuditEntry{Time: start.Add(time.Hour), Actor: "", Action: "staff-add",
		Detail: "tanaka.jiro observer", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Audit(ctx, 0, 3)
	if err != nil || len(page) != 3 {
		t.Fatalf("Audit(0, 3) = %v, %v", page, err)
	}
	if e := page[0]; e.Seq != 8 || e.Action != "staff-add" || e.Actor != "" || e.Election != "" || e.Detail != "tanaka.jiro observer" || !e.Time.Equal(start.Add(time.Hour)) {
		t.Errorf("newest entry = %+v", e)
	}
	if e := page[2]; e.Seq != 6 || e.Action != "tally" || e.Actor != "鈴木 花子" || e.Election != "tsukuba-2027" || e.Outcome != "ok" {
		t.Errorf("third entry = %+v", e)
	}
	rest, err := s.Audit(ctx, page[2].Seq, 100)
	if err != nil || len(rest) != 5 || rest[0].Seq != 5 || rest[4].Seq != 1 || rest[4].Action != "create" {
		t.Fatalf("Audit(6, 100) = %+v, %v; want entries 5…1", rest, err)
	}
	if es, err := s.Audit(ctx, 1, 10); err != nil || len(es) != 0 {
		t.Fatalf("Audit(1, 10) = %v, %v; want none", es, err)
	}
}
