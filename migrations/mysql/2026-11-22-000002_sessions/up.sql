-- Accounts: email verification time and server-side sessions (revocable, any app server).
ALTER TABLE users ADD COLUMN email_verified_at DATETIME(6) NULL;

CREATE TABLE sessions (
    id           CHAR(64)     NOT NULL PRIMARY KEY, -- SHA-256 (hex) of the cookie's token
    user_id      BIGINT       NOT NULL,
    created_at   DATETIME(6)  NOT NULL,
    last_seen_at DATETIME(6)  NOT NULL,
    expires_at   DATETIME(6)  NOT NULL,             -- absolute expiry
    user_agent   VARCHAR(255) NULL,
    KEY sessions_user (user_id, last_seen_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
