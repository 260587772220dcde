DROP TABLE security_events;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_enabled_at;
ALTER TABLE users DROP COLUMN totp_secret;
ALTER TABLE sessions DROP COLUMN authenticated_at;
ALTER TABLE api_tokens DROP COLUMN scopes;
ALTER TABLE api_tokens DROP COLUMN expires_at;
