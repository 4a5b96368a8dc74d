-- Exact, transactional row counts of the published tables.
-- An unfiltered page of a 100,000-row collection must not count 100,000 rows
-- to say numberMatched: statement-level triggers with transition tables keep
-- the count, so reading it is one index lookup, consistent with the snapshot
-- of the query that reads it. Only INSERT/DELETE/TRUNCATE touch the counter
-- row; UPDATEs (most edits) never contend on it.
CREATE TABLE rigenera.row_counts (
  relname text PRIMARY KEY,
  n       bigint NOT NULL CHECK (n >= 0)
);

CREATE OR REPLACE FUNCTION rigenera.count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rigenera.row_counts SET n = n + (SELECT count(*) FROM inserted) WHERE relname = TG_TABLE_NAME;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rigenera.count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rigenera.row_counts SET n = n - (SELECT count(*) FROM deleted) WHERE relname = TG_TABLE_NAME;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rigenera.count_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rigenera.row_counts SET n = 0 WHERE relname = TG_TABLE_NAME;
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['comuni', 'sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    EXECUTE format('INSERT INTO rigenera.row_counts VALUES (%L, (SELECT count(*) FROM rigenera.%I))', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON rigenera.%I REFERENCING NEW TABLE AS inserted'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_inserted()', t || '_count_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON rigenera.%I REFERENCING OLD TABLE AS deleted'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_deleted()', t || '_count_del', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON rigenera.%I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_truncated()', t || '_count_trunc', t);
  END LOOP;
END $$;
