-- Review of issue 11: one row-history function for every table with a geometry.
--
-- 0017 gave needs a function of its own (record_history_geom) because 0016's trigger used
-- record_history(), which then blanked geom_3857, a column needs lacks. Since 0019,
-- record_history() blanks the stored copies (geom_3857, geom_utm) only on the tables that
-- have them, so needs can use it again: the same JSON record (attributes without the
-- geometry, kept apart in geom_before/geom_after), without serialising the geometry first.
DROP TRIGGER needs_history ON rigenera.needs;
CREATE TRIGGER needs_history AFTER INSERT OR UPDATE OR DELETE ON rigenera.needs
  FOR EACH ROW WHEN (rigenera.setting('rigenera.import') IS DISTINCT FROM 'on')
  EXECUTE FUNCTION rigenera.record_history();
DROP FUNCTION rigenera.record_history_geom();
