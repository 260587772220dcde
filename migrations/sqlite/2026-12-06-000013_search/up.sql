-- Full-text search (issue 21). Each question's words, folded by the app (`domain::search`):
-- lower case, letters and digits only. Filled by the write path; existing questions are indexed
-- by `beebeta migrate` right after this migration (`models::search::backfill`).
-- `question_fts` is an FTS5 index over this table (external content), kept in step by the
-- triggers below.
CREATE TABLE question_search (
    question_id INTEGER NOT NULL PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL
);
CREATE VIRTUAL TABLE question_fts USING fts5(
    title, body,
    content = 'question_search', content_rowid = 'question_id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER question_search_ai AFTER INSERT ON question_search BEGIN
    INSERT INTO question_fts (rowid, title, body) VALUES (new.question_id, new.title, new.body);
END;
CREATE TRIGGER question_search_ad AFTER DELETE ON question_search BEGIN
    INSERT INTO question_fts (question_fts, rowid, title, body)
        VALUES ('delete', old.question_id, old.title, old.body);
END;
CREATE TRIGGER question_search_au AFTER UPDATE ON question_search BEGIN
    INSERT INTO question_fts (question_fts, rowid, title, body)
        VALUES ('delete', old.question_id, old.title, old.body);
    INSERT INTO question_fts (rowid, title, body) VALUES (new.question_id, new.title, new.body);
END;
