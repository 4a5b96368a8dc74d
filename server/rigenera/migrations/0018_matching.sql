-- Issue 11, the "matching" room: the job store of OGC API Processes run asynchronously.
--
-- pygeoapi 0.24's PostgreSQLManager creates its own table at start-up (SQLAlchemy
-- create_all) and reads a job's results from a file; ours (rigenera.processes.jobs)
-- keeps the results here, so they survive a restart of the app and need no folder.
-- Matching needs to calls needs no table: it reads rigenera.calls and rigenera.needs
-- (rigenera/matching/sql/match.sql).

CREATE TABLE rigenera.process_jobs (
  identifier  text PRIMARY KEY,
  type        text NOT NULL DEFAULT 'process',
  process_id  text NOT NULL,
  status      text NOT NULL
              CONSTRAINT process_jobs_status_check
              CHECK (status IN ('accepted', 'running', 'successful', 'failed', 'dismissed')),
  message     text,
  progress    integer NOT NULL DEFAULT 0
              CONSTRAINT process_jobs_progress_range CHECK (progress BETWEEN 0 AND 100),
  created     timestamptz NOT NULL DEFAULT now(),
  started     timestamptz,
  finished    timestamptz,
  updated     timestamptz NOT NULL DEFAULT now(),
  -- The execute request's inputs (public: processes take no personal data).
  parameters  jsonb,
  -- raw (the process output) or document ({"outputs": [...]}), as the client asked.
  response    text NOT NULL DEFAULT 'raw'
              CONSTRAINT process_jobs_response_check CHECK (response IN ('raw', 'document')),
  mimetype    text,
  output      bytea,
  -- A failed job: its HTTP status and OGC exception document ({code, type, description}).
  error_status integer,
  error       jsonb,
  -- host:pid of the server process running it: a restart fails its own orphans only.
  worker      text
);
CREATE INDEX process_jobs_created ON rigenera.process_jobs (created DESC, identifier);
