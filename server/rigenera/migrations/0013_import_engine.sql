-- Issue 10, the import engine: bulk imports skip a trigger call that did nothing for them.
--
-- The "inside the metro area" row trigger (0005) returns at once when the transaction is
-- an import (`rigenera.import` = on): imports check the rule set-wise, in one statement
-- that keeps the metro area prepared (imports/sql/geometry_checks.sql), or carry external
-- features on purpose. The same test as a WHEN clause spares the PL/pgSQL call per row
-- (~0.5 s per 100,000 inserted sites); for every other writer the trigger runs as before.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['sites', 'projects', 'mobility_links', 'transit_stops'] LOOP
    EXECUTE format('DROP TRIGGER %I ON rigenera.%I', t || '_in_area', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF geom ON rigenera.%I'
                   ' FOR EACH ROW WHEN (rigenera.setting(''rigenera.import'') IS DISTINCT FROM ''on'')'
                   ' EXECUTE FUNCTION rigenera.check_in_area()', t || '_in_area', t);
  END LOOP;
END $$;
