-- Issue 12, the office room: referents and contacts get a source, like every imported row.
--
-- The demo set adds invented referents and their contact log; `demo remove` deletes the
-- rows whose source is the demo file's attribution (imports/sources/demo.py), and the demo
-- loader refreshes them by (source, source_id). Rows typed in the reserved area have no
-- source (NULL): never touched by a loader or by demo removal.

ALTER TABLE rigenera.referents
  ADD COLUMN source    text,
  ADD COLUMN source_id text,
  ADD CONSTRAINT referents_source_unique UNIQUE (source, source_id);

ALTER TABLE rigenera.contacts
  ADD COLUMN source    text,
  ADD COLUMN source_id text,
  ADD CONSTRAINT contacts_source_unique UNIQUE (source, source_id);

-- The directory is searched by name, organisation and e-mail, filtered by comune.
CREATE INDEX referents_istat_code ON rigenera.referents (istat_code);
