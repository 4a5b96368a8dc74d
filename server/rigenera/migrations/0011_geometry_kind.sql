-- Collections that mix geometry types (sites: polygons and points; projects:
-- anything, or nothing) publish `geometry_kind`: 'point' | 'line' | 'polygon',
-- NULL without a geometry. A client that draws one geometry type per layer
-- (QGIS 3.22 types an OGC API layer from its first features and never draws the
-- others) loads one layer per kind with `filter=geometry_kind='point'`, on the
-- fast path and on pygeoapi's alike, and finds it in /queryables.
--
-- A stored generated column, so it cannot drift from the geometry; the type is
-- read from the geometry's header (GeometryType), so recomputing it on every
-- UPDATE costs no deserialisation (only a geometry collection is measured, by
-- its highest dimension: its parts of that dimension are what a layer draws).
-- Indexed with the key, so a page of one kind is an index range in id order
-- even when that kind is rare (the points among 100,000 polygons).
-- mobility_links (MultiLineString) and transit_stops (Point) hold one type each.
CREATE FUNCTION rigenera.geometry_kind(g geometry) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE GeometryType(g)
           WHEN 'POINT' THEN 'point' WHEN 'MULTIPOINT' THEN 'point'
           WHEN 'LINESTRING' THEN 'line' WHEN 'MULTILINESTRING' THEN 'line'
           WHEN 'POLYGON' THEN 'polygon' WHEN 'MULTIPOLYGON' THEN 'polygon'
           ELSE CASE ST_Dimension(g) WHEN 0 THEN 'point' WHEN 1 THEN 'line' WHEN 2 THEN 'polygon' END
         END
$$;

ALTER TABLE rigenera.sites
  ADD COLUMN geometry_kind text GENERATED ALWAYS AS (rigenera.geometry_kind(geom)) STORED
    CONSTRAINT sites_geometry_kind_check CHECK (geometry_kind IN ('point', 'polygon'));
ALTER TABLE rigenera.projects
  ADD COLUMN geometry_kind text GENERATED ALWAYS AS (rigenera.geometry_kind(geom)) STORED
    CONSTRAINT projects_geometry_kind_check CHECK (geometry_kind IN ('point', 'line', 'polygon'));
CREATE INDEX sites_geometry_kind ON rigenera.sites (geometry_kind, id);
CREATE INDEX projects_geometry_kind ON rigenera.projects (geometry_kind, id);

-- New view columns go last (CREATE OR REPLACE VIEW keeps the existing ones in place).
CREATE OR REPLACE VIEW pub.sites AS
SELECT id, name, istat_code, address, ownership, owner, former_use, state, condition,
       condition_notes, round(surface_m2::numeric, 1)::double precision AS surface_m2,
       surface_declared_m2::double precision AS surface_declared_m2, contamination, constraints,
       source, source_id, validation_status, version, updated_at, geom, geometry_kind
FROM rigenera.sites;

CREATE OR REPLACE VIEW pub.projects AS
SELECT p.id, p.title, p.description, p.cup, p.implementing_body, p.status,
       p.start_date, p.end_date, p.total_cost_eur::double precision AS total_cost_eur,
       f.funding_requested_eur, f.funding_granted_eur, f.pnrr_granted_eur, f.programme_codes,
       c.istat_codes, s.site_ids,
       p.housing_units_fragile, p.cultural_space_m2::double precision AS cultural_space_m2,
       p.community_space_m2::double precision AS community_space_m2,
       p.productive_space_m2::double precision AS productive_space_m2,
       p.regenerated_m2::double precision AS regenerated_m2,
       p.geom_source, p.source, p.source_id, p.validation_status, p.version, p.updated_at, p.geom,
       p.geometry_kind
FROM rigenera.projects p
LEFT JOIN LATERAL (
  SELECT sum(amount_eur)::double precision AS funding_requested_eur,
         (sum(amount_eur) FILTER (WHERE status = 'granted'))::double precision AS funding_granted_eur,
         (sum(amount_eur) FILTER (WHERE status = 'granted' AND funding_source = 'pnrr'))::double precision
           AS pnrr_granted_eur,
         array_remove(array_agg(DISTINCT programme_code ORDER BY programme_code), NULL) AS programme_codes
  FROM rigenera.funding_lines fl WHERE fl.project_id = p.id
) f ON true
LEFT JOIN LATERAL (
  SELECT array_agg(pc.istat_code ORDER BY pc.istat_code) AS istat_codes
  FROM rigenera.project_comuni pc WHERE pc.project_id = p.id
) c ON true
LEFT JOIN LATERAL (
  SELECT array_agg(ps.site_id ORDER BY ps.site_id) AS site_ids
  FROM rigenera.project_sites ps WHERE ps.project_id = p.id
) s ON true;
