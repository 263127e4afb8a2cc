-- 0002_orgs (SQLite dialect): organizations managed by their administrators.
-- Invitations get a stable ID apart from the hash of the emailed token (a
-- resend replaces the token, not the invitation), a cancellation time and
-- the account that accepted them. Service applications are new. An index
-- answers "last sign-in" per member from the usage history.

ALTER TABLE invitations ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';
UPDATE invitations SET token_hash = id;
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
ALTER TABLE invitations ADD COLUMN cancelled_at BIGINT;
ALTER TABLE invitations ADD COLUMN accepted_by TEXT NOT NULL DEFAULT '';

-- The applicant has no foreign key: an application outlives its applicant's
-- account. One pending application per organization and service.
CREATE TABLE service_applications (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	service_id   TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	applicant_id TEXT NOT NULL DEFAULT '',
	note         TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	decided_by   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	decided_at   BIGINT
);
CREATE UNIQUE INDEX service_applications_pending ON service_applications (org_id, service_id) WHERE status = 'pending';
CREATE INDEX service_applications_org ON service_applications (org_id, created_at);
CREATE INDEX service_applications_status ON service_applications (status, created_at);

CREATE INDEX audit_events_user_kind ON audit_events (user_id, kind, occurred_at);
