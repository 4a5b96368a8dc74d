-- Issue 11, mobility: a stored metric copy of the geometries that distance questions
-- ask about (sites-near-transit, mobility-coverage, the evaluation's "within 500 m of
-- rail, metro or tram"), so they are decided in the plane with GIST indexes and the
-- geodesic (geography) distance is computed only for the few pairs that matter.
--
-- geom_utm: the geometry in UTM 32N (EPSG:32632), whose zone (6-12 E) holds the metro
-- area. It is a *generated* column: every writer (editing, imports in bulk, SQL
-- consoles) keeps it without knowing it exists, and the import engine and the editing
-- model skip generated columns. It is NULL outside the zone where its error is bounded:
-- targets (sites, projects) within 6-12 E, 36-48 N; networks (stops, links) within
-- 0.5 degrees more (so every stop within 35 km of a target inside the zone has one).
-- Queries send targets without a metric copy to the plain geography definition.
--
-- The bound the queries rely on (server/rigenera/sql/*.sql, constants EPS and A):
--   |planar UTM distance - PostGIS geography distance| <= 0.002 * geography + 0.5 m
-- In the zone the UTM scale factor lies in [0.9996, 1.0009]; segments longer than
-- ~5 km are first densified along the great circle (ST_Segmentize on geography), so
-- a straight segment in the plane stays within a few cm of the geography edge. The
-- margins are several times the worst case; tests/test_mobility_coverage.py checks
-- the bound at the corners of the zone.
CREATE FUNCTION rigenera.metric_geom(g geometry, margin_deg double precision)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN g @ ST_MakeEnvelope(6 - margin_deg, 36 - margin_deg,
                                       12 + margin_deg, 48 + margin_deg, 4326)
              THEN ST_Transform(
                     CASE WHEN ST_XMax(g) - ST_XMin(g) <= 0.04 AND ST_YMax(g) - ST_YMin(g) <= 0.04
                          THEN g  -- no segment can be longer than ~6 km
                          ELSE ST_Segmentize(g::geography, 5000)::geometry END, 32632)
         END
$$;

ALTER TABLE rigenera.sites ADD COLUMN geom_utm geometry(Geometry, 32632)
  GENERATED ALWAYS AS (rigenera.metric_geom(geom, 0)) STORED;
ALTER TABLE rigenera.projects ADD COLUMN geom_utm geometry(Geometry, 32632)
  GENERATED ALWAYS AS (rigenera.metric_geom(geom, 0)) STORED;
ALTER TABLE rigenera.transit_stops ADD COLUMN geom_utm geometry(Point, 32632)
  GENERATED ALWAYS AS (rigenera.metric_geom(geom, 0.5)) STORED;
ALTER TABLE rigenera.mobility_links ADD COLUMN geom_utm geometry(MultiLineString, 32632)
  GENERATED ALWAYS AS (rigenera.metric_geom(geom, 0.5)) STORED;

CREATE INDEX sites_geom_utm ON rigenera.sites USING gist (geom_utm);
CREATE INDEX projects_geom_utm ON rigenera.projects USING gist (geom_utm);
CREATE INDEX transit_stops_geom_utm ON rigenera.transit_stops USING gist (geom_utm);
-- A sparse mode (rail at 5 km) must not walk through the bus stops: one index per mode
-- and one for the rapid modes (the evaluation's "rail, metro or tram"). The planner
-- uses them when the modes reach it as a constant (psycopg2 sends literals).
CREATE INDEX transit_stops_geom_utm_metro ON rigenera.transit_stops USING gist (geom_utm)
  WHERE mode = 'metro';
CREATE INDEX transit_stops_geom_utm_rail ON rigenera.transit_stops USING gist (geom_utm)
  WHERE mode = 'rail';
CREATE INDEX transit_stops_geom_utm_tram ON rigenera.transit_stops USING gist (geom_utm)
  WHERE mode = 'tram';
CREATE INDEX transit_stops_geom_utm_bus ON rigenera.transit_stops USING gist (geom_utm)
  WHERE mode = 'bus';
CREATE INDEX transit_stops_geom_utm_rapid ON rigenera.transit_stops USING gist (geom_utm)
  WHERE mode IN ('metro', 'rail', 'tram');
CREATE INDEX mobility_links_geom_utm_cycle ON rigenera.mobility_links USING gist (geom_utm)
  WHERE kind IN ('cycle_path', 'greenway');

-- History keeps the attributes as JSON and the geometry apart: the metric copy is
-- neither (it follows the geometry). The row trigger blanks it before to_jsonb (as
-- geom_3857, 0010), the set-wise one leaves it out of doc_columns. needs (0016) has
-- neither copy: the blanking is per table.
CREATE OR REPLACE FUNCTION rigenera.doc_columns(tbl regclass, alias text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(format('%I.%I', alias, attname), ', ' ORDER BY attnum)
    FROM pg_attribute
   WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped
     AND attname NOT IN ('geom', 'geom_3857', 'geom_utm')
$$;

CREATE OR REPLACE FUNCTION rigenera.record_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text;
  r record;
  old_doc jsonb;
  new_doc jsonb;
  copies boolean := TG_TABLE_NAME IN ('sites', 'projects', 'mobility_links', 'transit_stops');
BEGIN
  -- The attributes as JSON, without serialising the geometries (kept apart).
  IF TG_OP <> 'INSERT' THEN
    r := OLD; r.geom := NULL;
    IF copies THEN r.geom_3857 := NULL; r.geom_utm := NULL; END IF;
    old_doc := to_jsonb(r) - 'geom' - 'geom_3857' - 'geom_utm';
  END IF;
  IF TG_OP <> 'DELETE' THEN
    r := NEW; r.geom := NULL;
    IF copies THEN r.geom_3857 := NULL; r.geom_utm := NULL; END IF;
    new_doc := to_jsonb(r) - 'geom' - 'geom_3857' - 'geom_utm';
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

-- The exact geodesic distance (m, PostGIS geography) from g to the nearest stop of the
-- given modes (NULL = all), or NULL when there is none. Planar KNN on the metric copy
-- finds the nearest stop in the plane; only stops whose geodesic distance could be
-- smaller (within the bound above) are measured on the ellipsoid. Outside the zone, or
-- when the nearest stop is farther than 35 km, every stop is measured. For the
-- evaluation: "within 500 m of rail, metro or tram" is
--   rigenera.transit_distance_m(geom, '{rail,metro,tram}') <= 500.
CREATE FUNCTION rigenera.transit_distance_m(g geometry, modes text[])
RETURNS double precision LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  gu geometry := rigenera.metric_geom(g, 0);
  e1 double precision;
  reach double precision;
BEGIN
  IF g IS NULL THEN RETURN NULL; END IF;
  IF gu IS NOT NULL THEN
    SELECT t.geom_utm <-> gu INTO e1 FROM rigenera.transit_stops t
     WHERE t.geom_utm IS NOT NULL AND (modes IS NULL OR t.mode = ANY(modes))
     ORDER BY t.geom_utm <-> gu LIMIT 1;
    reach := ((e1 + 0.5) / (1 - 0.002)) * (1 + 0.002) + 0.5;
    IF reach <= 35000 THEN
      RETURN (SELECT min(ST_Distance(g::geography, t.geom::geography))
                FROM rigenera.transit_stops t
               WHERE ST_DWithin(t.geom_utm, gu, reach)
                 AND (modes IS NULL OR t.mode = ANY(modes)));
    END IF;
  END IF;
  RETURN (SELECT min(ST_Distance(g::geography, t.geom::geography)) FROM rigenera.transit_stops t
           WHERE modes IS NULL OR t.mode = ANY(modes));
END $$;

-- The same for the cycle network (mobility_links of kind cycle_path or greenway).
CREATE FUNCTION rigenera.cycle_distance_m(g geometry)
RETURNS double precision LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  gu geometry := rigenera.metric_geom(g, 0);
  e1 double precision;
  reach double precision;
BEGIN
  IF g IS NULL THEN RETURN NULL; END IF;
  IF gu IS NOT NULL THEN
    SELECT l.geom_utm <-> gu INTO e1 FROM rigenera.mobility_links l
     WHERE l.kind IN ('cycle_path', 'greenway') AND l.geom_utm IS NOT NULL
     ORDER BY l.geom_utm <-> gu LIMIT 1;
    reach := ((e1 + 0.5) / (1 - 0.002)) * (1 + 0.002) + 0.5;
    IF reach <= 35000 THEN
      RETURN (SELECT min(ST_Distance(g::geography, l.geom::geography))
                FROM rigenera.mobility_links l
               WHERE l.kind IN ('cycle_path', 'greenway') AND ST_DWithin(l.geom_utm, gu, reach));
    END IF;
  END IF;
  RETURN (SELECT min(ST_Distance(g::geography, l.geom::geography)) FROM rigenera.mobility_links l
           WHERE l.kind IN ('cycle_path', 'greenway'));
END $$;
