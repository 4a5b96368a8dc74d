-- A new event ($1 source, then the form's fields in EventForm.params order).
INSERT INTO rigenera.events
       (source, title, kind, description, starts_at, ends_at, istat_code, venue, geom,
        audience, capacity, registration_closes_at, online_url)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
        CASE WHEN $9::float8 IS NULL OR $10::float8 IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint($9, $10), 4326) END,
        $11, $12, $13, $14)
RETURNING id
