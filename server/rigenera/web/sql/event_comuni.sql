-- The comuni to choose from (forms), by name.
SELECT istat_code, name FROM rigenera.comuni ORDER BY name
