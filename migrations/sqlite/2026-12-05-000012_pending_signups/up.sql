-- A sign-up waits here until the link mailed to its address is followed: no account (and so no
-- claim on the address) exists before, and the answer to a sign-up is the same whether or not the
-- address is taken. Only a SHA-256 of the link's token is stored.
CREATE TABLE pending_signups (
    id               TEXT    NOT NULL PRIMARY KEY,
    username         TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    password_hash    TEXT    NULL,     -- NULL: a provider login's sign-up
    provider         TEXT    NULL,     -- with the identity to link
    subject          TEXT    NULL,
    provider_email   TEXT    NULL,
    next             TEXT    NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    used_at          TIMESTAMP NULL
);
CREATE INDEX pending_signups_expiry ON pending_signups (expires_at);
