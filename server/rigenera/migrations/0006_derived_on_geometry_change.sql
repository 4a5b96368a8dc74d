-- Metric quantities and the Web Mercator copy were generated columns, which
-- PostgreSQL recomputes on *every* UPDATE: a changeset of 1,000 attribute edits
-- spent ~90 ms re-measuring unchanged polygons on the spheroid (bench/writes.py).
-- They become plain columns kept by one trigger that runs only when the geometry
-- is written, so they still cannot drift from it.
ALTER TABLE rigenera.comuni ALTER COLUMN area_m2 DROP EXPRESSION;
ALTER TABLE rigenera.comuni ALTER COLUMN geom_3857 DROP EXPRESSION;
ALTER TABLE rigenera.sites ALTER COLUMN surface_m2 DROP EXPRESSION;
ALTER TABLE rigenera.sites ALTER COLUMN geom_3857 DROP EXPRESSION;
ALTER TABLE rigenera.projects ALTER COLUMN geom_3857 DROP EXPRESSION;
ALTER TABLE rigenera.mobility_links ALTER COLUMN length_m DROP EXPRESSION;
ALTER TABLE rigenera.mobility_links ALTER COLUMN geom_3857 DROP EXPRESSION;
ALTER TABLE rigenera.transit_stops ALTER COLUMN geom_3857 DROP EXPRESSION;

CREATE OR REPLACE FUNCTION rigenera.derive_from_geometry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Written but unchanged: protect_derived (fired before) kept the old values.
  IF TG_OP = 'UPDATE' AND NEW.geom IS NOT DISTINCT FROM OLD.geom THEN
    RETURN NEW;
  END IF;
  NEW.geom_3857 := ST_Transform(NEW.geom, 3857);
  IF TG_TABLE_NAME = 'sites' THEN
    NEW.surface_m2 := CASE WHEN ST_Dimension(NEW.geom) = 2 THEN ST_Area(NEW.geom::geography) END;
  ELSIF TG_TABLE_NAME = 'comuni' THEN
    NEW.area_m2 := ST_Area(NEW.geom::geography);
  ELSIF TG_TABLE_NAME = 'mobility_links' THEN
    NEW.length_m := ST_Length(NEW.geom::geography);
  END IF;
  RETURN NEW;
END $$;

-- Derived columns are never written directly: only this trigger sets them.
CREATE OR REPLACE FUNCTION rigenera.protect_derived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.geom_3857 := OLD.geom_3857;
  IF TG_TABLE_NAME = 'sites' THEN NEW.surface_m2 := OLD.surface_m2;
  ELSIF TG_TABLE_NAME = 'comuni' THEN NEW.area_m2 := OLD.area_m2;
  ELSIF TG_TABLE_NAME = 'mobility_links' THEN NEW.length_m := OLD.length_m;
  END IF;
  RETURN NEW;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['comuni', 'sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    -- BEFORE triggers fire in name order: protect (a0), then derive (a1), then the
    -- checks and bookkeeping, which so see the derived values.
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON rigenera.%I'
                   ' FOR EACH ROW EXECUTE FUNCTION rigenera.protect_derived()',
                   'a0_' || t || '_protect', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF geom ON rigenera.%I'
                   ' FOR EACH ROW EXECUTE FUNCTION rigenera.derive_from_geometry()',
                   'a1_' || t || '_derive', t);
  END LOOP;
END $$;
