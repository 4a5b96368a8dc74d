-- One stored material file of an event ($1 event, $2 material), for its download.
SELECT id, file_name, media_type, size_bytes, sha256, storage_key
  FROM rigenera.event_materials
 WHERE event_id = $1 AND id = $2 AND storage_key IS NOT NULL
