-- One Mapbox Vector Tile of a collection (WebMercatorQuad z/x/y), built by PostGIS.
-- Placeholders are identifiers from the catalogue and the `tiles` views; z, x, y are
-- the parameters ($$1..$$3). The features are those intersecting the tile itself,
-- found through the GIST index on the stored geometry; their Web Mercator copy
-- (migration 0004) is clipped with a 64-unit buffer so strokes and fills join across
-- tiles. ST_AsMVT skips rows whose geometry vanishes at this zoom.
WITH bounds AS (
  SELECT ST_TileEnvelope($$1, $$2, $$3) AS env,
         ST_Transform(ST_TileEnvelope($$1, $$2, $$3), 4326) AS env_storage
)
SELECT ST_AsMVT(mvt, '${layer}', 4096, 'geom'${id_column}) AS tile
FROM (
  SELECT ${properties},
         ST_AsMVTGeom(t.geom_3857, bounds.env, 4096, 64, true) AS geom
  FROM ${relation} AS t, bounds
  WHERE t.geom && bounds.env_storage AND ST_Intersects(t.geom, bounds.env_storage)
) AS mvt
