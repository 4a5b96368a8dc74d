-- A technician's reach (issue 9, section 2).
--
-- A technician may write a feature only when, before and after the write, the
-- whole geometry lies within their comuni (buffered by a tolerance in metres,
-- for features drawn along a shared border) and the feature's comune is one of
-- theirs: `istat_code` for sites and stops; for a project every comune in
-- `project_comuni` and the comune of every linked site. The earlier check only
-- asked whether the geometry *touched* one of their comuni, so a polygon with a
-- corner in Milano and the rest in Sesto passed, and Sesto's technician then
-- owned it. The rule lives here, as SQL functions every write path calls (the
-- API's single writes and both changeset paths, revert, OPTIONS; issue 10's
-- import path for technicians): `rigenera.within_comuni` for the geometry and
-- `rigenera.reach_problems` for the whole rule, with the reasons a user reads.
--
-- A project needs a geometry or at least one comune, whoever writes it: a
-- deferred constraint trigger (the comuni are written after the project row).

-- The tolerance, in one place. Changing it rebuilds the pieces below.
CREATE TABLE rigenera.reach_rule (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  tolerance_m double precision NOT NULL DEFAULT 25
              CONSTRAINT reach_rule_tolerance_m_range CHECK (tolerance_m BETWEEN 0 AND 500)
);
INSERT INTO rigenera.reach_rule DEFAULT VALUES;

-- The row is changed, never deleted: without it refresh_reach() fails (NULL buffers).
CREATE OR REPLACE FUNCTION rigenera.reach_tolerance_m() RETURNS double precision
LANGUAGE sql STABLE AS $$ SELECT tolerance_m FROM rigenera.reach_rule $$;

-- Each comune buffered by the tolerance (on the spheroid), whole: the exact
-- reference, for what the pieces cannot answer and for the messages.
CREATE TABLE rigenera.comune_reach (
  istat_code text PRIMARY KEY REFERENCES rigenera.comuni (istat_code) ON DELETE CASCADE,
  geom       geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX comune_reach_geom_gist ON rigenera.comune_reach USING gist (geom);

-- The same, cut into small indexed pieces (ST_Subdivide, 64 vertices): a feature
-- inside one piece is answered by a small polygon instead of the whole outline,
-- which GEOS cannot keep prepared from one function call to the next (FACTS.md
-- "Write-path costs"). A piece that is its own bounding box answers by the index
-- alone (to the float precision of the stored boxes, centimetres).
CREATE TABLE rigenera.comune_reach_pieces (
  id         serial PRIMARY KEY,
  istat_code text NOT NULL REFERENCES rigenera.comuni (istat_code) ON DELETE CASCADE,
  is_box     boolean NOT NULL,
  geom       geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX comune_reach_pieces_geom_gist ON rigenera.comune_reach_pieces USING gist (geom);

CREATE OR REPLACE FUNCTION rigenera.refresh_reach() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  DELETE FROM rigenera.comune_reach_pieces;
  DELETE FROM rigenera.comune_reach;
  INSERT INTO rigenera.comune_reach (istat_code, geom)
  SELECT istat_code, ST_Multi(ST_CollectionExtract(ST_MakeValid(
           ST_Buffer(geom::geography, rigenera.reach_tolerance_m())::geometry), 3))
  FROM rigenera.comuni;
  INSERT INTO rigenera.comune_reach_pieces (istat_code, is_box, geom)
  SELECT r.istat_code, ST_Equals(piece, ST_Envelope(piece)), piece
  FROM rigenera.comune_reach r, ST_Subdivide(r.geom, 64) AS piece;
  GET DIAGNOSTICS n = ROW_COUNT;
  ANALYZE rigenera.comune_reach_pieces;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION rigenera.reach_rule_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM rigenera.refresh_reach();
  RETURN NULL;
END $$;
CREATE TRIGGER reach_rule_refresh AFTER INSERT OR UPDATE ON rigenera.reach_rule
  FOR EACH STATEMENT EXECUTE FUNCTION rigenera.reach_rule_changed();

-- The loaders call refresh_boundary() after writing comuni: it now rebuilds the
-- reach too (the body is 0005's, plus the last call).
CREATE OR REPLACE FUNCTION rigenera.refresh_boundary() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  DELETE FROM rigenera.boundary_pieces;
  INSERT INTO rigenera.boundary_pieces (geom)
  SELECT (ST_Dump(ST_Subdivide(geom, 64))).geom FROM rigenera.comuni;
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM rigenera.metro_area;
  INSERT INTO rigenera.metro_area (geom)
  SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(
           ST_Buffer(ST_Union(geom)::geography, 50)::geometry), 3))
  FROM rigenera.comuni HAVING count(*) > 0;
  PERFORM rigenera.refresh_reach();
  RETURN n;
END $$;
SELECT rigenera.refresh_reach();

-- Does the whole of g lie within the comuni `codes`, buffered by the tolerance?
-- 1. one piece of one of them covers it (a box piece: by the index alone);
-- 2. else one of those comuni, whole, covers it (~1 ms: GEOS cannot keep the
--    outline prepared from one call to the next);
-- 3. else (a feature across two of the technician's own comuni) their union.
-- NULL or empty geometries lie nowhere: false. PL/pgSQL rather than SQL: its
-- plans are kept for the session, where a nested SQL function is planned anew
-- on every call.
CREATE OR REPLACE FUNCTION rigenera.within_comuni(g geometry, codes text[]) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF g IS NULL OR ST_IsEmpty(g) OR codes IS NULL THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM rigenera.comune_reach_pieces p
              WHERE p.geom ~ g AND p.istat_code = ANY(codes)
                AND (p.is_box OR ST_Covers(p.geom, g))) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM rigenera.comune_reach r
              WHERE r.geom ~ g AND r.istat_code = ANY(codes) AND ST_Covers(r.geom, g)) THEN
    RETURN true;
  END IF;
  IF cardinality(codes) > 1 THEN
    RETURN coalesce(ST_Covers((SELECT ST_Union(r.geom) FROM rigenera.comune_reach r
                                WHERE r.geom && g AND r.istat_code = ANY(codes)), g), false);
  END IF;
  RETURN false;
