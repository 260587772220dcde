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
