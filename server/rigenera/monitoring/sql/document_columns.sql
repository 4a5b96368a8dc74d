-- A document's metadata as the API shows it (never the storage key). Used as a prefix.
SELECT d.id, d.project_id, d.kind, d.phase, d.reference_date, d.title, d.file_name,
       d.media_type, d.size_bytes, d.sha256, d.source, d.version, d.created_at, d.created_by,
       d.updated_at, d.updated_by
  FROM rigenera.documents d
