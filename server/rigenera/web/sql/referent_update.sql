-- Change a referent at the version the form was read at ($2); nothing back: changed
-- meanwhile by someone else (409).
UPDATE rigenera.referents
   SET full_name = $3, organisation = $4, role = $5, email = $6, phone = $7, istat_code = $8,
       themes = $9, notes = $10, active = $11
 WHERE id = $1 AND version = $2
RETURNING version;
