-- The project's photos (JPEG/PNG documents of kind 'photo'), the choices for its cover.
SELECT d.id, d.title, d.file_name, d.media_type, d.created_at
  FROM rigenera.documents d
 WHERE d.project_id = $1 AND d.kind = 'photo'
   AND d.media_type IN ('image/jpeg', 'image/png')
 ORDER BY d.created_at DESC, d.id DESC;
