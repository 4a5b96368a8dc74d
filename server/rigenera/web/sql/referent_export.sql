-- The directory as CSV rows (coordinators and admins), with the last contact.
SELECT r.id, r.full_name, r.organisation, r.role, r.email, r.phone, r.istat_code,
       c.name AS comune, array_to_string(r.themes, ';') AS themes, r.active, r.notes,
       (SELECT max(k.contacted_on) FROM rigenera.contacts k WHERE k.referent_id = r.id)
         AS last_contact
  FROM rigenera.referents r
  LEFT JOIN rigenera.comuni c ON c.istat_code = r.istat_code
 WHERE ($1::text IS NULL OR r.istat_code = $1)
   AND ($2::text IS NULL OR $2 = ANY (r.themes))
   AND ($3::text IS NULL OR r.organisation ILIKE '%' || $3 || '%')
   AND ($4::text IS NULL OR r.full_name ILIKE '%' || $4 || '%'
        OR r.organisation ILIKE '%' || $4 || '%' OR r.role ILIKE '%' || $4 || '%'
        OR r.email ILIKE '%' || $4 || '%' OR c.name ILIKE '%' || $4 || '%')
 ORDER BY c.name NULLS LAST, r.full_name, r.id;
