-- The account behind Basic credentials ($1), read on every authenticated request (a
-- primary-key lookup): whether it is active, its role and comuni now, and the version of
-- its credentials a remembered password check must match (migration 0008).
-- `note_success`: failed logins of this account (from address $2, or anywhere) that a
-- success must reset (login_succeeded); rare, so remembered successes write nothing.
SELECT a.username, a.role, a.active, a.password_hash, a.credentials_version,
       ARRAY(SELECT c.istat_code FROM rigenera.account_comuni c
              WHERE c.username = a.username ORDER BY c.istat_code) AS comuni,
       EXISTS (SELECT FROM rigenera.login_throttle t
                WHERE t.key IN ('pair:' || a.username || ' ' || $2, 'account:' || a.username)
                  AND t.failures > 0) AS note_success
  FROM rigenera.accounts a
 WHERE a.username = $1