END $$;

-- How much of g lies outside the comuni `codes` (buffered), as a share of its
-- area, length or points (by its highest dimension): for the refusal message.
CREATE OR REPLACE FUNCTION rigenera.outside_share(g geometry, codes text[]) RETURNS double precision
LANGUAGE plpgsql STABLE AS $$
DECLARE
  area geometry;
  part geometry;
  dim integer;
  total double precision;
BEGIN
  IF g IS NULL OR ST_IsEmpty(g) THEN
    RETURN NULL;
  END IF;
  SELECT ST_Union(r.geom) INTO area FROM rigenera.comune_reach r
   WHERE r.geom && g AND r.istat_code = ANY(codes);
  IF area IS NULL THEN
    RETURN 1;
  END IF;
  dim := ST_Dimension(g);
  part := ST_CollectionExtract(g, dim + 1);
  IF dim = 2 THEN
    total := ST_Area(part);
    RETURN CASE WHEN total > 0 THEN ST_Area(ST_Difference(part, area)) / total ELSE 1 END;
  ELSIF dim = 1 THEN
    total := ST_Length(part);
    RETURN CASE WHEN total > 0 THEN ST_Length(ST_Difference(part, area)) / total ELSE 1 END;
  END IF;
  RETURN (SELECT avg(CASE WHEN ST_Covers(area, d.geom) THEN 0 ELSE 1 END)
            FROM ST_DumpPoints(part) d);
END $$;

