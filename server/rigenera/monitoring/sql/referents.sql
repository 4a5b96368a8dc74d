-- The referents of some comuni (private: only for authenticated staff and volunteers).
SELECT r.istat_code, r.id, r.full_name, r.organisation, r.role, r.email, r.phone
  FROM rigenera.referents r
 WHERE r.istat_code = ANY ($1::text[])
 ORDER BY r.istat_code, r.full_name, r.id;
