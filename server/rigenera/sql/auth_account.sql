-- The account behind Basic credentials ($1), read on every authenticated request (a
-- primary-key lookup): whether it is active, its role and comuni now, and the version of
-- its credentials a remembered password check must match (migration 0008).
-- `note_success`: a success from address $2 has throttle state to reset (failures of the
-- account, or from this address) or a new address to remember (login_succeeded).
SELECT a.username, a.role, a.active, a.password_hash, a.credentials_version,
       ARRAY(SELECT c.istat_code FROM rigenera.account_comuni c
              WHERE c.username = a.username ORDER BY c.istat_code) AS comuni,
       coalesce((SELECT bool_or(t.failures > 0 OR (t.key = 'account:' || a.username
                                                   AND t.trusted_address IS DISTINCT FROM $2))
                   FROM rigenera.login_throttle t
                  WHERE t.key IN ('pair:' || a.username || ' ' || $2, 'account:' || a.username)),
                false) AS note_success
  FROM rigenera.accounts a
 WHERE a.username = $1
