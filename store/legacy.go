package store

import (
	"context"
	"time"
)

// LegacyImportRow is one valid line of a legacy login ID import.
type LegacyImportRow struct {
	Line         int // in the file, for the report
	LoginID      string
	OrgCode      string
	OrgName      string // used when the organization is created
	NewOrgID     string // the ID to give the organization if it is created
	PasswordHash string
	ContactEmail string
}

// LegacyImportChange is what an import did (or would do) to one login ID.
type LegacyImportChange struct {
	Line            int
	LoginID         string
	Created         bool
	PasswordChanged bool
	OrgChanged      bool // moved to another organization
	ContactChanged  bool
	OrgCode         string // the organization it belongs to now
}

// LegacyImportResult sums up an import.
type LegacyImportResult struct {
	Changes     []LegacyImportChange // created and updated, by line
	Unchanged   int
	OrgsCreated []string // codes, sorted
}

// LegacyReportRow is one organization's progress for one service.
type LegacyReportRow struct {
	ServiceCode string
	OrgCode     string
	OrgName     string
	Total       int // login IDs
	Registered  int // login IDs linked to at least one person
	People      int // distinct people linked to them
}

// LegacyReminder is a login ID due the reminder mail, with what the mail
// names.
type LegacyReminder struct {
	ServiceID, ServiceCode, ServiceName string
	LoginID                             string
	OrgID, OrgCode, OrgName             string
	ContactEmail                        string
}

// LegacyRegistration is a pre-registration waiting for its emailed link;
// only the hash of the link's token is stored.
type LegacyRegistration struct {
	Hash      string
	ServiceID string
	LoginID   string
	Email     string
	Name      string
	Locale    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// LegacyBulkStore holds what the migration needs beyond single records:
// the bulk import, the linking transaction, the report and the emailed
// registrations.
type LegacyBulkStore interface {
	// ImportLegacyLoginIDs upserts rows (login IDs unique in rows) into a
	// service in one transaction with set-based statements, creating the
	// organizations not seen before; an unchanged row is not written.
	ImportLegacyLoginIDs(ctx context.Context, serviceID string, rows []LegacyImportRow) (LegacyImportResult, error)
	// ListLegacyLoginIDs returns a service's login IDs, by login ID.
	ListLegacyLoginIDs(ctx context.Context, serviceID string) ([]LegacyLoginID, error)
	// ListLegacyLoginIDsByOrg returns an organization's login IDs of every
	// service, by service ID then login ID.
	ListLegacyLoginIDsByOrg(ctx context.Context, orgID string) ([]LegacyLoginID, error)
	// LinkLegacyLoginID links l in one transaction that holds the login
	// ID's organization locked: fn sees the organization's memberships and
	// returns the membership to add for l.UserID (nil: none). Of many
	// concurrent calls for one organization each sees the memberships the
	// previous ones wrote. ErrAlreadyExists when the user has a link for
	// that service; ErrNotFound when the login ID or the user is missing.
	LinkLegacyLoginID(ctx context.Context, l LegacyLink, fn func(org Organization, members []Membership) (*Membership, error)) error
	// DeleteLegacyLink removes a user's link for a service; ErrNotFound
	// when there is none.
	DeleteLegacyLink(ctx context.Context, userID, serviceID string) error
	// ListLegacyLinksByLoginID returns the people linked to a login ID, by
	// user ID.
	ListLegacyLinksByLoginID(ctx context.Context, serviceID, loginID string) ([]LegacyLink, error)
	// LegacyReport counts, per service and organization, login IDs, those
	// linked, and the people linked; serviceID "" means every service.
	// Sorted by service code, then organization code.
	LegacyReport(ctx context.Context, serviceID string) ([]LegacyReportRow, error)

	// ListLegacyReminders returns up to limit login IDs due the reminder
	// mail: with a password hash and a contact address, not disabled, not
	// linked to anyone and not reminded yet; by service code, login ID.
	ListLegacyReminders(ctx context.Context, limit int) ([]LegacyReminder, error)
	// MarkLegacyReminded records the reminder of a login ID once, with one
	// conditional UPDATE: ErrAlreadyUsed when it was recorded before,
	// ErrNotFound when the login ID is missing.
	MarkLegacyReminded(ctx context.Context, serviceID, loginID string, at time.Time) error

	CreateLegacyRegistration(ctx context.Context, r LegacyRegistration) error
	// GetLegacyRegistration returns a registration whatever its state.
	GetLegacyRegistration(ctx context.Context, hash string) (LegacyRegistration, error)
	// ConsumeLegacyRegistration marks it used exactly once: ErrAlreadyUsed
	// after that, ErrNotFound when missing or expired at `at`.
	ConsumeLegacyRegistration(ctx context.Context, hash string, at time.Time) (LegacyRegistration, error)
}
