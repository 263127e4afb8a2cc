package mail

import (
	"fmt"
	"net/url"
)

// KindLegacyRegister carries the link that finishes a pre-registration
// with a legacy login ID (LegacyRegisterData).
const KindLegacyRegister = "legacy_register"

// LegacyRegisterData is the data of KindLegacyRegister.
type LegacyRegisterData struct {
	Name           string
	Link           string // absolute http(s) URL
	ExpiresMinutes int
	LoginID        string
	Service        string // the service's display name
}

func (d LegacyRegisterData) validate() error {
	if d.LoginID == "" || d.Service == "" {
		return fmt.Errorf("no login ID or service")
	}
	return LinkData{Link: d.Link, ExpiresMinutes: d.ExpiresMinutes}.validate()
}

// KindLegacyReminder reminds the contact address of a login ID not yet
// pre-registered that the pre-registration ends soon
// (LegacyReminderData).
const KindLegacyReminder = "legacy_reminder"

// LegacyReminderData is the data of KindLegacyReminder.
type LegacyReminderData struct {
	Name    string // "" : the anonymous greeting (an imported address has no name)
	LoginID string
	Service string // the service's display name
	Org     string // the organization's name
	Ends    string // the end of the window, formatted for the mail's language
	Link    string // the pre-registration page, absolute http(s) URL
}

func (d LegacyReminderData) validate() error {
	if d.LoginID == "" || d.Service == "" || d.Ends == "" {
		return fmt.Errorf("no login ID, service or end date")
	}
	u, err := url.Parse(d.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("link %q is not an absolute http(s) URL", d.Link)
	}
	return nil
}
