-- One-time links sent by email (verification, password reset): only a SHA-256 is stored.
CREATE TABLE email_tokens (
    id         CHAR(64)     NOT NULL PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    purpose    VARCHAR(16)  NOT NULL, -- 'verify' or 'reset'
    email      VARCHAR(254) NOT NULL, -- the address the link was sent to
    created_at DATETIME(6)  NOT NULL,
    expires_at DATETIME(6)  NOT NULL,
    used_at    DATETIME(6)  NULL,
    KEY email_tokens_user (user_id, purpose),
    CONSTRAINT email_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
