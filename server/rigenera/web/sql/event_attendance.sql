-- Attendance of an event's active registrations: present = id in $2, the others absent.
UPDATE rigenera.event_registrations
   SET attended = (id = ANY($2::bigint[]))
 WHERE event_id = $1 AND status = 'registered'
