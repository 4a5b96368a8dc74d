-- The GeoPackage's comuni layer: outlines (EPSG:4326) of the comuni in the report.
SELECT istat_code, ST_AsBinary(geom) AS geom FROM rigenera.comuni
 WHERE %(comuni)s::text[] IS NULL OR istat_code = ANY (%(comuni)s::text[])
 ORDER BY istat_code
