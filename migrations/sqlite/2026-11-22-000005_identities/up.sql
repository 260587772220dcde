-- Identities at OAuth2 / OpenID Connect providers linked to accounts.
CREATE TABLE identities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL, -- the provider's stable user id (`sub`)
    email      TEXT    NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX identities_provider_subject ON identities (provider, subject);
CREATE INDEX identities_user ON identities (user_id);
