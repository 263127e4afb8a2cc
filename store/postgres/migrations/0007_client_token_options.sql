-- 0007_client_token_options: per-client token options. refresh_id_token
-- FALSE makes the refresh grant answer without an ID token (OpenID Connect
-- Core §12.2); access_token_signing_algorithm names the algorithm of the
-- client's JWT access tokens ('' = RS256, or ES256). The defaults keep
-- every existing client as it was.
ALTER TABLE clients ADD COLUMN refresh_id_token BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE clients ADD COLUMN access_token_signing_algorithm TEXT NOT NULL DEFAULT '';
