-- The cover photo of a published project, only when it is one of its own image documents.
SELECT d.id, d.storage_key, d.media_type, d.file_name, d.size_bytes, d.sha256
  FROM rigenera.project_publication pp
  JOIN rigenera.documents d ON d.id = pp.cover_document_id AND d.project_id = pp.project_id
 WHERE pp.project_id = $1 AND pp.state = 'published' AND d.media_type LIKE 'image/%'
   AND d.storage_key IS NOT NULL
