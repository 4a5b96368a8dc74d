-- Issue 13, several API workers: an import record names the process running it
-- (host:pid, as rigenera.process_jobs does since 0018), so a worker starting up can tell
-- the imports of a process that is gone (killed, crashed, restarted by the supervisor)
-- from those a live sibling is still running, and fail only the former. Records written
-- before this migration have none and are never touched by that sweep.

ALTER TABLE rigenera.imports ADD COLUMN worker text;
CREATE INDEX imports_running_worker ON rigenera.imports (worker) WHERE status = 'running';
