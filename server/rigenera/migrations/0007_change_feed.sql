-- The change feed (/api/changes, editing/changes.py) reads history by collection in
-- id order after a cursor: without this index a client polling a rarely edited
-- collection scans the history of all the others on every poll.
CREATE INDEX history_collection_seq ON rigenera.history (collection, id);
