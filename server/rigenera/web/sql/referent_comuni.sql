-- The comuni for the filters and the form: those of the metro area (province 015) first.
SELECT istat_code, name FROM rigenera.comuni ORDER BY name;
