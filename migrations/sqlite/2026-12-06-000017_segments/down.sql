DROP TABLE profile_answers;
DROP TABLE segments;
ALTER TABLE questions DROP COLUMN breakdowns;
