-- The referents' directory: filtered by comune ($1), theme ($2), organisation ($3, part of
-- the name), a search on name, organisation, role or e-mail ($4), active only ($5);
-- with each one's last contact and open follow-up. At most $6 rows.
SELECT r.id, r.full_name, r.organisation, r.role, r.email, r.phone, r.istat_code,
       c.name AS comune, r.themes, r.notes, r.active, r.version,
       last.contacted_on AS last_contact, last.outcome AS last_outcome,
       due.follow_up_on AS next_follow_up
  FROM rigenera.referents r
  LEFT JOIN rigenera.comuni c ON c.istat_code = r.istat_code
  LEFT JOIN LATERAL (
    SELECT k.contacted_on, k.outcome FROM rigenera.contacts k
     WHERE k.referent_id = r.id ORDER BY k.contacted_on DESC, k.id DESC LIMIT 1) last ON true
  LEFT JOIN LATERAL (
    SELECT min(k.follow_up_on) AS follow_up_on FROM rigenera.contacts k
     WHERE k.referent_id = r.id AND NOT k.follow_up_done) due ON true
 WHERE ($1::text IS NULL OR r.istat_code = $1)
   AND ($2::text IS NULL OR $2 = ANY (r.themes))
   AND ($3::text IS NULL OR r.organisation ILIKE '%' || $3 || '%')
   AND ($4::text IS NULL OR r.full_name ILIKE '%' || $4 || '%'
        OR r.organisation ILIKE '%' || $4 || '%' OR r.role ILIKE '%' || $4 || '%'
        OR r.email ILIKE '%' || $4 || '%' OR c.name ILIKE '%' || $4 || '%')
   AND (NOT $5::boolean OR r.active)
 ORDER BY c.name NULLS LAST, r.full_name, r.id
 LIMIT $6;
