-- Cancel (or restore) an event at the version the page was read at ($3).
UPDATE rigenera.events SET status = $2
 WHERE id = $1 AND version = $3
RETURNING version
