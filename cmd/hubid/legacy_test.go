package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestLegacyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	hubid := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), args, &out, &out)
		return code, out.String()
	}
	seedFile := filepath.Join(t.TempDir(), "seed.yaml")
	writeFile(t, seedFile, `services:
  - code: nk-ships
    name: NK-SHIPS
users:
  - email: a@example.com
    name: A
    password: long-enough-password
`)
	if code, out := hubid("seed", "apply", "--data", dir, seedFile); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	csvFile := filepath.Join(t.TempDir(), "ids.csv")
	writeFile(t, csvFile, "login_id,org_code,org_name,password_hash\nS-1,ACME,Acme,\nS-2,ACME,Acme,\n,ACME,Acme,\n")
	code, out := hubid("legacy", "import", "--data", dir, "--service", "nk-ships", csvFile)
	if code != 2 || !strings.Contains(out, "ids.csv:4: login_id: empty") || !strings.Contains(out, "NOT imported") {
		t.Fatalf("bad line: exit %d\n%s", code, out)
	}
	code, out = hubid("legacy", "import", "--data", dir, "--service", "nk-ships", "--dry-run", "--skip-bad", csvFile)
	if code != 0 || !strings.Contains(out, "2 created, 0 updated, 0 unchanged, 1 rejected — dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	code, out = hubid("legacy", "import", "--data", dir, "--service", "nk-ships", "--skip-bad", csvFile)
	if code != 0 || !strings.Contains(out, "organization ACME created") || !strings.Contains(out, "— imported") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	if code, out = hubid("legacy", "link", "--data", dir, "--service", "nk-ships", "--login-id", "S-1", "--email", "a@example.com"); code != 0 {
		t.Fatalf("link: %s", out)
	}
	code, out = hubid("legacy", "report", "--data", dir, "--format", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 ||
		rows[0]["total"] != 2.0 || rows[0]["preregistered"] != 1.0 || rows[0]["people"] != 1.0 || rows[0]["not_yet"] != 1.0 {
		t.Fatalf("report json: exit %d %v\n%s", code, err, out)
	}
	code, out = hubid("legacy", "report", "--data", dir, "--service", "nk-ships", "--format", "csv")
	if code != 0 || !strings.Contains(out, "nk-ships,ACME,Acme,2,1,1,1") {
		t.Fatalf("report csv: exit %d\n%s", code, out)
	}
	if code, out = hubid("legacy", "report", "--data", dir); code != 0 || !strings.Contains(out, "TOTAL") {
		t.Fatalf("report table: exit %d\n%s", code, out)
	}
	if code, out = hubid("legacy", "unlink", "--data", dir, "--service", "nk-ships", "--email", "a@example.com"); code != 0 || !strings.Contains(out, "unlinked S-1") {
		t.Fatalf("unlink: %s", out)
	}
	if code, out = hubid("legacy", "unlink", "--data", dir, "--service", "nk-ships", "--email", "a@example.com"); code != 1 {
		t.Fatalf("second unlink: exit %d %s", code, out)
	}
	for _, args := range [][]string{{"legacy"}, {"legacy", "import", "--data", dir, csvFile}, {"legacy", "report", "--data", dir, "--format", "xml"},
		{"legacy", "link", "--data", dir, "--service", "nk-ships"}} {
		if code, out := hubid(args...); code != 2 {
			t.Errorf("%q: exit %d %s", args, code, out)
		}
	}
}
