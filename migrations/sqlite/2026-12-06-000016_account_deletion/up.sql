-- Account deletion (issue 19, "Your data"). A deleted member's questions may stay: they lose their
-- author and show as by "[deleted]" (a question without an author that never had one, such as
-- generated data, shows no author). Moderation entries outlive the admin who made them, and the
-- deletion itself is logged without an actor: the actor becomes optional (SQLite cannot drop a
-- NOT NULL, so the table is copied).
ALTER TABLE questions ADD COLUMN author_deleted BOOLEAN NOT NULL DEFAULT 0;
CREATE TABLE audit_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER NULL REFERENCES users (id),
    action      TEXT    NOT NULL,
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
INSERT INTO audit_log_new (id, actor_id, action, target_kind, target_id, reason, created_at)
SELECT id, actor_id, action, target_kind, target_id, reason, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);
