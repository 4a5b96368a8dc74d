-- A call (or e-mail, meeting) in the log.
INSERT INTO rigenera.contacts
       (referent_id, contacted_on, contacted_by, channel, outcome, notes, follow_up_on)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id;
