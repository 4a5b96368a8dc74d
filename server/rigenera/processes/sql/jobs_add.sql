-- A job accepted for asynchronous execution (processes/jobs.py).
INSERT INTO rigenera.process_jobs (identifier, process_id, status, message, progress,
                                   created, started, updated, parameters, response, worker)
VALUES (%(identifier)s, %(process_id)s, 'accepted',
        'Lavoro accettato / job accepted', 0, now(), now(), now(),
        %(parameters)s, %(response)s, %(worker)s)
