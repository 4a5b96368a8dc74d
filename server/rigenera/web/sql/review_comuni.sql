-- The comuni offered by the review pages' filter, by name. $1: only these ISTAT codes
-- (NULL = all 133; a technician's own comuni on the page "Da localizzare").
SELECT istat_code, name
  FROM rigenera.comuni
 WHERE $1::text[] IS NULL OR istat_code = ANY($1::text[])
 ORDER BY name
