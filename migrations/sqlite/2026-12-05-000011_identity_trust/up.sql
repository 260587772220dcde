-- Whether the account's email was verified when the identity was linked. Identities linked before
-- (possibly by someone who only typed the address) are unlinked by a password reset or change.
ALTER TABLE identities ADD COLUMN verified_when_linked BOOLEAN NOT NULL DEFAULT 0;
UPDATE identities SET verified_when_linked = 1
 WHERE EXISTS (SELECT 1 FROM users u
                WHERE u.id = identities.user_id
                  AND u.email_verified_at IS NOT NULL
                  AND u.email_verified_at <= identities.created_at);
