-- Flags (issue 19): a visitor's report that a question is spam, abusive, misleading, a duplicate
-- or something else. One per voter per question (`voter`: `u:<id>` for an account, `c:<uuid>`
-- for a voter cookie); `user_id` is the account, for counting distinct trusted flaggers. Open
-- while `resolved_at` is NULL; `resolution` says how an admin (or a ban) closed it.
CREATE TABLE flags (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    question_id BIGINT       NOT NULL,
    voter       VARCHAR(64)  NOT NULL,
    user_id     BIGINT       NULL,
    reason      VARCHAR(16)  NOT NULL,
    details     VARCHAR(500) NULL,
    created_at  DATETIME(6)  NOT NULL,
    resolved_at DATETIME(6)  NULL,
    resolution  VARCHAR(16)  NULL,
    UNIQUE KEY flags_question_voter (question_id, voter),
    KEY flags_open (resolved_at, question_id),
    CONSTRAINT flags_question FOREIGN KEY (question_id) REFERENCES questions (id) ON DELETE CASCADE,
    CONSTRAINT flags_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
