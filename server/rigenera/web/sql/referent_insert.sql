-- A new referent (typed in the reserved area: no source).
INSERT INTO rigenera.referents
       (full_name, organisation, role, email, phone, istat_code, themes, notes, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id;
