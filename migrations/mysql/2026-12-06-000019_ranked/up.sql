-- Ranked-choice questions (issue 20). A ranked ballot keeps its ledger rows as every ballot does
-- (`ballots`, and one `votes` row: its first preference, which `vote_counts` counts), plus its
-- whole ranking here: the choice ids most preferred first, as text ("3,1,2"). `ranking_counts`
-- is the slotted counter of distinct rankings (by the ballot's trust code, `Trust::code`), kept
-- by the same transactions, so the instant-runoff count reads a few rows, never the ballots.
CREATE TABLE rankings (
    ballot_id   BIGINT       NOT NULL PRIMARY KEY,
    question_id BIGINT       NOT NULL,
    ranking     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    KEY rankings_question (question_id, ranking),
    CONSTRAINT rankings_ballot_fk FOREIGN KEY (ballot_id) REFERENCES ballots (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE ranking_counts (
    question_id BIGINT       NOT NULL,
    ranking     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    trust       SMALLINT     NOT NULL,
    slot        SMALLINT     NOT NULL,
    votes       BIGINT       NOT NULL,
    PRIMARY KEY (question_id, ranking, trust, slot)
) ENGINE=InnoDB;
