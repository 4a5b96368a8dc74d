-- Every event for the reserved area, newest first, with its registrations and attendance.
SELECT e.id, e.title, e.kind, e.starts_at, e.status, e.capacity, c.name AS comune,
       count(r.id) FILTER (WHERE r.status = 'registered')::int AS registered,
       count(r.id) FILTER (WHERE r.attended)::int AS attended
  FROM rigenera.events e
  LEFT JOIN rigenera.comuni c ON c.istat_code = e.istat_code
  LEFT JOIN rigenera.event_registrations r ON r.event_id = e.id
 GROUP BY e.id, c.name
 ORDER BY e.starts_at DESC, e.id DESC
