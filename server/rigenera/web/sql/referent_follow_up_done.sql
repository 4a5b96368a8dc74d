-- Mark a follow-up done, at the version the page showed ($3); nothing back: not found, no
-- follow-up, or changed meanwhile.
UPDATE rigenera.contacts
   SET follow_up_done = true
 WHERE id = $1 AND referent_id = $2 AND version = $3 AND follow_up_on IS NOT NULL
RETURNING version;
