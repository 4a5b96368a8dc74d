-- Start-up: jobs this host was running in a server process that is gone (a restart, a
-- crash) will never finish; say so.
UPDATE rigenera.process_jobs
   SET status = 'failed', finished = now(), updated = now(),
       message = 'Interrotto dal riavvio del server / interrupted by a server restart',
       error_status = 503,
       error = jsonb_build_object('code', 'NoApplicableCode', 'type', 'NoApplicableCode',
               'description', 'Interrotto dal riavvio del server, eseguire di nuovo / '
                              'interrupted by a server restart, execute again')
 WHERE status IN ('accepted', 'running') AND worker = ANY (%(workers)s)
