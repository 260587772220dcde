-- One-time links sent by email (verification, password reset): only a SHA-256 is stored.
CREATE TABLE email_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL, -- 'verify' or 'reset'
    email      TEXT    NOT NULL, -- the address the link was sent to
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP NULL
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);
