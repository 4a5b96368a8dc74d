-- Remove a material of an event; its storage key (if a file) to delete the bytes after.
DELETE FROM rigenera.event_materials WHERE event_id = $1 AND id = $2
RETURNING storage_key
