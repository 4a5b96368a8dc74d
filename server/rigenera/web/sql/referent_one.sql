-- One referent with the comune's name.
SELECT r.id, r.full_name, r.organisation, r.role, r.email, r.phone, r.istat_code,
       c.name AS comune, r.themes, r.notes, r.active, r.version,
       r.created_by, r.created_at, r.updated_by, r.updated_at
  FROM rigenera.referents r
  LEFT JOIN rigenera.comuni c ON c.istat_code = r.istat_code
 WHERE r.id = $1;
