DROP TABLE question_search;
