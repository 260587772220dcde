ALTER TABLE identities DROP COLUMN verified_when_linked;
