package config

import (
	"strings"
	"testing"
	"time"
)

func TestMigrationWindow(t *testing.T) {
	c, err := Parse([]byte(`issuer: https://id.example.com
migration:
  preregistration_start: "2026-06-15T00:00:00+09:00"
  preregistration_end: "2026-09-14T23:59:59+09:00"
  cutover: "2026-09-28T00:00:00+09:00"
`))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Migration.Times()
	if w.Start.UTC().Format("2006-01-02T15") != "2026-06-14T15" || !w.End.Before(w.Cutover) {
		t.Fatalf("times: %+v", w)
	}
	if c.Migration.FirstRole != "administrator" || c.Migration.LaterRole != "normal" {
		t.Fatalf("roles: %+v", c.Migration)
	}
}

func TestMigrationProblemsAllReported(t *testing.T) {
	_, err := Parse([]byte(`issuer: https://id.example.com
migration:
  preregistration_start: "2026-09-15T00:00:00+09:00"
  preregistration_end: "2026-06-14T00:00:00+09:00"
  cutover: "2026-09-28T00:00:00"
  first_role: boss
`))
	p := strings.Join(problems(t, err), "\n")
	for _, want := range []string{
		"migration.preregistration_end: must be after",
		`migration.cutover: "2026-09-28T00:00:00" is not an RFC 3339 time with a zone`,
		`migration.first_role: "boss"`,
	} {
		if !strings.Contains(p, want) {
			t.Errorf("missing %q in\n%s", want, p)
		}
	}
	_, err = Parse([]byte("issuer: https://id.example.com\nmigration:\n  cutover: \"2026-09-28T00:00:00Z\"\n  preregistration_end: \"2026-09-29T00:00:00Z\"\n"))
	p = strings.Join(problems(t, err), "\n")
	for _, want := range []string{"migration.preregistration_start: required"} {
		if !strings.Contains(p, want) {
			t.Errorf("missing %q in\n%s", want, p)
		}
	}
}

func TestMigrationReminder(t *testing.T) {
	c, err := Parse([]byte(`issuer: https://id.example.com
migration:
  preregistration_start: "2026-06-15T00:00:00+09:00"
  preregistration_end: "2026-09-14T23:59:59+09:00"
  cutover: "2026-09-28T00:00:00+09:00"
  reminder_days_before_end: 14
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Migration.Times().ReminderFrom(c.Migration.ReminderDaysBeforeEnd); got.Format(time.RFC3339) != "2026-08-31T23:59:59+09:00" || c.Migration.ReminderLanguage != "both" {
		t.Fatalf("reminder from %v, language %q", got, c.Migration.ReminderLanguage)
	}
	if !c.Migration.Times().ReminderFrom(0).IsZero() {
		t.Fatal("reminder without days")
	}
	_, err = Parse([]byte(`issuer: https://id.example.com
migration:
  reminder_days_before_end: 400
  reminder_language: fr
`))
	p := strings.Join(problems(t, err), "\n")
	for _, want := range []string{
		"migration.reminder_days_before_end: 400 is not a number of days",
		`migration.reminder_language: "fr"`,
		"migration.reminder_days_before_end: needs the migration dates",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("missing %q in\n%s", want, p)
		}
	}
}
