-- How many questions hold each indexed word (issue 21): the search planner's statistics
-- (`models::search`). For each tier of a search the planner either asks the FULLTEXT index or
-- walks the list's index checking each question's search row, whichever its counts say is
-- cheaper. `questions`: questions holding the word anywhere; `titles`: in their title. `word`
-- is the indexed form (`domain::search::index_word`); the row with the empty word counts the
-- documents. Kept by the write path; filled by the backfill.
-- The folding changed with it (accents are dropped, so the text compares byte for byte on both
-- backends): the search rows are dropped here and `beebeta migrate` indexes them again.
CREATE TABLE search_words (
    word      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    questions BIGINT NOT NULL DEFAULT 0,
    titles    BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
DELETE FROM question_search;
-- The walks read only the index: visible questions by votes (replacing `questions_top`, which
-- the lists used with the same conditions) and by date (`questions_new` stays for the admin's
-- list of every question).
ALTER TABLE questions
    ADD KEY questions_visible_top (hidden_at, deleted_at, vote_count, id),
    ADD KEY questions_visible_new (hidden_at, deleted_at, created_at, id),
    DROP KEY questions_top;
