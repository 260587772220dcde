-- A sign-up waits here until the link mailed to its address is followed: no account (and so no
-- claim on the address) exists before, and the answer to a sign-up is the same whether or not the
-- address is taken. Only a SHA-256 of the link's token is stored.
CREATE TABLE pending_signups (
    id               CHAR(64)     NOT NULL PRIMARY KEY,
    username         VARCHAR(32)  NOT NULL,
    email            VARCHAR(254) NOT NULL,
    password_hash    VARCHAR(255) NULL,     -- NULL: a provider login's sign-up
    provider         VARCHAR(64)  NULL,     -- with the identity to link
    subject          VARCHAR(255) NULL,
    provider_email   VARCHAR(254) NULL,
    next             VARCHAR(512) NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    expires_at       DATETIME(6)  NOT NULL,
    used_at          DATETIME(6)  NULL,
    KEY pending_signups_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
