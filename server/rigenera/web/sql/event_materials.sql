-- The materials of some events ($1: their ids), oldest first.
SELECT id, event_id, title, url, file_name, media_type, size_bytes
  FROM rigenera.event_materials
 WHERE event_id = ANY($1::bigint[])
 ORDER BY event_id, created_at, id