-- The whole rule for one feature: its geometry, its comune (`istat_code`), a
-- project's comuni and linked sites, against a technician's comuni `codes`.
-- Returns the problems as [{"field", "reason"}] (empty when within reach), the
-- shape of the API's error lists. NULL arguments are what the feature does not
-- have; a feature with neither geometry nor comune is in no technician's reach.
CREATE OR REPLACE FUNCTION rigenera.reach_problems(
  codes text[], g geometry, istat_code text DEFAULT NULL, istat_codes text[] DEFAULT NULL,
  site_ids bigint[] DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  problems jsonb := '[]';
  share double precision;
  pct text;
  tol text;
  others text;
BEGIN
  codes := coalesce(codes, '{}');
  IF g IS NOT NULL AND NOT rigenera.within_comuni(g, codes) THEN
    share := rigenera.outside_share(g, codes);
    tol := regexp_replace(round(rigenera.reach_tolerance_m()::numeric, 1)::text, '\.0$', '');
    pct := CASE WHEN share IS NULL OR share < 0.01 THEN '<1'
                WHEN share < 1 AND share > 0.99 THEN '>99'
                ELSE round(share * 100)::text END;
    problems := problems || jsonb_build_object('field', 'geometry', 'reason', format(
      'fuori dai tuoi comuni: %s%% della geometria (tolleranza %s m) / '
      '%s%% of the geometry lies outside your comuni (tolerance %s m)', pct, tol, pct, tol));
  END IF;
  IF istat_code IS NOT NULL AND NOT istat_code = ANY(codes) THEN
    problems := problems || jsonb_build_object('field', 'istat_code', 'reason', format(
      'il comune %s non è tra i tuoi / comune %s is not one of yours', istat_code, istat_code));
  END IF;
  IF istat_codes IS NOT NULL AND NOT istat_codes <@ codes THEN
    SELECT string_agg(c, ', ' ORDER BY c) INTO others
      FROM unnest(istat_codes) c WHERE NOT c = ANY(codes);
    problems := problems || jsonb_build_object('field', 'istat_codes', 'reason', format(
      'comuni non tuoi: %s / not your comuni: %s', others, others));
  END IF;
  IF cardinality(site_ids) > 0 THEN
    SELECT string_agg(s.id || ' (' || s.istat_code || ')', ', ' ORDER BY s.id) INTO others
      FROM rigenera.sites s WHERE s.id = ANY(site_ids) AND NOT s.istat_code = ANY(codes);
    IF others IS NOT NULL THEN
      problems := problems || jsonb_build_object('field', 'site_ids', 'reason', format(
        'siti di comuni non tuoi: %s / sites of comuni that are not yours: %s', others, others));
    END IF;
  END IF;
  IF g IS NULL AND istat_code IS NULL AND coalesce(cardinality(istat_codes), 0) = 0 THEN
    problems := problems || jsonb_build_object('field', 'geometry', 'reason',
      'né geometria né comune: fuori dalla portata dei tecnici / '
      'neither geometry nor comune: outside every technician''s reach');
  END IF;
  RETURN problems;
END $$;

-- The rule applied to a stored feature, one overload per editable table:
-- `SELECT rigenera.reach_problems(t, $codes) FROM rigenera.sites t WHERE ...`.
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.sites, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT rigenera.reach_problems(codes, f.geom, f.istat_code)
$$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.transit_stops, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT rigenera.reach_problems(codes, f.geom, f.istat_code)
$$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.mobility_links, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT rigenera.reach_problems(codes, f.geom)
$$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.projects, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT rigenera.reach_problems(
    codes, f.geom, NULL,
    ARRAY(SELECT pc.istat_code FROM rigenera.project_comuni pc WHERE pc.project_id = f.id),
    ARRAY(SELECT ps.site_id FROM rigenera.project_sites ps WHERE ps.project_id = f.id))
$$;

-- A project is located by a geometry or at least one comune, whoever writes it.
-- Deferred: a writer inserts the project, then its comuni. The API settles it at
-- the end of each operation (SET CONSTRAINTS ... IMMEDIATE) to name the operation.
CREATE OR REPLACE FUNCTION rigenera.check_project_located() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE pid bigint;
BEGIN
  IF TG_TABLE_NAME = 'projects' THEN
    pid := NEW.id;
  ELSE
    pid := OLD.project_id;
  END IF;
  IF EXISTS (SELECT 1 FROM rigenera.projects p WHERE p.id = pid AND p.geom IS NULL
                AND NOT EXISTS (SELECT 1 FROM rigenera.project_comuni pc
                                 WHERE pc.project_id = p.id)) THEN
    RAISE EXCEPTION USING ERRCODE = 'RG001', COLUMN = 'istat_codes',
      MESSAGE = 'un progetto ha bisogno di una geometria o di almeno un comune / '
                'a project needs a geometry or at least one comune';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER projects_located AFTER INSERT OR UPDATE OF geom ON rigenera.projects
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rigenera.check_project_located();
CREATE CONSTRAINT TRIGGER project_comuni_located AFTER DELETE OR UPDATE ON rigenera.project_comuni
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rigenera.check_project_located();
