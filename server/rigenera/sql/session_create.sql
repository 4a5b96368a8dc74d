-- A new website session for account $1 ($2 = SHA-256 of the cookie's id, $3 = its CSRF
-- token, $4 = lifetime in seconds), bound to the account's current credentials_version.
-- Expired sessions of the same account are swept on the way.
WITH swept AS (
  DELETE FROM rigenera.web_sessions WHERE username = $1 AND expires_at <= now()
)
INSERT INTO rigenera.web_sessions (id_hash, username, csrf_token, credentials_version, expires_at)
SELECT $2, a.username, $3, a.credentials_version, now() + make_interval(secs => $4)
  FROM rigenera.accounts a
 WHERE a.username = $1 AND a.active
RETURNING expires_at
