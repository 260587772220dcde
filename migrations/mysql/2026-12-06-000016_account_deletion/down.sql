DELETE FROM audit_log WHERE actor_id IS NULL;
ALTER TABLE audit_log MODIFY actor_id BIGINT NOT NULL;
ALTER TABLE questions DROP COLUMN author_deleted;
