CREATE INDEX questions_top ON questions (vote_count, id);
DROP INDEX questions_visible_new;
DROP INDEX questions_visible_top;
DROP TABLE search_words;
