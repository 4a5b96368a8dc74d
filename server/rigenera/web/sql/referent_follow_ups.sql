-- Follow-ups due on or before the day $1 and not done, the oldest first (the home page).
SELECT k.id, k.referent_id, k.follow_up_on, k.contacted_on, k.contacted_by, k.outcome,
       k.notes, r.full_name, r.organisation, r.phone, r.email, c.name AS comune
  FROM rigenera.contacts k
  JOIN rigenera.referents r ON r.id = k.referent_id
  LEFT JOIN rigenera.comuni c ON c.istat_code = r.istat_code
 WHERE NOT k.follow_up_done AND k.follow_up_on <= $1
 ORDER BY k.follow_up_on, r.full_name, k.id
 LIMIT 100;
