-- Moderation audit log: who did what to which question or user, when and why.
CREATE TABLE audit_log (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    actor_id    BIGINT       NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    target_kind VARCHAR(16)  NOT NULL,
    target_id   BIGINT       NOT NULL,
    reason      VARCHAR(500) NOT NULL,
    created_at  DATETIME(6)  NOT NULL,
    KEY audit_log_created (created_at, id),
    KEY audit_log_target (target_kind, target_id),
    CONSTRAINT audit_log_actor FOREIGN KEY (actor_id) REFERENCES users (id)
) ENGINE=InnoDB;
