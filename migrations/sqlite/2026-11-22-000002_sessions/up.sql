-- Accounts: email verification time and server-side sessions (revocable, any app server).
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP NULL;

CREATE TABLE sessions (
    id           TEXT    NOT NULL PRIMARY KEY, -- SHA-256 (hex) of the cookie's token
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,             -- absolute expiry
    user_agent   TEXT    NULL
);
CREATE INDEX sessions_user ON sessions (user_id, last_seen_at);
