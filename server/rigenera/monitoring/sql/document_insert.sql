-- A document's row; version/created/updated by touch(), history by record_history_plain().
INSERT INTO rigenera.documents (project_id, kind, phase, reference_date, title, file_name,
                                media_type, size_bytes, sha256, storage_key, source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'api')
RETURNING id;
