-- The registrants of an event ($1): personal data, for the office only.
SELECT r.id, r.full_name, r.email, r.organisation, r.istat_code, c.name AS comune, r.role,
       r.status, r.attended, r.created_at, r.cancelled_at
  FROM rigenera.event_registrations r
  LEFT JOIN rigenera.comuni c ON c.istat_code = r.istat_code
 WHERE r.event_id = $1
 ORDER BY r.status DESC, r.created_at, r.id
