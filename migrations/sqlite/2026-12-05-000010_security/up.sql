-- Security (ASVS L2): API tokens expire and carry scopes; sessions remember when their user last
-- proved who they are (re-authentication); TOTP second factor with single-use recovery codes; a
-- security log per account.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP NULL; -- NULL: expired
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read vote ask';
-- Tokens made before expiry existed get the default lifetime from their creation.
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%d %H:%M:%f', created_at, '+90 days');

ALTER TABLE sessions ADD COLUMN authenticated_at TIMESTAMP NULL; -- NULL: created_at

ALTER TABLE users ADD COLUMN totp_secret TEXT NULL;          -- sealed (Keys::seal), set when enrolled
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP NULL;  -- NULL: enrolment not confirmed
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NULL;      -- last accepted 30 s step (no replay)

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL, -- SHA-256 (hex) of the code
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL, -- login, login_failed, password_changed, ...
    detail     TEXT    NULL,
    network    TEXT    NULL,     -- keyed hash of the client network, never the address
    user_agent TEXT    NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX security_events_user ON security_events (user_id, created_at);
