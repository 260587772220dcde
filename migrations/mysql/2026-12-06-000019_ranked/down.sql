DROP TABLE ranking_counts;
DROP TABLE rankings;
