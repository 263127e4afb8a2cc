package config

import (
	"time"
)

// Migration is the move from shared legacy login IDs to personal accounts:
// the pre-registration window and the cutover, as RFC 3339 times with a
// zone ("2026-06-15T00:00:00+09:00"). All three unset: no migration (the
// pre-registration pages say so, legacy login IDs open nothing).
type Migration struct {
	PreregistrationStart string `yaml:"preregistration_start"`
	PreregistrationEnd   string `yaml:"preregistration_end"`
	Cutover              string `yaml:"cutover"`
	// FirstRole is the account type of the first person pre-registered for
	// an organization that has no administrator; LaterRole of the others.
	FirstRole string `yaml:"first_role"` // default administrator
	LaterRole string `yaml:"later_role"` // default normal
	// ReminderDaysBeforeEnd, when above 0, mails the contact_email of
	// every login ID not yet pre-registered this many days before
	// preregistration_end, once per login ID (0: no reminder).
	ReminderDaysBeforeEnd int `yaml:"reminder_days_before_end"`
	// ReminderLanguage is the reminder's language: en, ja, or both (the
	// default: one mail, Japanese then English), since an imported contact
	// address has no language of its own.
	ReminderLanguage string `yaml:"reminder_language"`
}

// ReminderFrom is when reminders start (zero: no reminder).
func (t MigrationTimes) ReminderFrom(days int) time.Time {
	if days <= 0 || t.End.IsZero() {
		return time.Time{}
	}
	return t.End.AddDate(0, 0, -days)
}

// MigrationTimes are the parsed window; zero times when unset.
type MigrationTimes struct {
	Start, End, Cutover time.Time
}

// Times parses the window (call after Validate).
func (m Migration) Times() MigrationTimes {
	p := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339, s)
		return t
	}
	return MigrationTimes{Start: p(m.PreregistrationStart), End: p(m.PreregistrationEnd), Cutover: p(m.Cutover)}
}

func (m Migration) validate(add func(string, ...any)) {
	switch m.ReminderLanguage {
	case "en", "ja", "both":
	default:
		add("migration.reminder_language: %q is not one of en, ja, both", m.ReminderLanguage)
	}
	if m.ReminderDaysBeforeEnd < 0 || m.ReminderDaysBeforeEnd > 365 {
		add("migration.reminder_days_before_end: %d is not a number of days from 0 (no reminder) to 365", m.ReminderDaysBeforeEnd)
	}
	if m.PreregistrationStart == "" && m.PreregistrationEnd == "" && m.Cutover == "" {
		if m.ReminderDaysBeforeEnd > 0 {
			add("migration.reminder_days_before_end: needs the migration dates")
		}
		return
	}
	var ts [3]time.Time
	for i, f := range []struct{ key, v string }{
		{"migration.preregistration_start", m.PreregistrationStart},
		{"migration.preregistration_end", m.PreregistrationEnd},
		{"migration.cutover", m.Cutover},
	} {
		if f.v == "" {
			add("%s: required when any of the migration dates is set", f.key)
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			add("%s: %q is not an RFC 3339 time with a zone (e.g. 2026-06-15T00:00:00+09:00)", f.key, f.v)
			continue
		}
		ts[i] = t
	}
	if !ts[0].IsZero() && !ts[1].IsZero() && !ts[0].Before(ts[1]) {
		add("migration.preregistration_end: must be after migration.preregistration_start")
	}
	if !ts[1].IsZero() && !ts[2].IsZero() && ts[2].Before(ts[1]) {
		add("migration.cutover: must not be before migration.preregistration_end")
	}
	for _, r := range []struct{ key, v string }{{"migration.first_role", m.FirstRole}, {"migration.later_role", m.LaterRole}} {
		switch r.v {
		case "administrator", "normal", "visitor":
		default:
			add("%s: %q is not one of administrator, normal, visitor", r.key, r.v)
		}
	}
}
