-- Core schema: users, questions, choices, tags, ballots and votes (MySQL / MariaDB).
-- Timestamps are UTC, DATETIME(6) so that ordering by time keeps sub-second precision.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(32)  NOT NULL,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NULL,
    role          VARCHAR(16)  NOT NULL DEFAULT 'user',
    created_at    DATETIME(6)  NOT NULL,
    banned_at     DATETIME(6)  NULL,
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE questions (
    id                 BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    author_id          BIGINT       NULL,
    title              VARCHAR(200) NOT NULL,
    slug               VARCHAR(200) NOT NULL,
    description        TEXT         NULL,
    kind               VARCHAR(16)  NOT NULL,
    min_choices        INT          NOT NULL,
    max_choices        INT          NOT NULL,
    results_visibility VARCHAR(16)  NOT NULL,
    protection         VARCHAR(16)  NOT NULL,
    vote_count         BIGINT       NOT NULL DEFAULT 0,
    hot_rank           DOUBLE       NOT NULL DEFAULT 0,
    created_at         DATETIME(6)  NOT NULL,
    updated_at         DATETIME(6)  NOT NULL,
    closes_at          DATETIME(6)  NULL,
    closed_at          DATETIME(6)  NULL,
    hidden_at          DATETIME(6)  NULL,
    deleted_at         DATETIME(6)  NULL,
    KEY questions_hot (hot_rank, id),
    KEY questions_new (created_at, id),
    KEY questions_top (vote_count, id),
    KEY questions_author (author_id, created_at),
    CONSTRAINT questions_author_fk FOREIGN KEY (author_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE choices (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    question_id BIGINT       NOT NULL,
    position    INT          NOT NULL,
    label       VARCHAR(200) NOT NULL,
    UNIQUE KEY choices_question_position (question_id, position),
    CONSTRAINT choices_question_fk FOREIGN KEY (question_id) REFERENCES questions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tags (
    id             BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name           VARCHAR(32) NOT NULL,
    question_count BIGINT      NOT NULL DEFAULT 0,
    UNIQUE KEY tags_name (name),
    KEY tags_popular (question_count, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE question_tags (
    question_id BIGINT NOT NULL,
    tag_id      BIGINT NOT NULL,
    PRIMARY KEY (question_id, tag_id),
    KEY question_tags_tag (tag_id, question_id),
    CONSTRAINT question_tags_question_fk FOREIGN KEY (question_id) REFERENCES questions (id) ON DELETE CASCADE,
    CONSTRAINT question_tags_tag_fk FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- One ballot per voter per question: the unique key is the rule, not application code.
CREATE TABLE ballots (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    question_id BIGINT      NOT NULL,
    voter       VARCHAR(64) NOT NULL,
    user_id     BIGINT      NULL,
    ip_hash     VARCHAR(64) NULL,
    trust       VARCHAR(16) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    UNIQUE KEY ballots_question_voter (question_id, voter),
    KEY ballots_question_ip (question_id, ip_hash, created_at),
    KEY ballots_user (user_id),
    CONSTRAINT ballots_question_fk FOREIGN KEY (question_id) REFERENCES questions (id) ON DELETE CASCADE,
    CONSTRAINT ballots_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- The ledger: one row per chosen choice of a ballot. A choice's count is its number of rows here.
CREATE TABLE votes (
    ballot_id   BIGINT      NOT NULL,
    choice_id   BIGINT      NOT NULL,
    question_id BIGINT      NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (ballot_id, choice_id),
    KEY votes_question_choice (question_id, choice_id),
    CONSTRAINT votes_ballot_fk FOREIGN KEY (ballot_id) REFERENCES ballots (id) ON DELETE CASCADE,
    CONSTRAINT votes_choice_fk FOREIGN KEY (choice_id) REFERENCES choices (id) ON DELETE CASCADE
) ENGINE=InnoDB;
