-- The comuni to choose from in the website's forms and filters, by name: $1 the caller's
-- comuni (a technician's), NULL for all of them.
SELECT istat_code, name
  FROM rigenera.comuni
 WHERE $1::text[] IS NULL OR istat_code = ANY ($1::text[])
 ORDER BY name
