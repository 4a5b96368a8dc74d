-- Every feature's history starts with its creation, whoever created it; the change
-- feed never blocks a writer; API-created features no longer publish their creator.

-- 1. History rows carry the writing transaction. The change feed
-- (editing/changes.py) delivers only rows of transactions older than every
-- transaction still running (pg_snapshot_xmin), in (xid, id) order: a row not yet
-- visible always sorts after everything delivered, so nothing is skipped and no
-- lock is taken. Rows written before this migration were all committed by then
-- (ALTER TABLE waits for the writers in flight) and keep xid 0, in id order, so an
-- old integer cursor n is the cursor (0, n).
ALTER TABLE rigenera.history ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE rigenera.history ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
-- Creation rows reconstructed below, not recorded when the feature was written:
-- shown in a feature's history (first), never in the change feed, so clients do not
-- refetch features that did not change.
ALTER TABLE rigenera.history ADD COLUMN reconstructed boolean NOT NULL DEFAULT false;
DROP INDEX rigenera.history_collection_seq;
CREATE INDEX history_feed ON rigenera.history (collection, xid, id) WHERE NOT reconstructed;

-- 2. The columns of a feature's JSON record in history: all but the geometries,
-- which history keeps as geometries (serialising them cost ~0.25 ms a row).
CREATE OR REPLACE FUNCTION rigenera.doc_columns(tbl regclass, alias text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(format('%I.%I', alias, attname), ', ' ORDER BY attnum)
    FROM pg_attribute
   WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped
     AND attname NOT IN ('geom', 'geom_3857')
$$;

-- 3. Ordinary writes keep the row trigger (0005); bulk imports (`rigenera.import`
-- on) are recorded set-wise by statement triggers over the transition tables: one
-- INSERT ... SELECT per statement instead of a trigger call per row. The row
-- trigger's WHEN keeps import rows out of the after-trigger queue altogether.
-- Rows are recorded in the order the statement wrote them (sorting 100k JSON
-- records by id spilled ~80 MB to disk).
CREATE OR REPLACE FUNCTION rigenera.record_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text;
  r record;
  old_doc jsonb;
  new_doc jsonb;
BEGIN
  -- The attributes as JSON, without serialising the geometries (kept apart).
  IF TG_OP <> 'INSERT' THEN
    r := OLD; r.geom := NULL; r.geom_3857 := NULL;
    old_doc := to_jsonb(r) - 'geom' - 'geom_3857';
  END IF;
  IF TG_OP <> 'DELETE' THEN
    r := NEW; r.geom := NULL; r.geom_3857 := NULL;
    new_doc := to_jsonb(r) - 'geom' - 'geom_3857';
  END IF;
  IF TG_OP = 'UPDATE' AND old_doc = new_doc AND NEW.geom IS NOT DISTINCT FROM OLD.geom THEN
    RETURN NULL;
  END IF;
  op := coalesce(rigenera.setting('rigenera.operation'),
                 CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END);
  INSERT INTO rigenera.history (collection, feature_id, version, operation, actor, changeset,
                                comment, before, after, geom_before, geom_after)
  VALUES (TG_TABLE_NAME,
          coalesce(new_doc ->> 'id', old_doc ->> 'id'),
          coalesce((new_doc ->> 'version')::integer, (old_doc ->> 'version')::integer),
          op, rigenera.acting_user(),
          rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment'),
          old_doc, new_doc,
          CASE WHEN TG_OP <> 'INSERT' THEN OLD.geom END,
          CASE WHEN TG_OP <> 'DELETE' THEN NEW.geom END);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rigenera.record_import_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text := coalesce(rigenera.setting('rigenera.operation'),
                      CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update'
                                 ELSE 'delete' END);
  head text := 'INSERT INTO rigenera.history (collection, feature_id, version, operation, actor,'
               ' changeset, comment, before, after, geom_before, geom_after) ';
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE head || format(
      'SELECT %L, n.id::text, n.version, $1, $2, $3, $4, NULL, to_jsonb(d), NULL, n.geom'
      ' FROM n, LATERAL (SELECT %s) d',
      TG_TABLE_NAME, rigenera.doc_columns(TG_RELID, 'n'))
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment');
  ELSIF TG_OP = 'UPDATE' THEN
    -- As the row trigger: a statement that rewrote a row identically records nothing.
    EXECUTE head || format(
      'SELECT %L, n.id::text, n.version, $1, $2, $3, $4, to_jsonb(od), to_jsonb(nd), o.geom, n.geom'
      ' FROM o JOIN n ON n.id = o.id, LATERAL (SELECT %s) od, LATERAL (SELECT %s) nd'
      ' WHERE to_jsonb(od) <> to_jsonb(nd) OR n.geom IS DISTINCT FROM o.geom',
      TG_TABLE_NAME, rigenera.doc_columns(TG_RELID, 'o'), rigenera.doc_columns(TG_RELID, 'n'))
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment');
  ELSE
    EXECUTE head || format(
      'SELECT %L, o.id::text, o.version, $1, $2, $3, $4, to_jsonb(d), NULL, o.geom, NULL'
      ' FROM o, LATERAL (SELECT %s) d',
      TG_TABLE_NAME, rigenera.doc_columns(TG_RELID, 'o'))
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment');
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    EXECUTE format('DROP TRIGGER %I ON rigenera.%I', t || '_history', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON rigenera.%I'
                   ' FOR EACH ROW WHEN (rigenera.setting(''rigenera.import'') IS DISTINCT FROM ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_history()', t || '_history', t);
    -- PostgreSQL allows transition tables only on single-event triggers.
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON rigenera.%I REFERENCING NEW TABLE AS n'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON rigenera.%I'
                   ' REFERENCING OLD TABLE AS o NEW TABLE AS n'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_upd', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON rigenera.%I REFERENCING OLD TABLE AS o'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_del', t);
  END LOOP;
END $$;

-- 4. Privacy: a feature created through the API published "Rigenera – inserito da
-- <username>" as its source. The editor belongs in the private history only: the
-- source becomes neutral, with no new version (nothing the feature says changed but
-- this) and no history row, so the triggers are off for the statement. Where two
-- features would then share (source, source_id), the later ones say "Rigenera #<id>".
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    EXECUTE format('ALTER TABLE rigenera.%I DISABLE TRIGGER USER', t);
    EXECUTE format(
      $q$WITH named AS (
           SELECT id, source_id, row_number() OVER (PARTITION BY source_id ORDER BY id) AS k
             FROM rigenera.%1$I WHERE source LIKE 'Rigenera – inserito da %%')
         UPDATE rigenera.%1$I t
            SET source = CASE WHEN named.source_id IS NULL
                                   OR (named.k = 1 AND NOT EXISTS (
                                         SELECT 1 FROM rigenera.%1$I x
                                          WHERE x.source = 'Rigenera'
                                            AND x.source_id = named.source_id))
                              THEN 'Rigenera' ELSE 'Rigenera #' || t.id END
           FROM named WHERE t.id = named.id$q$, t);
    EXECUTE format('ALTER TABLE rigenera.%I ENABLE TRIGGER USER', t);
  END LOOP;
END $$;

-- 5. A creation row for every feature that has none (imports and loaders wrote no
-- history before this migration): its state when created is the `before` of its
-- first history row when it has history (also for features deleted since), else
-- its current row. The version is that state's; `at` its created_at.
DO $$
DECLARE
  t text;
  note text := 'creazione ricostruita dalla migrazione 0010 / creation reconstructed by migration 0010';
BEGIN
  FOREACH t IN ARRAY ARRAY['sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    EXECUTE format(
      $q$INSERT INTO rigenera.history (collection, feature_id, version, operation, actor, at,
                                       comment, after, geom_after, reconstructed)
         SELECT h.collection, h.feature_id, (h.before ->> 'version')::integer, 'create',
                coalesce(h.before ->> 'created_by', 'system'),
                coalesce((h.before ->> 'created_at')::timestamptz, h.at),
                %L, h.before, h.geom_before, true
           FROM (SELECT DISTINCT ON (feature_id) collection, feature_id, at, before, geom_before
                   FROM rigenera.history WHERE collection = %L
                  ORDER BY feature_id, id) h
          WHERE h.before IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM rigenera.history c
                             WHERE c.collection = h.collection AND c.feature_id = h.feature_id
                               AND c.operation = 'create')
          ORDER BY h.feature_id::bigint$q$, note, t);
    EXECUTE format(
      $q$INSERT INTO rigenera.history (collection, feature_id, version, operation, actor, at,
                                       comment, after, geom_after, reconstructed)
         SELECT %L, r.id::text, r.version, 'create', r.created_by, r.created_at,
                %L, to_jsonb(d), r.geom, true
           FROM rigenera.%I r, LATERAL (SELECT %s) d
          WHERE NOT EXISTS (SELECT 1 FROM rigenera.history h
                             WHERE h.collection = %L AND h.feature_id = r.id::text)
          ORDER BY r.id$q$,
      t, note, t, rigenera.doc_columns(format('rigenera.%I', t)::regclass, 'r'), t);
  END LOOP;
END $$;

-- The creator's name also left the sources recorded in history, so that a revert
-- cannot bring it back.
UPDATE rigenera.history
   SET before = CASE WHEN before ->> 'source' LIKE 'Rigenera – inserito da %'
                     THEN jsonb_set(before, '{source}', '"Rigenera"') ELSE before END,
       after = CASE WHEN after ->> 'source' LIKE 'Rigenera – inserito da %'
                    THEN jsonb_set(after, '{source}', '"Rigenera"') ELSE after END
 WHERE before ->> 'source' LIKE 'Rigenera – inserito da %'
    OR after ->> 'source' LIKE 'Rigenera – inserito da %';
