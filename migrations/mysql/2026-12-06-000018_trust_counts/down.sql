DROP TABLE vote_counts;
CREATE TABLE vote_counts (
    question_id BIGINT   NOT NULL,
    choice_id   BIGINT   NOT NULL,
    slot        SMALLINT NOT NULL,
    votes       BIGINT   NOT NULL,
    PRIMARY KEY (question_id, choice_id, slot)
) ENGINE=InnoDB;

INSERT INTO vote_counts (question_id, choice_id, slot, votes)
    SELECT question_id, 0, 0, COUNT(*) FROM ballots GROUP BY question_id;
INSERT INTO vote_counts (question_id, choice_id, slot, votes)
    SELECT question_id, choice_id, 0, COUNT(*) FROM votes GROUP BY question_id, choice_id;
