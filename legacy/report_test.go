package legacy_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
)

// TestReportHandCounted imports testdata/report_*.csv, links six people
// and compares the report with the figures counted by hand:
//
//	service   org    IDs  pre-registered  people  not yet
//	nk-pass   ACME    1        1 (P-01)      1 u1      0
//	nk-pass   BETA    1        1 (P-02)      1 u6      0
//	nk-ships  ACME    4        2 (S-01 S-02) 4 u1-u4   2 (S-03 S-04)
//	nk-ships  BETA    2        2 (S-05 S-06) 2 u5 u6   0
//	nk-ships  GAMMA   1        0             0         1 (S-07)
func TestReportHandCounted(t *testing.T) {
	d := openSQLite(t)
	svc := importer(t, d)
	ctx := context.Background()
	for code, file := range map[string]string{"nk-ships": "testdata/report_ships.csv", "nk-pass": "testdata/report_pass.csv"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Import(ctx, code, f, legacy.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for i := 1; i <= 6; i++ {
		if err := d.CreateUser(ctx, store.User{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []struct{ user, service, id string }{
		{"u1", "nk-ships", "S-01"}, {"u2", "nk-ships", "S-01"}, {"u3", "nk-ships", "S-01"}, {"u4", "nk-ships", "S-02"},
		{"u5", "nk-ships", "S-05"}, {"u6", "nk-ships", "S-06"}, {"u1", "nk-pass", "P-01"}, {"u6", "nk-pass", "P-02"},
	} {
		if _, err := svc.Link(ctx, "operator", l.user+"@example.com", l.service, l.id); err != nil {
			t.Fatalf("link %v: %v", l, err)
		}
	}
	want := []store.LegacyReportRow{
		{ServiceCode: "nk-pass", OrgCode: "ACME", OrgName: "Acme", Total: 1, Registered: 1, People: 1},
		{ServiceCode: "nk-pass", OrgCode: "BETA", OrgName: "Beta", Total: 1, Registered: 1, People: 1},
		{ServiceCode: "nk-ships", OrgCode: "ACME", OrgName: "Acme", Total: 4, Registered: 2, People: 4},
		{ServiceCode: "nk-ships", OrgCode: "BETA", OrgName: "Beta", Total: 2, Registered: 2, People: 2},
		{ServiceCode: "nk-ships", OrgCode: "GAMMA", OrgName: "Gamma", Total: 1},
	}
	got, err := svc.Report(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("report\n got %v\nwant %v", got, want)
	}
	got, err = svc.Report(ctx, "nk-ships")
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want[2:]) {
		t.Fatalf("report of nk-ships: %v %v", got, err)
	}
}
