-- An event's public columns, its comune's name and the places left (registered ones only).
SELECT e.id, e.title, e.kind, e.description, e.starts_at, e.ends_at, e.istat_code,
       c.name AS comune, e.venue, ST_X(e.geom) AS longitude, ST_Y(e.geom) AS latitude,
       e.audience, e.capacity, e.registration_closes_at, e.status, e.online_url,
       e.version, e.updated_at,
       r.registered,
       CASE WHEN e.capacity IS NULL THEN NULL ELSE greatest(e.capacity - r.registered, 0) END
         AS places_left
  FROM rigenera.events e
  LEFT JOIN rigenera.comuni c ON c.istat_code = e.istat_code
  CROSS JOIN LATERAL (SELECT count(*)::int AS registered FROM rigenera.event_registrations x
                       WHERE x.event_id = e.id AND x.status = 'registered') r
