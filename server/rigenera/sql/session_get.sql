-- The account behind a website session cookie ($1 = SHA-256 of the cookie's id): valid while
-- the session has not expired and the account is active with the credentials_version the
-- session was made with (a password, role, comuni or state change ends it: migration 0008).
-- `touch`: last_seen_at is written at most once a minute, not on every request.
SELECT a.username, a.role, s.csrf_token, s.expires_at,
       ARRAY(SELECT c.istat_code FROM rigenera.account_comuni c
              WHERE c.username = a.username ORDER BY c.istat_code) AS comuni,
       s.last_seen_at < now() - interval '1 minute' AS touch
  FROM rigenera.web_sessions s
  JOIN rigenera.accounts a ON a.username = s.username
 WHERE s.id_hash = $1
   AND s.expires_at > now()
   AND a.active
   AND a.credentials_version = s.credentials_version
