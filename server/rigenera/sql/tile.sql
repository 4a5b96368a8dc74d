-- One Mapbox Vector Tile of a collection (WebMercatorQuad z/x/y), built by PostGIS.
-- Placeholders are identifiers from the catalogue; z, x, y are the parameters ($$1..$$3).
-- The spatial filter uses the tile envelope (plus the 64-pixel buffer) in the
-- storage CRS so the GIST index on geom applies.
WITH bounds AS (
  SELECT ST_TileEnvelope($$1, $$2, $$3) AS env,
         ST_Transform(ST_TileEnvelope($$1, $$2, $$3, margin => 64.0 / 4096), 4326) AS env_storage
)
SELECT ST_AsMVT(mvt, '${layer}', 4096, 'geom'${id_column}) AS tile
FROM (
  SELECT ${properties},
         ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.env, 4096, 64, true) AS geom
  FROM ${relation} AS t, bounds
  WHERE t.geom && bounds.env_storage AND ST_Intersects(t.geom, bounds.env_storage)
) AS mvt
WHERE mvt.geom IS NOT NULL
