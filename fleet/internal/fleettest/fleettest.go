// Package fleettest opens throw-away fleet databases for tests: SQLite
// always, and PostgreSQL when SCANBOX_FLEET_PG holds a DSN (each test gets
// its own schema, dropped afterwards).
package fleettest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/scanbox/scanbox/fleet/store"
)

// DB is one database flavour to run a test on.
type DB struct {
	Name string
	Open func(t testing.TB) (*store.Store, string) // store and its DSN
}

// DBs lists the flavours available here.
func DBs() []DB {
	dbs := []DB{{Name: "sqlite", Open: openSQLite}}
	if os.Getenv("SCANBOX_FLEET_PG") != "" {
		dbs = append(dbs, DB{Name: "postgres", Open: openPG})
	}
	return dbs
}

// Each runs f as a subtest on every flavour.
func Each(t *testing.T, f func(t *testing.T, st *store.Store, dsn string)) {
	for _, db := range DBs() {
		t.Run(db.Name, func(t *testing.T) {
			st, dsn := db.Open(t)
			f(t, st, dsn)
		})
	}
}

func openSQLite(t testing.TB) (*store.Store, string) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "fleet.db")
	st, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dsn
}

// PGSchemaDSN creates a fresh schema and returns a DSN that uses it.
func PGSchemaDSN(t testing.TB) string {
	base := os.Getenv("SCANBOX_FLEET_PG")
	b := make([]byte, 6)
	rand.Read(b)
	schema := "fleettest_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres (SCANBOX_FLEET_PG): %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPG(t testing.TB) (*store.Store, string) {
	dsn := PGSchemaDSN(t)
	st, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dsn
}
