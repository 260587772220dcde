-- Full-text search (issue 21). Each question's words, folded by the app (`domain::search`):
-- lower case, letters and digits only, words shorter than three characters padded with `_`
-- (InnoDB's innodb_ft_min_token_size is 3 by default). Filled by the write path; existing
-- questions are indexed by `beebeta migrate` right after this migration (`models::search::backfill`).
-- Two FULLTEXT indexes: a MATCH names exactly one index's columns, and the title is ranked
-- above the rest.
-- Stop words are left to the app (a quoted phrase may hold them): the table is created with
-- InnoDB's stop-word list switched off, which the index keeps for good.
SET SESSION innodb_ft_enable_stopword = OFF;
CREATE TABLE question_search (
    question_id BIGINT     NOT NULL PRIMARY KEY,
    title       TEXT       NOT NULL,
    body        MEDIUMTEXT NOT NULL,
    FULLTEXT KEY question_search_title (title),
    FULLTEXT KEY question_search_all (title, body),
    CONSTRAINT question_search_question_fk FOREIGN KEY (question_id) REFERENCES questions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
SET SESSION innodb_ft_enable_stopword = ON;
