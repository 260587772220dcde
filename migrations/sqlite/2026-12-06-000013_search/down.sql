DROP TRIGGER question_search_au;
DROP TRIGGER question_search_ad;
DROP TRIGGER question_search_ai;
DROP TABLE question_fts;
DROP TABLE question_search;
