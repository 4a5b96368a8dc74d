-- Credentials that stop at once, and throttled logins (issue #9, section 3).
--
-- 1. accounts.credentials_version changes whenever what a credential grants changes:
--    password, active, role (a BEFORE UPDATE trigger) or the account's comuni (a
--    trigger on account_comuni). Whoever writes (the CLI, a SQL console), every
--    server process sees it on the next request: the authenticator reads the account
--    row on every request and re-verifies a password it remembered for an older version.
ALTER TABLE rigenera.accounts ADD COLUMN credentials_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION rigenera.bump_credentials_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
     OR NEW.active IS DISTINCT FROM OLD.active
     OR NEW.role IS DISTINCT FROM OLD.role
     OR NEW.username IS DISTINCT FROM OLD.username THEN
    NEW.credentials_version := OLD.credentials_version + 1;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_credentials_version BEFORE UPDATE ON rigenera.accounts
  FOR EACH ROW EXECUTE FUNCTION rigenera.bump_credentials_version();

CREATE FUNCTION rigenera.bump_credentials_version_of_comuni() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE rigenera.accounts SET credentials_version = credentials_version + 1;
    RETURN NULL;
  END IF;
  UPDATE rigenera.accounts SET credentials_version = credentials_version + 1, updated_at = now()
   WHERE username IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.username END,
                      CASE WHEN TG_OP <> 'DELETE' THEN NEW.username END);
  RETURN NULL;
END $$;

CREATE TRIGGER account_comuni_credentials_version
  AFTER INSERT OR UPDATE OR DELETE ON rigenera.account_comuni
  FOR EACH ROW EXECUTE FUNCTION rigenera.bump_credentials_version_of_comuni();
CREATE TRIGGER account_comuni_credentials_version_truncate
  AFTER TRUNCATE ON rigenera.account_comuni
  FOR EACH STATEMENT EXECUTE FUNCTION rigenera.bump_credentials_version_of_comuni();

-- 2. Failed logins, shared by every server process. One row per key:
--    'pair:<username> <address>', 'address:<address>', 'account:<username>'.
--    UNLOGGED: throttling state is worth nothing after a crash, and it is written on
--    every failed login, so it should cost no WAL.
CREATE UNLOGGED TABLE rigenera.login_throttle (
  key             text PRIMARY KEY,
  failures        integer NOT NULL DEFAULT 0,  -- in the window that started at window_start
  window_start    timestamptz NOT NULL DEFAULT now(),
  blocked_until   timestamptz,
  strikes         integer NOT NULL DEFAULT 0,  -- blocks in a row: the next lasts 2^strikes longer
  trusted_address text                         -- account rows: where its password last checked out
);
CREATE INDEX login_throttle_blocked ON rigenera.login_throttle (blocked_until);

-- Is this attempt throttled? Seconds to wait and which limit, or no row. Called before
-- any password hashing, so a throttled flood costs one indexed read per request.
CREATE FUNCTION rigenera.login_blocked(p_username text, p_address text)
RETURNS TABLE (retry_after integer, scope text)
LANGUAGE sql STABLE AS $$
  SELECT ceil(extract(epoch FROM t.blocked_until - now()))::integer, split_part(t.key, ':', 1)
    FROM rigenera.login_throttle t
   WHERE t.key IN ('pair:' || p_username || ' ' || p_address, 'address:' || p_address,
                   'account:' || p_username)
     AND t.blocked_until > now()
     -- an account under attack from elsewhere stays open where it last logged in
     AND NOT (t.key = 'account:' || p_username AND t.trusted_address = p_address)
   ORDER BY t.blocked_until DESC
   LIMIT 1
$$;

-- A failed login: count it under the three keys; a key reaching its limit within the
-- window is blocked for p_block seconds, doubled for each block in a row (capped at
-- p_block_max); a key quiet for p_block_max after its last block starts afresh.
CREATE FUNCTION rigenera.login_failed(
  p_username text, p_address text, p_window integer, p_pair_limit integer,
  p_address_limit integer, p_account_limit integer, p_block integer, p_block_max integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT * FROM (VALUES ('pair:' || p_username || ' ' || p_address, p_pair_limit),
                                 ('address:' || p_address, p_address_limit),
                                 ('account:' || p_username, p_account_limit)) AS v (key, lim)
  LOOP
    INSERT INTO rigenera.login_throttle AS t (key, failures) VALUES (k.key, 1)
    ON CONFLICT (key) DO UPDATE SET
      strikes = CASE WHEN t.blocked_until < now() - make_interval(secs => p_block_max)
                     THEN 0 ELSE t.strikes END,
      failures = CASE WHEN t.window_start < now() - make_interval(secs => p_window)
                      THEN 1 ELSE t.failures + 1 END,
      window_start = CASE WHEN t.window_start < now() - make_interval(secs => p_window)
                          THEN now() ELSE t.window_start END;
    UPDATE rigenera.login_throttle t
       SET blocked_until = now() + make_interval(secs => least(p_block_max,
                                                            p_block * 2 ^ least(t.strikes, 20))),
           strikes = t.strikes + 1, failures = 0, window_start = now()
     WHERE t.key = k.key AND t.failures >= k.lim;
  END LOOP;
  -- Forget what no longer matters, now and then (a flood of invented names is bounded
  -- by the address limit; this keeps the table small over months).
  IF random() < 0.01 THEN
    DELETE FROM rigenera.login_throttle
     WHERE coalesce(blocked_until, window_start) < now() - interval '1 day';
  END IF;
END $$;

-- A successful login resets the counters of that account (from this address, and
-- everywhere) and remembers the address; the address's own counter is kept, or an
-- attacker with one valid account could reset it between guesses at others.
CREATE FUNCTION rigenera.login_succeeded(p_username text, p_address text) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM rigenera.login_throttle WHERE key = 'pair:' || p_username || ' ' || p_address;
  INSERT INTO rigenera.login_throttle AS t (key, trusted_address)
  VALUES ('account:' || p_username, p_address)
  ON CONFLICT (key) DO UPDATE SET trusted_address = p_address, failures = 0,
                                  window_start = now();
$$;
