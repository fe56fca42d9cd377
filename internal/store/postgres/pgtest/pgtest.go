// Package pgtest gives tests a PostgreSQL store in a fresh schema of the
// test server ($KOE_POSTGRES_URL, or a local server with trust
// authentication: see scripts/postgres).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koe-vote/koe/internal/store/postgres"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL returns the test server's URL ($KOE_POSTGRES_URL, or a local
// server with trust authentication: see scripts/postgres), skipping the
// test if the server can't be reached, unless $CI is set.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("KOE_POSTGRES_URL")
	if u == "" {
		u = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL at $KOE_POSTGRES_URL (or %s) unreachable: %v", defaultURL, err)
		}
		tb.Skipf("PostgreSQL unreachable (run scripts/postgres, or set $KOE_POSTGRES_URL): %v", err)
	}
	conn.Close(ctx)
	return u
}

// WithSearchPath returns u with its search_path set to schema.
func WithSearchPath(tb testing.TB, u, schema string) string {
	if !strings.Contains(u, "://") {
		return u + " search_path=" + schema
	}
	p, err := url.Parse(u)
	if err != nil {
		tb.Fatal(err)
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String()
}

// FreshSchema creates a schema with a random name, dropped when the test
// ends, and returns the URL that uses it.
func FreshSchema(tb testing.TB) string {
	tb.Helper()
	u := ServerURL(tb)
	schema := "koetest_" + hex.EncodeToString(RandBytes(8))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			tb.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Error(err)
		}
	})
	return WithSearchPath(tb, u, schema)
}

func RandBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Open opens a store in a fresh schema, closed and dropped when the test ends.
func Open(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), FreshSchema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
