-- How many questions hold each indexed word (issue 21): the search planner's statistics
-- (`models::search`). For each tier of a search the planner either asks the FTS5 index or
-- walks the list's index checking each question's search row, whichever its counts say is
-- cheaper. `questions`: questions holding the word anywhere; `titles`: in their title. `word`
-- is the indexed form (`domain::search::index_word`); the row with the empty word counts the
-- documents. Kept by the write path; filled by the backfill.
-- The folding changed with it (accents are dropped, so the text compares byte for byte on both
-- backends): the search rows are dropped here and `beebeta migrate` indexes them again.
CREATE TABLE search_words (
    word      TEXT    NOT NULL PRIMARY KEY,
    questions INTEGER NOT NULL DEFAULT 0,
    titles    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
DELETE FROM question_search;
-- The walks read only the index: visible questions by votes (replacing `questions_top`, which
-- the lists used with the same conditions) and by date (`questions_new` stays for the admin's
-- list of every question).
CREATE INDEX questions_visible_top ON questions (hidden_at, deleted_at, vote_count, id);
CREATE INDEX questions_visible_new ON questions (hidden_at, deleted_at, created_at, id);
DROP INDEX questions_top;
