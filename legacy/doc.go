// Package legacy is the migration from shared, organization-level login IDs
// to personal accounts: the import of legacy login IDs, the
// pre-registration window and cutover, the linking rules and the progress
// report. The pages (idp/legacyui), the CLI (`hubid legacy`) and the admin
// API are thin adapters over Service.
//
// # Linking rules
//
// One login ID may be linked to many people (everyone who shared it); one
// person may be linked to login IDs of several services but to at most one
// login ID per service — the database's primary key (user_id, service_id)
// refuses a second one, whatever checked before. Linking makes the person a
// member of the login ID's organization; store.LinkLegacyLoginID holds the
// organization locked while the role is chosen, so of two first
// registrations at once exactly one finds no administrator and becomes it
// (FirstRole), the other gets LaterRole. An existing member keeps their
// account type.
//
// # Window
//
// Before migration.preregistration_start and after
// migration.preregistration_end the pre-registration is closed; from
// migration.cutover legacy login IDs authenticate nothing (Authenticate
// refuses before any lookup) and only operators and organization
// administrators link login IDs (Link).
//
// # Credentials
//
// A legacy password is checked after the throttle (one budget per service
// and login ID, plus the client IP), in constant time: an unknown login ID,
// one without a hash (pre-registrable only by invitation) or a disabled one
// spends a dummy hash and gets the same ErrBadCredentials as a wrong
// password. A successful check yields a Ticket, an HMAC-signed statement
// "this browser proved login ID X of service S until T" that the page
// carries to the Register form (no server state, any replica can check it).
//
// # Registration
//
// Register stores a LegacyRegistration (only the SHA-256 of the emailed
// token) and queues the mail in the same transaction; the link works once
// for RegistrationTTL. Following it, a new address sets a password
// (CompleteNew: account created with the address verified) and an existing
// account confirms with its password and, when enrolled, its second factor
// (CompleteExisting, through the SecondFactor interface). Every step is an
// audit event naming the login ID, in the person's and the organization's
// history.
package legacy
