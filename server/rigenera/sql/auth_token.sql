-- A bearer token, checked on every request: not revoked, not expired, its account active;
-- `touch` says last_used_at is over a minute old (refreshed then, not on every request).
SELECT a.username, a.role, t.id AS token_id,
       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS touch,
       ARRAY(SELECT c.istat_code FROM rigenera.account_comuni c
              WHERE c.username = a.username ORDER BY c.istat_code) AS comuni
  FROM rigenera.tokens t
  JOIN rigenera.accounts a ON a.username = t.username
 WHERE t.token_hash = $1 AND a.active AND t.revoked_at IS NULL AND t.expires_at > now()
