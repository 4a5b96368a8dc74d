-- Issue 10: projects located on the map.
--
-- An imported project known only by its comuni is drawn at the comune's representative
-- point (rigenera.comune_point, geom_source 'comune_point') and waits in the queue
-- "Da localizzare" (GET /api/projects/to-locate). Drawing its real point or perimeter
-- through any writer (Part 4 PUT/PATCH, changesets, a SQL console, QGIS) makes it a
-- digitised geometry: a rule of the database, so it holds whoever writes.
--
-- The rule, BEFORE UPDATE OF geom on rigenera.projects: a project whose geom_source was
-- 'comune_point' and whose geometry changes to something that is not (still) made of
-- comune representative points becomes 'digitised', unless the writer set another
-- geom_source itself ('surveyed', 'address', 'digitised' are kept). 'unknown' counts as
-- not set: it is the column default a replace (PUT) without geom_source writes, and a
-- geometry drawn by hand is not of unknown origin. An import that recomputes the comune
-- point (comuni changed) keeps 'comune_point': the new geometry is still made of comune
-- points, whichever order the engine writes the project and its comuni in.

-- Is every part of g the representative point (ST_PointOnSurface, as comune_point()
-- draws it) of a comune? The index on comuni.geom finds the one comune each point lies in.
CREATE FUNCTION rigenera.is_comune_point(g geometry) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT g IS NOT NULL AND GeometryType(g) IN ('POINT', 'MULTIPOINT') AND NOT EXISTS (
    SELECT 1 FROM ST_Dump(g) AS d
     WHERE NOT EXISTS (SELECT 1 FROM rigenera.comuni c
                        WHERE c.geom && d.geom AND ST_Equals(ST_PointOnSurface(c.geom), d.geom)))
$$;

CREATE FUNCTION rigenera.project_geom_located() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.geom_source = 'comune_point'
     AND NEW.geom IS NOT NULL
     AND NEW.geom IS DISTINCT FROM OLD.geom
     AND NEW.geom_source IN ('comune_point', 'unknown')
     AND NOT rigenera.is_comune_point(NEW.geom) THEN
    NEW.geom_source := 'digitised';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER projects_geom_located BEFORE UPDATE OF geom ON rigenera.projects
  FOR EACH ROW EXECUTE FUNCTION rigenera.project_geom_located();

-- The queue reads approximate projects by comune: a partial index keeps it an index
-- range however many projects are already located.
CREATE INDEX projects_to_locate ON rigenera.projects (id) WHERE geom_source = 'comune_point';
