-- Organization policy: members must use two-step verification (TOTP).
ALTER TABLE organizations ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
