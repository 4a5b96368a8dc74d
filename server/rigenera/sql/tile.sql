-- One Mapbox Vector Tile of a collection (WebMercatorQuad z/x/y), built by PostGIS.
-- Placeholders are identifiers from the catalogue and the `tiles` views; z, x, y are
-- the parameters ($$1..$$3). The features are those intersecting the tile itself,
-- found through the GIST index on the stored geometry; their Web Mercator copy
-- (migration 0004) is clipped with a 64-unit buffer so strokes and fills join across
-- tiles. ST_AsMVT skips rows whose geometry vanishes at this zoom. `snapshot` is this
-- statement's own snapshot (migration 0032): the tile cache (ogc/tilecache.py) keeps it
-- with the bytes to know later which edits the tile has not seen. On a hot standby that
-- stamp is the conservative `xmin:xmin:` (migration 0032), so `seen` adds, in the same
-- snapshot, the transactions at or after xmin whose changes of this layer near the tile
-- this statement saw (committed: a row read here is visible here); the check
-- (tile_valid.sql) counts them as seen. Empty on the primary, whose stamp is exact, and
-- when there are more than ${seen_max} (the tile is then only conservative, as before).
-- Generalisation below the detail zoom (rigenera/ogc/tiles.py): a polygon narrower
-- than two screen pixels (tile width / 128) becomes its point on surface, so it stays
-- visible as a dot instead of vanishing or costing a ring of vertices, and the free
-- text of dense collections (tiles.DETAIL_ONLY) is left out.
WITH bounds AS (
  SELECT ST_TileEnvelope($$1, $$2, $$3) AS env,
         ST_Transform(ST_TileEnvelope($$1, $$2, $$3), 4326) AS env_storage,
         CASE WHEN $$1 < ${detail_zoom}
              THEN (ST_XMax(ST_TileEnvelope($$1, $$2, $$3)) - ST_XMin(ST_TileEnvelope($$1, $$2, $$3)))
                   / 128.0
              ELSE 0 END AS dot
), seen AS (
  SELECT coalesce(CASE WHEN pg_is_in_recovery() THEN (
           SELECT CASE WHEN count(*) <= ${seen_max} THEN array_agg(d.xid ORDER BY d.xid)::text END
             FROM (SELECT DISTINCT c.xid FROM rigenera.tile_changes c, bounds
                    WHERE c.layer = '${layer}'
                      AND c.xid >= pg_snapshot_xmin(pg_current_snapshot())
                      AND c.bbox && ST_Expand(bounds.env,
                                              (ST_XMax(bounds.env) - ST_XMin(bounds.env)) / 16)
                    LIMIT ${seen_max} + 1) AS d) END, '{}') AS xids
)
SELECT ST_AsMVT(mvt, '${layer}', 4096, 'geom'${id_column}) AS tile,
       rigenera.tile_snapshot()::text AS snapshot,
       (SELECT xids FROM seen) AS seen
FROM (
  SELECT ${properties},
         ST_AsMVTGeom(CASE WHEN bounds.dot > 0 AND ST_Dimension(t.geom_3857) = 2
                                AND ST_XMax(t.geom_3857) - ST_XMin(t.geom_3857) < bounds.dot
                                AND ST_YMax(t.geom_3857) - ST_YMin(t.geom_3857) < bounds.dot
                           THEN ST_PointOnSurface(t.geom_3857) ELSE t.geom_3857 END,
                      bounds.env, 4096, 64, true) AS geom
  FROM ${relation} AS t, bounds
  WHERE t.geom && bounds.env_storage AND ST_Intersects(t.geom, bounds.env_storage)
) AS mvt
