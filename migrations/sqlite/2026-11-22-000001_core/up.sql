-- Core schema: users, questions, choices, tags, ballots and votes (SQLite).
-- Timestamps are UTC text in Diesel's format ("YYYY-MM-DD HH:MM:SS.ffffff"), which sorts correctly.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL COLLATE NOCASE,
    email         TEXT    NOT NULL COLLATE NOCASE,
    password_hash TEXT    NULL,
    role          TEXT    NOT NULL DEFAULT 'user',
    created_at    TIMESTAMP NOT NULL,
    banned_at     TIMESTAMP NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE questions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id          INTEGER NULL REFERENCES users (id),
    title              TEXT    NOT NULL,
    slug               TEXT    NOT NULL,
    description        TEXT    NULL,
    kind               TEXT    NOT NULL,
    min_choices        INTEGER NOT NULL,
    max_choices        INTEGER NOT NULL,
    results_visibility TEXT    NOT NULL,
    protection         TEXT    NOT NULL,
    vote_count         INTEGER NOT NULL DEFAULT 0,
    hot_rank           DOUBLE  NOT NULL DEFAULT 0,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    closes_at          TIMESTAMP NULL,
    closed_at          TIMESTAMP NULL,
    hidden_at          TIMESTAMP NULL,
    deleted_at         TIMESTAMP NULL
);
CREATE INDEX questions_hot ON questions (hot_rank, id);
CREATE INDEX questions_new ON questions (created_at, id);
CREATE INDEX questions_top ON questions (vote_count, id);
CREATE INDEX questions_author ON questions (author_id, created_at);

CREATE TABLE choices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    label       TEXT    NOT NULL
);
CREATE UNIQUE INDEX choices_question_position ON choices (question_id, position);

CREATE TABLE tags (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    question_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tags_name ON tags (name);
CREATE INDEX tags_popular ON tags (question_count, name);

CREATE TABLE question_tags (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    tag_id      INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (question_id, tag_id)
);
CREATE INDEX question_tags_tag ON question_tags (tag_id, question_id);

-- One ballot per voter per question: the unique key is the rule, not application code.
CREATE TABLE ballots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    voter       TEXT    NOT NULL,
    user_id     INTEGER NULL REFERENCES users (id),
    ip_hash     TEXT    NULL,
    trust       TEXT    NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ballots_question_voter ON ballots (question_id, voter);
CREATE INDEX ballots_question_ip ON ballots (question_id, ip_hash, created_at);
CREATE INDEX ballots_user ON ballots (user_id);

-- The ledger: one row per chosen choice of a ballot. A choice's count is its number of rows here.
CREATE TABLE votes (
    ballot_id   INTEGER NOT NULL REFERENCES ballots (id) ON DELETE CASCADE,
    choice_id   INTEGER NOT NULL REFERENCES choices (id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (ballot_id, choice_id)
);
CREATE INDEX votes_question_choice ON votes (question_id, choice_id);
