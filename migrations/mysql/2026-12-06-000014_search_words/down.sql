ALTER TABLE questions
    ADD KEY questions_top (vote_count, id),
    DROP KEY questions_visible_new,
    DROP KEY questions_visible_top;
DROP TABLE search_words;
