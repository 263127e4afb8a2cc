package idp_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customerhub/hubid/idp/config"
	"github.com/customerhub/hubid/idp/legacyui"
	"github.com/customerhub/hubid/idp/mail"
	"github.com/customerhub/hubid/internal/hubtest"
	"github.com/customerhub/hubid/legacy"
	"github.com/customerhub/hubid/store"
	"github.com/customerhub/hubid/store/storetest"
)

// TestLegacyReminderMail moves the provider's clock through the window:
// nothing before reminder_days_before_end, then one mail per login ID not
// yet pre-registered (to its contact address, in the configured language,
// through the outbox) however many replicas run the job at once, nothing
// the second time, nothing after the window.
func TestLegacyReminderMail(t *testing.T) {
	start := time.Now().UTC()
	end := start.Add(10 * 24 * time.Hour)
	clk := storetest.NewClock(start)
	opts := hubtest.Options{Now: clk.Now, Config: func(c *config.Config) {
		c.Migration.PreregistrationStart = start.Add(-time.Hour).Format(time.RFC3339)
		c.Migration.PreregistrationEnd = end.Format(time.RFC3339)
		c.Migration.Cutover = end.Add(14 * 24 * time.Hour).Format(time.RFC3339)
		c.Migration.ReminderDaysBeforeEnd = 3
	}}
	a := hubtest.New(t, opts)
	opts.ReplicaOf = a
	b := hubtest.New(t, opts)
	a.ApplySeed(t, "../deploy/dev/seed.yaml")
	ctx := context.Background()
	d := a.Durable
	ships, _ := d.GetServiceByCode(ctx, "nk-ships")
	org, _ := d.GetOrganizationByCode(ctx, "NK0010")
	const hash = "$2a$04$abcdefghijklmnopqrstuuJ3ZrK6B6bq5mY1XZ4G6jz0Ocz7sMKa6"
	for _, l := range []store.LegacyLoginID{
		{LoginID: "R-1", ContactEmail: "contact@kobe.example", PasswordHash: hash},
		{LoginID: "R-2", ContactEmail: "linked@kobe.example", PasswordHash: hash},
		{LoginID: "R-3", ContactEmail: "invite-only@kobe.example"},
	} {
		l.ServiceID, l.OrgID = ships.ID, org.ID
		if err := d.CreateLegacyLoginID(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ := d.GetUserByEmail(ctx, "admin@demo.example")
	if err := d.CreateLegacyLink(ctx, store.LegacyLink{UserID: admin.ID, ServiceID: ships.ID, LoginID: "R-2"}); err != nil {
		t.Fatal(err)
	}
	run := func() int {
		total := 0
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, env := range []*hubtest.Env{a, b, a, b} {
			wg.Go(func() {
				n, err := env.Server.SendLegacyReminders(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		return total
	}

	if n := run(); n != 0 {
		t.Fatalf("%d reminders 10 days before the end (configured: 3)", n)
	}
	clk.Advance(7*24*time.Hour + time.Minute)
	if n := run(); n != 1 {
		t.Fatalf("%d reminders queued by four runs on two replicas, want 1 (R-1)", n)
	}
	if n := run(); n != 0 {
		t.Fatalf("a second run queued %d", n)
	}
	msgs, err := d.ClaimOutbox(ctx, mail.OutboxKind, time.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []mail.Message
	for _, m := range msgs {
		var v mail.Message
		_ = json.Unmarshal(m.Payload, &v)
		got = append(got, v)
	}
	if len(got) != 1 || got[0].To != "contact@kobe.example" || !strings.Contains(got[0].Subject, "期限までに") ||
		!strings.Contains(got[0].Text, "R-1") || (!strings.Contains(got[0].Text, a.URL+"/preregister\n") && !strings.Contains(got[0].Text, b.URL+"/preregister\n")) ||
		!strings.Contains(got[0].Text, legacyui.FormatTime(end, "ja")) {
		t.Fatalf("outbox: %+v", got)
	}
	ev, _ := d.ListAudit(ctx, store.AuditFilter{OrgID: org.ID, Kinds: []string{legacy.AuditReminder}})
	if len(ev) != 1 || ev[0].Detail["login_id"] != "R-1" {
		t.Fatalf("organization history: %+v", ev)
	}

	// (Each test replica has its own issuer URL; in production they share
	// one.) After the window nothing is sent, even for a login ID imported
	// since.
	if err := d.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "R-4", ServiceID: ships.ID, OrgID: org.ID,
		ContactEmail: "late@kobe.example", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * 24 * time.Hour)
	if n := run(); n != 0 {
		t.Fatalf("%d reminders after the window", n)
	}
}

// TestLegacyReminderLanguage: migration.reminder_language chooses the
// reminder's language: unset (both), one mail with the Japanese part
// first and the English part after it, each with the end date written
// for its reader; en or ja, that language only. A value outside en, ja
// and both is refused at start-up.
func TestLegacyReminderLanguage(t *testing.T) {
	start := time.Now().UTC()
	end := start.Add(10 * 24 * time.Hour)
	jaSubject, enSubject := "期限までに個人のメールアドレスを登録してください", "Register your personal email address before the deadline"
	for _, tc := range []struct {
		lang         string // "" = unset
		wantJA, want bool   // Japanese part, English part
	}{
		{"", true, true},
		{"both", true, true},
		{"en", false, true},
		{"ja", true, false},
	} {
		t.Run("language="+tc.lang, func(t *testing.T) {
			clk := storetest.NewClock(start)
			env := hubtest.New(t, hubtest.Options{Now: clk.Now, Config: func(c *config.Config) {
				c.Migration.PreregistrationStart = start.Add(-time.Hour).Format(time.RFC3339)
				c.Migration.PreregistrationEnd = end.Format(time.RFC3339)
				c.Migration.Cutover = end.Add(14 * 24 * time.Hour).Format(time.RFC3339)
				c.Migration.ReminderDaysBeforeEnd = 3
				if tc.lang != "" {
					c.Migration.ReminderLanguage = tc.lang
				}
			}})
			env.ApplySeed(t, "../deploy/dev/seed.yaml")
			ctx := context.Background()
			d := env.Durable
			ships, _ := d.GetServiceByCode(ctx, "nk-ships")
			org, _ := d.GetOrganizationByCode(ctx, "NK0010")
			if err := d.CreateLegacyLoginID(ctx, store.LegacyLoginID{LoginID: "L-1", ServiceID: ships.ID, OrgID: org.ID,
				ContactEmail: "contact@kobe.example", PasswordHash: "$2a$04$abcdefghijklmnopqrstuuJ3ZrK6B6bq5mY1XZ4G6jz0Ocz7sMKa6"}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(7*24*time.Hour + time.Minute)
			if n, err := env.Server.SendLegacyReminders(ctx); n != 1 || err != nil {
				t.Fatalf("queued %d, %v", n, err)
			}
			msgs, err := d.ClaimOutbox(ctx, mail.OutboxKind, time.Now().Add(time.Hour), time.Minute, 100)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("outbox: %d %v", len(msgs), err)
			}
			var m mail.Message
			if err := json.Unmarshal(msgs[0].Payload, &m); err != nil {
				t.Fatal(err)
			}
			jaEnds, enEnds := legacyui.FormatTime(end, "ja"), legacyui.FormatTime(end, "en")
			for _, part := range []struct {
				want          bool
				subject, ends string
			}{{tc.wantJA, jaSubject, jaEnds}, {tc.want, enSubject, enEnds}} {
				if got := strings.Contains(m.Subject, part.subject); got != part.want {
					t.Errorf("subject %q: has %q = %v, want %v", m.Subject, part.subject, got, part.want)
				}
				for name, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
					if got := strings.Contains(body, part.ends); got != part.want {
						t.Errorf("%s has the end date %q = %v, want %v:\n%s", name, part.ends, got, part.want, body)
					}
				}
			}
			if tc.wantJA && tc.want {
				if i, k := strings.Index(m.Text, jaEnds), strings.Index(m.Text, enEnds); i > k {
					t.Errorf("English before Japanese:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `<div lang="ja">`) || !strings.Contains(m.HTML, `<div lang="en">`) {
					t.Errorf("HTML parts not tagged with their language:\n%s", m.HTML)
				}
			}
		})
	}
	_, err := config.Parse([]byte("issuer: https://id.example.com\nmigration:\n  reminder_language: fr\n"))
	if err == nil || !strings.Contains(err.Error(), `migration.reminder_language: "fr" is not one of en, ja, both`) {
		t.Fatalf("reminder_language fr: %v", err)
	}
}
