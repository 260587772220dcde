-- Identities at OAuth2 / OpenID Connect providers linked to accounts.
CREATE TABLE identities (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    provider   VARCHAR(32)  NOT NULL,
    subject    VARCHAR(255) NOT NULL, -- the provider's stable user id (`sub`)
    email      VARCHAR(254) NULL,
    created_at DATETIME(6)  NOT NULL,
    UNIQUE KEY identities_provider_subject (provider, subject),
    KEY identities_user (user_id),
    CONSTRAINT identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
