-- Issue 11, calls and needs editable and published (the "editables" room).
--
-- * needs: a source_id, so an import recognises a need it loaded before
--   (duplicates by (source, source_id), like every other imported table); an optional
--   geometry that is a point or an area (a need is a place or a district, never a line),
--   and its kind, for clients that split a layer per kind (QGIS 3.22, migration 0011).
-- * pub.calls and pub.needs: what is published. A call has no place: its view carries a
--   NULL geometry, so the OGC API serves it as features with "geometry": null. A need
--   is published without its referent (private) and without who wrote it.
-- * row counters (migration 0003) for both, so an unfiltered page counts nothing.

-- 1. Needs ------------------------------------------------------------------------------
ALTER TABLE rigenera.needs
  ADD COLUMN source_id text,
  ADD CONSTRAINT needs_source_id_unique UNIQUE (source, source_id),
  ADD CONSTRAINT needs_geom_type CHECK (
    geom IS NULL OR GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')),
  ADD COLUMN geometry_kind text GENERATED ALWAYS AS (rigenera.geometry_kind(geom)) STORED;
CREATE INDEX needs_geom_gist ON rigenera.needs USING gist (geom);

-- 2. Publication ----------------------------------------------------------------------------
CREATE VIEW pub.calls AS
SELECT id, title, funder, funding_source, programme_code, description, themes,
       eligible_beneficiaries, eligible_istat_codes, opens_on, closes_on,
       budget_eur::double precision AS budget_eur,
       max_grant_eur::double precision AS max_grant_eur,
       url, source, source_id, version, updated_at,
       NULL::geometry(Geometry, 4326) AS geom
FROM rigenera.calls;

CREATE VIEW pub.needs AS
SELECT id, istat_code, title, description, category, applicant, priority, status,
       estimated_cost_eur::double precision AS estimated_cost_eur, needed_by,
       source, source_id, version, updated_at, geom, geometry_kind
FROM rigenera.needs;

-- 3. Row counters -----------------------------------------------------------------------------
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['calls', 'needs'] LOOP
    EXECUTE format('INSERT INTO rigenera.row_counts VALUES (%L, (SELECT count(*) FROM rigenera.%I))', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON rigenera.%I REFERENCING NEW TABLE AS inserted'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_inserted()', t || '_count_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON rigenera.%I REFERENCING OLD TABLE AS deleted'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_deleted()', t || '_count_del', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON rigenera.%I'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION rigenera.count_truncated()', t || '_count_trunc', t);
  END LOOP;
END $$;

-- 4. History of needs ---------------------------------------------------------------------------
-- 0016 gave needs rigenera.record_history(), which blanks NEW.geom_3857: needs have no
-- Web Mercator copy, so every write failed ("record r has no field geom_3857"). This
-- variant keeps the geometry apart (geom_before/geom_after) and the attributes in JSON.
CREATE OR REPLACE FUNCTION rigenera.record_history_geom() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text;
  old_doc jsonb;
  new_doc jsonb;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_doc := to_jsonb(OLD) - 'geom'; END IF;
  IF TG_OP <> 'DELETE' THEN new_doc := to_jsonb(NEW) - 'geom'; END IF;
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

DROP TRIGGER needs_history ON rigenera.needs;
CREATE TRIGGER needs_history AFTER INSERT OR UPDATE OR DELETE ON rigenera.needs
  FOR EACH ROW WHEN (rigenera.setting('rigenera.import') IS DISTINCT FROM 'on')
  EXECUTE FUNCTION rigenera.record_history_geom();

-- 5. Late milestones ---------------------------------------------------------------------------
-- A milestone or target is late when it was reached after its planned date, or when it is
-- not reached and its planned date has passed; days_late counts to the actual date, or to
-- `today` while it is still open. One definition for the API, the reports and the deadlines.
CREATE OR REPLACE FUNCTION rigenera.milestone_days_late(planned date, actual date,
                                                        today date DEFAULT current_date)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(coalesce(actual, today) - planned, 0)
$$;

-- 6. A target of indicator 'other' names its unit ------------------------------------------
-- 0016's rule `indicator IS DISTINCT FROM 'other' OR btrim(unit) <> ''` let a NULL unit
-- through (NULL <> '' is NULL, and a CHECK passes on NULL).
ALTER TABLE rigenera.milestones DROP CONSTRAINT milestones_unit_given,
  ADD CONSTRAINT milestones_unit_given
    CHECK (indicator IS DISTINCT FROM 'other' OR coalesce(btrim(unit), '') <> '');
