package legacy

import (
	"context"
	"errors"
	"time"

	"github.com/customerhub/hubid/store"
)

// AuditReminder is the reminder mail queued for a login ID's contact
// address (in the organization's history).
const AuditReminder = "legacy.reminder.sent"

// ReminderBatch is how many reminders one run queues at most; the job
// runs again soon after.
const ReminderBatch = 200

// ReminderMail is what the reminder says.
type ReminderMail struct {
	To               string
	Locale           string // "en", "ja" or "both" (Deps.ReminderLocale)
	LoginID, Service string
	Org              string
	Ends             time.Time // the end of the window
	Link             string    // the pre-registration page
}

// ReminderFrom is when reminders start: Deps.ReminderDays before the
// window ends (zero when there is no reminder).
func (s *Service) ReminderFrom() time.Time {
	if s.d.ReminderDays <= 0 || s.d.Window.End.IsZero() {
		return time.Time{}
	}
	return s.d.Window.End.AddDate(0, 0, -s.d.ReminderDays)
}

// SendReminders queues, from ReminderFrom until the window ends, the
// reminder mail to the contact address of each login ID not yet
// pre-registered (one with a password hash: the others only an
// administrator's invitation registers), at most ReminderBatch per call,
// and returns how many it queued. Each is sent once per login ID, by
// whichever replica marks it first: the mark (one conditional UPDATE),
// the mail (the outbox) and the audit event are one transaction.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	from, now := s.ReminderFrom(), s.d.Now()
	if from.IsZero() || now.Before(from) || s.Phase() != PhaseOpen {
		return 0, nil
	}
	due, err := s.d.Store.ListLegacyReminders(ctx, ReminderBatch)
	if err != nil {
		return 0, storeErr("list reminders", err)
	}
	sent := 0
	for _, r := range due {
		err := s.d.Store.InTx(ctx, func(tx store.Durable) error {
			if err := tx.MarkLegacyReminded(ctx, r.ServiceID, r.LoginID, now); err != nil {
				return err
			}
			if err := s.d.Mailer.SendReminder(ctx, tx, ReminderMail{To: r.ContactEmail, Locale: s.d.ReminderLocale,
				LoginID: r.LoginID, Service: r.ServiceName, Org: r.OrgName, Ends: s.d.Window.End,
				Link: s.d.BaseURL + "/preregister"}); err != nil {
				return err
			}
			return s.audit(ctx, tx, store.AuditEvent{Kind: AuditReminder, OrgID: r.OrgID,
				Detail: withEmail(detail(r.ServiceCode, r.LoginID), r.ContactEmail)})
		})
		switch {
		case err == nil:
			sent++
		case errors.Is(err, store.ErrAlreadyUsed), errors.Is(err, store.ErrNotFound):
			// Another replica sent it, or the login ID went meanwhile.
		case errors.Is(err, store.ErrUnavailable):
			return sent, storeErr("reminder", err)
		default:
			// One bad address must not hold up the others; it stays due.
			s.d.Logger.ErrorContext(ctx, "legacy reminder", "service", r.ServiceCode, "login_id", r.LoginID, "err", err)
		}
	}
	return sent, nil
}
