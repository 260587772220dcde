-- Flags (issue 19): a visitor's report that a question is spam, abusive, misleading, a duplicate
-- or something else. One per voter per question (`voter`: `u:<id>` for an account, `c:<uuid>`
-- for a voter cookie); `user_id` is the account, for counting distinct trusted flaggers. Open
-- while `resolved_at` is NULL; `resolution` says how an admin (or a ban) closed it.
CREATE TABLE flags (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    voter       TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL,
    details     TEXT,
    created_at  TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolution  TEXT
);
CREATE UNIQUE INDEX flags_question_voter ON flags (question_id, voter);
CREATE INDEX flags_open ON flags (resolved_at, question_id);

-- Actions taken by the site itself (a question hidden pending review once enough trusted
-- accounts flagged it) have no actor: `actor_id` becomes nullable (SQLite rebuilds the table).
CREATE TABLE audit_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER REFERENCES users (id),
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
