-- Security (ASVS L2): API tokens expire and carry scopes; sessions remember when their user last
-- proved who they are (re-authentication); TOTP second factor with single-use recovery codes; a
-- security log per account.
ALTER TABLE api_tokens
    ADD COLUMN expires_at DATETIME(6) NULL, -- NULL: expired
    ADD COLUMN scopes VARCHAR(64) NOT NULL DEFAULT 'read vote ask';
-- Tokens made before expiry existed get the default lifetime from their creation.
UPDATE api_tokens SET expires_at = DATE_ADD(created_at, INTERVAL 90 DAY);

ALTER TABLE sessions ADD COLUMN authenticated_at DATETIME(6) NULL; -- NULL: created_at

ALTER TABLE users
    ADD COLUMN totp_secret VARCHAR(255) NULL,     -- sealed (Keys::seal), set when enrolled
    ADD COLUMN totp_enabled_at DATETIME(6) NULL,  -- NULL: enrolment not confirmed
    ADD COLUMN totp_last_step BIGINT NULL;        -- last accepted 30 s step (no replay)

CREATE TABLE recovery_codes (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    code_hash  CHAR(64)    NOT NULL, -- SHA-256 (hex) of the code
    created_at DATETIME(6) NOT NULL,
    used_at    DATETIME(6) NULL,
    KEY recovery_codes_user (user_id),
    CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE security_events (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    kind       VARCHAR(32)  NOT NULL, -- login, login_failed, password_changed, ...
    detail     VARCHAR(255) NULL,
    network    CHAR(32)     NULL,     -- keyed hash of the client network, never the address
    user_agent VARCHAR(255) NULL,
    created_at DATETIME(6)  NOT NULL,
    KEY security_events_user (user_id, created_at),
    CONSTRAINT security_events_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
