-- 0001_init (SQLite dialect): hubid's durable state. Times are BIGINT unix microseconds,
-- UTC (NULL = "not yet"); string lists and maps are JSON text. Append-only:
-- change the schema with a new numbered file, never by editing this one.

CREATE TABLE users (
	id                  TEXT PRIMARY KEY,
	email               TEXT NOT NULL,
	email_folded        TEXT NOT NULL UNIQUE,
	email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
	name                TEXT NOT NULL DEFAULT '',
	locale              TEXT NOT NULL DEFAULT '',
	password_hash       TEXT NOT NULL DEFAULT '',
	disabled            BOOLEAN NOT NULL DEFAULT FALSE,
	password_changed_at BIGINT,
	created_at          BIGINT NOT NULL,
	updated_at          BIGINT NOT NULL
);

CREATE TABLE organizations (
	id         TEXT PRIMARY KEY,
	code       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, org_id)
);
CREATE INDEX memberships_org ON memberships (org_id);

CREATE TABLE services (
	id         TEXT PRIMARY KEY,
	code       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);

CREATE TABLE entitlements (
	org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, service_id)
);

CREATE TABLE clients (
	id                        TEXT PRIMARY KEY,
	secret_hash               TEXT NOT NULL DEFAULT '',
	name                      TEXT NOT NULL DEFAULT '',
	service_id                TEXT NOT NULL DEFAULT '',
	home_url                  TEXT NOT NULL DEFAULT '',
	redirect_uris             TEXT NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
	backchannel_logout_uri    TEXT NOT NULL DEFAULT '',
	grant_types               TEXT NOT NULL DEFAULT '[]',
	is_public                 BOOLEAN NOT NULL DEFAULT FALSE,
	first_party               BOOLEAN NOT NULL DEFAULT FALSE,
	access_token_type         TEXT NOT NULL DEFAULT '',
	created_at                BIGINT NOT NULL,
	updated_at                BIGINT NOT NULL
);

CREATE TABLE legacy_login_ids (
	service_id    TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	login_id      TEXT NOT NULL,
	org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	password_hash TEXT NOT NULL DEFAULT '',
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL,
	PRIMARY KEY (service_id, login_id)
);

-- One link per user per service; a login ID is linked to one user at most.
CREATE TABLE legacy_links (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	service_id TEXT NOT NULL,
	login_id   TEXT NOT NULL,
	linked_at  BIGINT NOT NULL,
	PRIMARY KEY (user_id, service_id),
	UNIQUE (service_id, login_id),
	FOREIGN KEY (service_id, login_id) REFERENCES legacy_login_ids (service_id, login_id) ON DELETE CASCADE
);

CREATE TABLE signing_keys (
	id           TEXT PRIMARY KEY,
	algorithm    TEXT NOT NULL,
	state        TEXT NOT NULL,
	sealed       BLOB NOT NULL,
	created_at   BIGINT NOT NULL,
	activated_at BIGINT,
	retired_at   BIGINT,
	remove_after BIGINT
);

CREATE TABLE consents (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL DEFAULT '[]',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, client_id)
);

CREATE TABLE totp_credentials (
	user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	sealed       BLOB NOT NULL,
	confirmed_at BIGINT,
	created_at   BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    TEXT NOT NULL,
	used_at BIGINT,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE invitations (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
	email       TEXT NOT NULL,
	role        TEXT NOT NULL,
	invited_by  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT,
	accepted_at BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id, created_at);

CREATE TABLE one_time_tokens (
	hash       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email      TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	used_at    BIGINT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, kind);

-- The usage history outlives the users and organizations it names: no
-- foreign keys.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	occurred_at BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	user_id     TEXT NOT NULL DEFAULT '',
	org_id      TEXT NOT NULL DEFAULT '',
	client_id   TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_time ON audit_events (occurred_at);

-- next_attempt NULL = given up.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT NOT NULL,
	payload      BLOB NOT NULL,
	created_at   BIGINT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt BIGINT,
	lease_until  BIGINT,
	sent_at      BIGINT,
	last_error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (kind, next_attempt) WHERE sent_at IS NULL;
