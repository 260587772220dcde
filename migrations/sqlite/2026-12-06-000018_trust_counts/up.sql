-- Counters keep a trust dimension: each slot counts ballots and votes per trust level of the
-- ballot (0 cookie, 1 network, 2 account, 3 verified: `Trust::code`), so results can be shown
-- for all votes or for verified accounts only without reading the ledger. A question's count of
-- choice C at level T is SUM(votes) over its slots with choice_id = C AND trust = T; summed over
-- the levels it is the count it always was. Rebuilt here from the ledger, exactly.
DROP TABLE vote_counts;
CREATE TABLE vote_counts (
    question_id INTEGER  NOT NULL,
    choice_id   INTEGER  NOT NULL,
    trust       SMALLINT NOT NULL,
    slot        SMALLINT NOT NULL,
    votes       BIGINT   NOT NULL,
    PRIMARY KEY (question_id, choice_id, trust, slot)
) WITHOUT ROWID;

INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes)
    SELECT question_id, 0,
           CASE trust WHEN 'cookie' THEN 0 WHEN 'network' THEN 1 WHEN 'account' THEN 2 ELSE 3 END AS t,
           0, COUNT(*)
    FROM ballots GROUP BY question_id, t;
INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes)
    SELECT v.question_id, v.choice_id,
           CASE b.trust WHEN 'cookie' THEN 0 WHEN 'network' THEN 1 WHEN 'account' THEN 2 ELSE 3 END AS t,
           0, COUNT(*)
    FROM votes v JOIN ballots b ON b.id = v.ballot_id GROUP BY v.question_id, v.choice_id, t;
