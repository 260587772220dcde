-- Personal API tokens: only a SHA-256 of each token is stored.
CREATE TABLE api_tokens (
    id           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT      NOT NULL,
    name         VARCHAR(64) NOT NULL,
    token_hash   CHAR(64)    NOT NULL,
    hint         VARCHAR(16) NOT NULL, -- the first characters, to recognise a token in the list
    created_at   DATETIME(6) NOT NULL,
    last_used_at DATETIME(6) NULL,
    revoked_at   DATETIME(6) NULL,
    UNIQUE KEY api_tokens_hash (token_hash),
    KEY api_tokens_user (user_id),
    CONSTRAINT api_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
