package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// sqlstore writes every statement once with PostgreSQL's $1, $2...
// placeholders: modernc.org/sqlite must bind them by ordinal, in any order
// and repeated.
func TestDollarPlaceholdersBindByOrdinal(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var a, b string
	var c int64
	if err := db.QueryRow(`SELECT $2, $1, $3 + $3`, "one", "two", int64(20)).Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a != "two" || b != "one" || c != 40 {
		t.Fatalf("got %q %q %d; want two one 40", a, b, c)
	}
}
