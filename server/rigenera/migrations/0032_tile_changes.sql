-- Issue 13, the tile cache (rigenera/ogc/tilecache.py): what every write touches, in
-- PostgreSQL, so every API worker and every streaming replica sees the same record.
--
-- rigenera.tile_changes gets one row per written feature (or per ~2.4 km cell of a
-- large statement, see below): the tile layer, the Web Mercator bounding box of the OLD
-- and of the NEW geometry, and the writing transaction's id (xid8). A cached tile
-- remembers the snapshot it was built in; it is still valid while no change visible now,
-- of its layer, made by a transaction not visible in that snapshot, has a box touching
-- the tile's envelope (plus the MVT buffer). Transaction ids are the primary's on a
-- physical replica too, so the rule holds wherever the tile and the check are read.
--
-- Statement-level triggers with transition tables: an import of 100,000 rows writes its
-- changes in one INSERT ... SELECT, not 100,000 trigger calls. Above 256 rows in one
-- statement the boxes are merged per z14 cell (2,446 m): the merged box covers every
-- member's, so a bulk write may refresh a few more high-zoom tiles, never fewer.
-- A TRUNCATE records the whole world for its layer.

CREATE TABLE rigenera.tile_changes (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  layer  text NOT NULL,                      -- a view of schema `tiles`
  bbox   geometry(Geometry, 3857) NOT NULL,  -- envelope of the old or new geometry
  xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
  at     timestamptz NOT NULL DEFAULT now()
);
-- Validity checks: recent changes of a layer (snapshots are re-stamped on every hit, so
-- the xid range is short) or, for a stale snapshot, the spatial index.
CREATE INDEX tile_changes_layer_xid ON rigenera.tile_changes (layer, xid);
CREATE INDEX tile_changes_bbox ON rigenera.tile_changes USING gist (bbox);

