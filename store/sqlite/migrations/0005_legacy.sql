-- 0005_legacy: from shared login IDs to personal accounts.
-- One login ID may be linked to many people (everyone who shared it); a
-- person has at most one login ID per service (the primary key
-- (user_id, service_id) of legacy_links, kept). SQLite cannot drop the old
-- UNIQUE (service_id, login_id): the table is rebuilt without it.
CREATE TABLE legacy_links_0005 (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	service_id TEXT NOT NULL,
	login_id   TEXT NOT NULL,
	linked_at  BIGINT NOT NULL,
	PRIMARY KEY (user_id, service_id),
	FOREIGN KEY (service_id, login_id) REFERENCES legacy_login_ids (service_id, login_id) ON DELETE CASCADE
);
INSERT INTO legacy_links_0005 (user_id, service_id, login_id, linked_at)
	SELECT user_id, service_id, login_id, linked_at FROM legacy_links;
DROP TABLE legacy_links;
ALTER TABLE legacy_links_0005 RENAME TO legacy_links;
CREATE INDEX legacy_links_login_id ON legacy_links (service_id, login_id);

-- The address the import names for reminders, and when a row last changed.
ALTER TABLE legacy_login_ids ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE legacy_login_ids ADD COLUMN updated_at BIGINT;
CREATE INDEX legacy_login_ids_org ON legacy_login_ids (org_id);

-- A pre-registration waiting for its emailed link: only the hash of the
-- link's token is kept.
CREATE TABLE legacy_registrations (
	token_hash TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	login_id   TEXT NOT NULL,
	email      TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	locale     TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT,
	FOREIGN KEY (service_id, login_id) REFERENCES legacy_login_ids (service_id, login_id) ON DELETE CASCADE
);
CREATE INDEX legacy_registrations_expiry ON legacy_registrations (expires_at);
