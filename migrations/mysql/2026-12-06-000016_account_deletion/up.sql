-- Account deletion (issue 19, "Your data"). A deleted member's questions may stay: they lose their
-- author and show as by "[deleted]" (a question without an author that never had one, such as
-- generated data, shows no author). Moderation entries outlive the admin who made them, and the
-- deletion itself is logged without an actor: the actor becomes optional.
ALTER TABLE questions ADD COLUMN author_deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE audit_log MODIFY actor_id BIGINT NULL;
