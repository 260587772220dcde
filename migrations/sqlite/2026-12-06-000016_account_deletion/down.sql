CREATE TABLE audit_log_old (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER NOT NULL REFERENCES users (id),
    action      TEXT    NOT NULL,
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
INSERT INTO audit_log_old (id, actor_id, action, target_kind, target_id, reason, created_at)
SELECT id, actor_id, action, target_kind, target_id, reason, created_at FROM audit_log
 WHERE actor_id IS NOT NULL;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);
ALTER TABLE questions DROP COLUMN author_deleted;
