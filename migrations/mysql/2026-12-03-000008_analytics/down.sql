DROP TABLE analytics_batches;
DROP TABLE rollup_site_hourly;
DROP TABLE rollup_tag_daily;
DROP TABLE rollup_question_daily;
DROP TABLE rollup_question_hourly;
