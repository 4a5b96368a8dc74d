-- A job's progress, or its end: results (successful) or an exception (failed). A job
-- dismissed (deleted) meanwhile has no row: nothing happens.
UPDATE rigenera.process_jobs
   SET status = %(status)s, message = %(message)s, progress = %(progress)s,
       started = CASE WHEN %(status)s = 'running' THEN now() ELSE started END,
       finished = CASE WHEN %(status)s IN ('successful', 'failed') THEN now() END,
       updated = now(), mimetype = %(mimetype)s, output = %(output)s,
       error_status = %(error_status)s, error = %(error)s
 WHERE identifier = %(identifier)s
