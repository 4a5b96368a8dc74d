-- Issue 13, read-your-writes across replicas (readmarks.py): after a write, the WAL
-- position (LSN) the writer's next reads must see, keyed by a SHA-256 of the credential
-- that wrote (Authorization header or website session cookie), never the credential.
--
-- UNLOGGED: a mark is a hint valid for minutes (RIGENERA_READ_MARK_SECONDS). It is read
-- and written on the primary only, costs no WAL to keep up to date, and losing the
-- table in a crash merely sends a writer's reads to a replica that may lag a second.
CREATE UNLOGGED TABLE rigenera.read_marks (
  key   bytea PRIMARY KEY,
  lsn   pg_lsn NOT NULL,
  until timestamptz NOT NULL
);

COMMENT ON TABLE rigenera.read_marks IS
  'Read-your-writes: the LSN a credential''s reads must see until `until` (issue 13)';
