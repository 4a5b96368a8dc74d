-- The job list, newest first, with its total: what pygeoapi's /jobs shows.
SELECT identifier, type, process_id, status, message, progress, parameters, mimetype,
       to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created,
       to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started,
       to_char(finished AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS finished,
       to_char(updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated,
       count(*) OVER () AS matched
  FROM rigenera.process_jobs
 WHERE (%(identifier)s::text IS NULL OR identifier = %(identifier)s)
   AND (%(status)s::text IS NULL OR status = %(status)s)
 ORDER BY created DESC, identifier
 LIMIT %(limit)s OFFSET %(offset)s
