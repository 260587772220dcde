DROP TABLE vote_counts;
