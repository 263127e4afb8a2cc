package legacy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/customerhub/hubid/internal/testenv"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/password"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/postgres"
	"github.com/customerhub/hubid/store/storetest"
)

var t0 = time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)

func openSQLite(tb testing.TB) store.Durable {
	return storetest.OpenSQLite(tb, func() time.Time { return t0 })
}

func openPostgres(tb testing.TB) store.Durable {
	tb.Helper()
	s, err := postgres.Open(context.Background(), testenv.Postgres(tb), postgres.Options{Migrate: true, Now: func() time.Time { return t0 }})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func importer(tb testing.TB, d store.Durable) *legacy.Service {
	tb.Helper()
	ctx := context.Background()
	for _, v := range []store.Service{{ID: "s-ships", Code: "nk-ships", Name: "NK-SHIPS"}, {ID: "s-pass", Code: "nk-pass", Name: "NK-PASS"}} {
		if err := d.CreateService(ctx, v); err != nil {
			tb.Fatal(err)
		}
	}
	return legacy.New(legacy.Deps{Store: d, Now: func() time.Time { return t0 }})
}

var bcryptHash = "$2a$04$" + strings.Repeat("a", 53)

const header = "login_id,org_code,org_name,password_hash,contact_email\n"

func TestImportIdempotentAndUpdates(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	ctx := context.Background()
	pbkdf2, _ := password.EncodePBKDF2("pw", []byte("saltsalt"), 1000)
	file := header +
		"NKS-1,ACME,Acme Ltd,," + "\n" +
		"NKS-2,ACME,Acme Ltd," + bcryptHash + ",ops@acme.example\n" +
		"NKS-3,BETA,Beta KK,\"" + pbkdf2 + "\",\n" // PHC parameters hold a comma: quoted
	rep, err := svc.Import(ctx, "nk-ships", strings.NewReader(file), legacy.ImportOptions{})
	if err != nil {
		t.Fatal(err, rep.Problems)
	}
	if !rep.Applied || rep.Created != 3 || rep.Updated != 0 || rep.Unchanged != 0 || len(rep.OrgsCreated) != 2 {
		t.Fatalf("first import: %+v", rep)
	}
	rep, err = svc.Import(ctx, "nk-ships", strings.NewReader(file), legacy.ImportOptions{})
	if err != nil || rep.Created+rep.Updated != 0 || rep.Unchanged != 3 {
		t.Fatalf("second import changed something: %+v, %v", rep, err)
	}
	changed := strings.Replace(file, "NKS-3,BETA,Beta KK", "NKS-3,ACME,Acme Ltd", 1)
	rep, err = svc.Import(ctx, "nk-ships", strings.NewReader(changed), legacy.ImportOptions{DryRun: true})
	if err != nil || rep.Applied || rep.Updated != 1 || !rep.Changes[0].OrgChanged {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	if l, _ := d.GetLegacyLoginID(ctx, "s-ships", "NKS-3"); l.OrgID == mustOrg(t, d, "ACME").ID {
		t.Fatal("dry run changed the organization")
	}
	rep, err = svc.Import(ctx, "nk-ships", strings.NewReader(changed), legacy.ImportOptions{})
	if err != nil || rep.Updated != 1 || legacy.ChangeText(rep.Changes[0]) != "line 4: NKS-3 updated: organization → ACME" {
		t.Fatalf("update: %+v, %v", rep, err)
	}
	if l, _ := d.GetLegacyLoginID(ctx, "s-ships", "NKS-3"); l.OrgID != mustOrg(t, d, "ACME").ID {
		t.Fatal("organization not moved")
	}
	events, _ := d.ListAudit(ctx, store.AuditFilter{Kinds: []string{legacy.AuditImport}})
	if len(events) != 3 || events[0].Detail["updated"] != "1" {
		t.Fatalf("audit: %+v", events)
	}
}

func mustOrg(t *testing.T, d store.Durable, code string) store.Organization {
	t.Helper()
	o, err := d.GetOrganizationByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Each kind of bad line is reported with its number; the file imports
// nothing unless SkipBad.
func TestImportBadLines(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	ctx := context.Background()
	file := header +
		"OK-1,ACME,Acme,,\n" + // 2
		",ACME,Acme,,\n" + // 3 empty login ID
		"OK-2,,Acme,,\n" + // 4 empty org code
		"OK-3,ACME,,,\n" + // 5 empty org name
		"OK-4,ACME,Acme,$md5$nope,\n" + // 6 unsupported hash
		"OK-5,ACME,Acme,$2a$04$short,\n" + // 7 malformed bcrypt
		"OK-6,ACME,Acme,,not-an-email\n" + // 8 bad contact
		"OK-1,ACME,Acme,,\n" + // 9 duplicate
		"OK-7,ACME,Other name,,\n" + // 10 org named differently
		"OK 8,ACME,Acme,,\n" + // 11 white space
		"OK-9,ACME\n" + // 12 field count
		"OK-10,ACME,Acme,,\n" // 13 good
	rep, err := svc.Import(ctx, "nk-ships", strings.NewReader(file), legacy.ImportOptions{})
	if !errors.Is(err, legacy.ErrBadLines) {
		t.Fatalf("err = %v", err)
	}
	want := map[int]string{3: "login_id: empty", 4: "org_code: empty", 5: "org_name: empty", 6: "unsupported algorithm",
		7: "bcrypt", 8: "contact_email", 9: "appears again (first at line 2)", 10: `named "Acme" at line 2`,
		11: "white space", 12: "2 fields, want 5"}
	if rep.Rejected != len(want) || rep.Applied {
		t.Fatalf("report: %+v", rep)
	}
	for _, p := range rep.Problems {
		if !strings.Contains(p.Reason, want[p.Line]) || want[p.Line] == "" {
			t.Errorf("line %d: %q, want %q", p.Line, p.Reason, want[p.Line])
		}
	}
	if _, err := d.GetLegacyLoginID(ctx, "s-ships", "OK-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a file with bad lines imported something: %v", err)
	}
	rep, err = svc.Import(ctx, "nk-ships", strings.NewReader(file), legacy.ImportOptions{SkipBad: true})
	if err != nil || !rep.Applied || rep.Created != 2 || rep.Rejected != 10 {
		t.Fatalf("skip bad: %+v, %v", rep, err)
	}
}

func TestImportFileProblems(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	for name, file := range map[string]string{
		"empty":          "",
		"missing column": "login_id,org_code,password_hash\n",
		"unknown column": "login_id,org_code,org_name,password_hash,colour\n",
	} {
		_, err := svc.Import(context.Background(), "nk-ships", strings.NewReader(file), legacy.ImportOptions{})
		if !errors.Is(err, legacy.ErrBadFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := svc.Import(context.Background(), "nope", strings.NewReader(header), legacy.ImportOptions{}); err == nil {
		t.Error("unknown service accepted")
	}
}

// A BOM and CRLF line ends read like plain LF; line numbers stay right.
func TestImportBOMAndCRLF(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	file := "\xEF\xBB\xBFlogin_id,org_code,org_name,password_hash\r\nA-1,ACME,Acme,\r\n,ACME,Acme,\r\nA-2,ACME,\"Acme\",\r\n"
	rep, err := svc.Import(context.Background(), "nk-ships", strings.NewReader(file), legacy.ImportOptions{SkipBad: true})
	if err != nil || rep.Created != 2 || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
	if _, err := d.GetLegacyLoginID(context.Background(), "s-ships", "A-2"); err != nil {
		t.Fatal(err)
	}
	o := mustOrg(t, d, "ACME")
	if o.Name != "Acme" {
		t.Fatalf("org name %q (BOM or CR kept?)", o.Name)
	}
}

func csvFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for i := range n {
		fmt.Fprintf(&b, "ID%07d,ORG%05d,Org %d,%s,\n", i, i%1000, i%1000, bcryptHash)
	}
	return b.Bytes()
}

func TestImport10000Lines(t *testing.T) {
	for name, open := range map[string]func(testing.TB) store.Durable{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			d := open(t)
			svc := importer(t, d)
			file := csvFile(10000)
			rep, err := svc.Import(context.Background(), "nk-ships", bytes.NewReader(file), legacy.ImportOptions{})
			if err != nil || rep.Created != 10000 || len(rep.OrgsCreated) != 1000 {
				t.Fatalf("%+v, %v", rep.Created, err)
			}
			rep, err = svc.Import(context.Background(), "nk-ships", bytes.NewReader(file), legacy.ImportOptions{})
			if err != nil || rep.Unchanged != 10000 {
				t.Fatalf("again: %+v, %v", rep.Unchanged, err)
			}
		})
	}
}

// BenchmarkImport100k imports 100,000 lines (1,000 organizations) into an
// empty PostgreSQL schema per iteration; the target is under 30 s.
func BenchmarkImport100k(b *testing.B) {
	file := csvFile(100000)
	for b.Loop() {
		b.StopTimer()
		d := openPostgres(b)
		svc := importer(b, d)
		b.StartTimer()
		rep, err := svc.Import(context.Background(), "nk-ships", bytes.NewReader(file), legacy.ImportOptions{})
		if err != nil || rep.Created != 100000 {
			b.Fatalf("%d, %v", rep.Created, err)
		}
	}
}

// The bad-line kinds TestImportBadLines leaves out: lengths, encoding,
// control characters, malformed argon2id and PBKDF2 hashes, broken CSV
// quoting; each with its line number, and the good lines around them
// still counted.
func TestImportMoreBadLineKinds(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	file := header +
		strings.Repeat("L", 129) + ",ACME,Acme,,\n" + // 2
		"OK-2," + strings.Repeat("C", 65) + ",Acme,,\n" + // 3
		"OK-3,ACME2," + strings.Repeat("n", 201) + ",,\n" + // 4
		"OK-4,ACME,Acme," + strings.Repeat("h", 513) + ",\n" + // 5
		"OK-5,ACME,Ac\xffme,,\n" + // 6
		"OK-6,ACME,Ac\x01me,,\n" + // 7
		"OK-7,ACME,Acme,$argon2id$v=19$m=x,\n" + // 8
		"OK-8,ACME,Acme,\"$pbkdf2-sha256$i=1000,l=32$c2FsdA$!!\",\n" + // 9
		"OK-9,ACME,Ac\"me,,\n" + // 10
		"OK-10,ACME,Acme,,\n" // 11
	rep, err := svc.Import(context.Background(), "nk-ships", strings.NewReader(file), legacy.ImportOptions{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "login_id: longer than 128", 3: "org_code: longer than 64", 4: "org_name: longer than 200",
		5: "password_hash: longer than 512", 6: "not UTF-8", 7: "control characters", 8: "password_hash:", 9: "password_hash:",
		10: "not valid CSV"}
	got := map[int]string{}
	for _, p := range rep.Problems {
		got[p.Line] = p.Reason
	}
	for line, w := range want {
		if !strings.Contains(got[line], w) {
			t.Errorf("line %d: %q, want %q", line, got[line], w)
		}
	}
	if len(rep.Problems) != len(want) || rep.Created != 1 {
		t.Fatalf("problems %v, created %d (want OK-10 only)", rep.Problems, rep.Created)
	}
}
