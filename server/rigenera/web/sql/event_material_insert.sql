-- A material: a link ($3) or a stored file ($4..$8); $9 who added it.
INSERT INTO rigenera.event_materials
       (event_id, title, url, file_name, media_type, size_bytes, sha256, storage_key, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
