DROP TABLE votes;
DROP TABLE ballots;
DROP TABLE question_tags;
DROP TABLE tags;
DROP TABLE choices;
DROP TABLE questions;
DROP TABLE users;
