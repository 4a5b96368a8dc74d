-- The comuni a caller may choose in the needs' form and filters: $1 their comuni (a
-- technician's), NULL for all of them.
SELECT istat_code, name
  FROM rigenera.comuni
 WHERE $1::text[] IS NULL OR istat_code = ANY ($1::text[])
 ORDER BY name
