package mail

import "fmt"

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
