DROP TABLE security_events;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_last_step, DROP COLUMN totp_enabled_at, DROP COLUMN totp_secret;
ALTER TABLE sessions DROP COLUMN authenticated_at;
ALTER TABLE api_tokens DROP COLUMN scopes, DROP COLUMN expires_at;
