-- A registration; the trigger event_registrations_admit decides (open, places left).
INSERT INTO rigenera.event_registrations
       (event_id, full_name, email, organisation, istat_code, role, consent, cancel_token_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id