-- Pruning (rigenera.tile_changes_prune, called by the API every tile_cache_prune_seconds):
-- changes older than `next_horizon` are deleted and `horizon` takes its value. A cached
-- tile is valid only if its snapshot's xmin >= horizon: every pruned change then has an
-- xid below that xmin, finished before the snapshot, so it could not have invalidated it.
CREATE TABLE rigenera.tile_cache_state (
  one           boolean PRIMARY KEY DEFAULT true CHECK (one),
  horizon       xid8 NOT NULL,
  next_horizon  xid8 NOT NULL,
  pruned_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO rigenera.tile_cache_state (horizon, next_horizon)
SELECT pg_snapshot_xmin(pg_current_snapshot()), pg_snapshot_xmin(pg_current_snapshot());

-- Every worker calls it; `min_age` keeps them from pruning twice in a row (each pruning
-- moves the horizon, and tiles not checked since the previous one are rebuilt).
CREATE FUNCTION rigenera.tile_changes_prune(min_age interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  s rigenera.tile_cache_state;
  n bigint;
BEGIN
  SELECT * INTO s FROM rigenera.tile_cache_state FOR UPDATE;  -- one pruner at a time
  IF s.pruned_at > now() - min_age THEN
    RETURN 0;
  END IF;
  DELETE FROM rigenera.tile_changes WHERE xid < s.next_horizon;
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE rigenera.tile_cache_state
     SET horizon = s.next_horizon,
         next_horizon = pg_snapshot_xmin(pg_current_snapshot()),
         pruned_at = now();
  RETURN n;
END $$;

-- The snapshot a tile is stamped with, taken by the statement that builds or checks it.
-- On a hot standby pg_current_snapshot() lists no in-progress transactions (they are
-- kept among the sub-transactions there), so a replica stamps the conservative
-- xmin:xmin: (every transaction from xmin on counts as not visible): never stale, at
-- worst a tile rebuilt once more.
CREATE FUNCTION rigenera.tile_snapshot() RETURNS pg_snapshot
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN pg_is_in_recovery()
              THEN (pg_snapshot_xmin(s)::text || ':' || pg_snapshot_xmin(s)::text || ':')::pg_snapshot
              ELSE s END
  FROM pg_current_snapshot() AS s
$$;

-- One statement's boxes into tile_changes: one row per distinct box, or, above 256 boxes,
-- one per z14 cell (the cell of a box's lower-left corner; the merged box covers all).
CREATE FUNCTION rigenera.tile_changes_add(layer text, boxes geometry[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO rigenera.tile_changes (layer, bbox)
  SELECT layer, ST_SetSRID(ST_Extent(b)::geometry, 3857)
  FROM (SELECT b, CASE WHEN count(*) OVER () <= 256 THEN ST_AsEWKB(b)::text
                       ELSE floor(ST_XMin(b) / 2446)::text || ',' || floor(ST_YMin(b) / 2446)::text
                  END AS grp
          FROM unnest(boxes) AS b WHERE b IS NOT NULL) AS grouped
  GROUP BY grp
$$;

-- The trigger: TG_ARGV[0] the tile layer; TG_ARGV[1] 'geom' (the row has geom_3857) or
-- 'project' (an attribute table of projects: the box of the project it belongs to, old
-- and new project_id; a project without geometry has no tile, so nothing to record).
-- Static SQL (PL/pgSQL keeps its plans per table): a changeset of 1,000 one-row
-- statements pays no planning of dynamic SQL. An UPDATE records the old and the new
-- boxes (the same box once).
CREATE FUNCTION rigenera.tile_changes_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  layer text := TG_ARGV[0];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM rigenera.tile_changes_add(layer, ARRAY[
      ST_MakeEnvelope(-20037508.35, -20037508.35, 20037508.35, 20037508.35, 3857)]);
  ELSIF TG_ARGV[1] = 'geom' THEN
    IF TG_OP = 'INSERT' THEN
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(n.geom_3857) FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(o.geom_3857) FROM old_rows o));
    ELSE
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(o.geom_3857) FROM old_rows o
        UNION ALL SELECT ST_Envelope(n.geom_3857) FROM new_rows n));
    END IF;
  ELSE
    IF TG_OP = 'INSERT' THEN
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(p.geom_3857) FROM rigenera.projects p
         WHERE p.id IN (SELECT n.project_id FROM new_rows n)));
    ELSIF TG_OP = 'DELETE' THEN
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(p.geom_3857) FROM rigenera.projects p
         WHERE p.id IN (SELECT o.project_id FROM old_rows o)));
    ELSE
      PERFORM rigenera.tile_changes_add(layer, ARRAY(
        SELECT ST_Envelope(p.geom_3857) FROM rigenera.projects p
         WHERE p.id IN (SELECT o.project_id FROM old_rows o
                        UNION SELECT n.project_id FROM new_rows n)));
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Every table a `tiles` view reads (migrations 0004 and 0025). Three triggers per table:
-- PostgreSQL allows transition tables only on single-event triggers.
DO $$
DECLARE
  t record;
  ev text;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('comuni', 'comuni', 'geom'),
      ('sites', 'sites', 'geom'),
      ('projects', 'projects', 'geom'),
      ('mobility_links', 'mobility_links', 'geom'),
      ('transit_stops', 'transit_stops', 'geom'),
      ('project_publication', 'projects', 'project'),
      ('funding_lines', 'projects', 'project'),
      ('project_comuni', 'projects', 'project'),
      ('progress_reports', 'projects', 'project')) AS v(tbl, layer, kind)
  LOOP
    EXECUTE format(
      'CREATE TRIGGER tile_changes_truncate AFTER TRUNCATE ON rigenera.%1$I
       FOR EACH STATEMENT EXECUTE FUNCTION rigenera.tile_changes_record(%2$L, %3$L)',
      t.tbl, t.layer, t.kind);
    FOREACH ev IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
      EXECUTE format(
        'CREATE TRIGGER tile_changes_%1$s AFTER %1$s ON rigenera.%2$I REFERENCING %3$s
         FOR EACH STATEMENT EXECUTE FUNCTION rigenera.tile_changes_record(%4$L, %5$L)',
        ev, t.tbl,
        CASE ev WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
        t.layer, t.kind);
    END LOOP;
  END LOOP;
END $$;
