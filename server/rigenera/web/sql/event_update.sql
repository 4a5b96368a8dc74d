-- Edit an event only at the version the form was read at ($15): 0 rows = someone else
-- changed it first (409), nothing overwritten. touch() moves the version on.
UPDATE rigenera.events
   SET title = $2, kind = $3, description = $4, starts_at = $5, ends_at = $6,
       istat_code = $7, venue = $8,
       geom = CASE WHEN $9::float8 IS NULL OR $10::float8 IS NULL THEN NULL
                   ELSE ST_SetSRID(ST_MakePoint($9, $10), 4326) END,
       audience = $11, capacity = $12, registration_closes_at = $13, online_url = $14
 WHERE id = $1 AND version = $15
RETURNING version
