-- Whether the account's email was verified when the identity was linked. Identities linked before
-- (possibly by someone who only typed the address) are unlinked by a password reset or change.
ALTER TABLE identities ADD COLUMN verified_when_linked BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE identities i JOIN users u ON u.id = i.user_id
   SET i.verified_when_linked = TRUE
 WHERE u.email_verified_at IS NOT NULL AND u.email_verified_at <= i.created_at;
