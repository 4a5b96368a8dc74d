-- What the OGC API publishes: one view per collection in schema `pub`, named
-- exactly like the collection. Views keep storage free to change and never
-- expose private columns (who edited, referents). Simple 1:1 views are
-- inlined by the planner, so they cost nothing on the read path.
CREATE SCHEMA IF NOT EXISTS pub;

CREATE VIEW pub.comuni AS
SELECT istat_code, name, cadastral_code, province_code, population,
       round(area_m2::numeric, 1)::double precision AS area_m2,
       source, version, updated_at, geom
FROM rigenera.comuni;

CREATE VIEW pub.sites AS
SELECT id, name, istat_code, address, ownership, owner, former_use, state, condition,
       condition_notes, round(surface_m2::numeric, 1)::double precision AS surface_m2,
       surface_declared_m2::double precision AS surface_declared_m2, contamination, constraints,
       source, source_id, validation_status, version, updated_at, geom
FROM rigenera.sites;

CREATE VIEW pub.projects AS
SELECT p.id, p.title, p.description, p.cup, p.implementing_body, p.status,
       p.start_date, p.end_date, p.total_cost_eur::double precision AS total_cost_eur,
       f.funding_requested_eur, f.funding_granted_eur, f.pnrr_granted_eur, f.programme_codes,
       c.istat_codes, s.site_ids,
       p.housing_units_fragile, p.cultural_space_m2::double precision AS cultural_space_m2,
       p.community_space_m2::double precision AS community_space_m2,
       p.productive_space_m2::double precision AS productive_space_m2,
       p.regenerated_m2::double precision AS regenerated_m2,
       p.geom_source, p.source, p.source_id, p.validation_status, p.version, p.updated_at, p.geom
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

CREATE VIEW pub.mobility_links AS
SELECT id, kind, name, status, operator, network, typology,
       round(length_m::numeric, 1)::double precision AS length_m,
       source, source_id, version, updated_at, geom
FROM rigenera.mobility_links;

CREATE VIEW pub.transit_stops AS
SELECT id, mode, name, lines, operator, istat_code, source, source_id, version, updated_at, geom
FROM rigenera.transit_stops;
