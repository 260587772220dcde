-- Analytics rollups: what the admin reports read (never the raw votes). Written by the database
-- sink of the event pipeline (src/analytics) with additive upserts; each batch of events is
-- applied in one transaction together with its row in analytics_batches, so a batch that is
-- retried after an unknown outcome is applied at most once, and several app servers may write
-- at once. Times are UTC, truncated to the hour (hourly tables) or to midnight (daily tables).

-- Views and votes of each question per hour (the daily table below holds the same sums by day,
-- so reports over weeks read 24 times fewer rows).
CREATE TABLE rollup_question_hourly (
    hour        DATETIME NOT NULL,
    question_id BIGINT   NOT NULL,
    views       BIGINT   NOT NULL DEFAULT 0,
    votes       BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, question_id),
    KEY rollup_question_hourly_question (question_id, hour)
) ENGINE=InnoDB;

CREATE TABLE rollup_question_daily (
    day         DATETIME NOT NULL,
    question_id BIGINT   NOT NULL,
    views       BIGINT   NOT NULL DEFAULT 0,
    votes       BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (day, question_id),
    KEY rollup_question_daily_question (question_id, day)
) ENGINE=InnoDB;

-- Views and votes of the questions carrying each tag, per day (a tag page view counts as a view
-- of the tag).
CREATE TABLE rollup_tag_daily (
    day     DATETIME NOT NULL,
    tag_id  BIGINT   NOT NULL,
    views   BIGINT   NOT NULL DEFAULT 0,
    votes   BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (day, tag_id),
    KEY rollup_tag_daily_tag (tag_id, day)
) ENGINE=InnoDB;

-- Site totals per hour: the dashboard, the per-day charts and the hour x weekday heatmap.
CREATE TABLE rollup_site_hourly (
    hour              DATETIME NOT NULL PRIMARY KEY,
    page_views        BIGINT   NOT NULL DEFAULT 0,
    votes             BIGINT   NOT NULL DEFAULT 0,
    vote_changes      BIGINT   NOT NULL DEFAULT 0,
    vote_withdrawals  BIGINT   NOT NULL DEFAULT 0,
    signups           BIGINT   NOT NULL DEFAULT 0,
    logins            BIGINT   NOT NULL DEFAULT 0,
    questions_asked   BIGINT   NOT NULL DEFAULT 0
) ENGINE=InnoDB;

-- Batches already applied to the rollups (id: a UUID made by the app server that built it).
CREATE TABLE analytics_batches (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    events      INTEGER     NOT NULL,
    applied_at  DATETIME    NOT NULL,
    KEY analytics_batches_applied (applied_at)
) ENGINE=InnoDB;
