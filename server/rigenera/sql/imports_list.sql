-- Imports newest first, a page after the cursor $2 (ids below it); $1 the actor for
-- technicians (NULL: everyone's), $3 a collection, $4 a status, $5 the page size.
SELECT id, collection, file_name, sha256, file_format, layer, crs, mapping, actor, dry_run,
       skip_invalid, status, counts, NULL::jsonb AS report, rows_done, rows_total, started_at,
       finished_at, rejected_csv IS NOT NULL AS has_rejected, report ->> 'message' AS message
  FROM rigenera.imports
 WHERE ($1::text IS NULL OR actor = $1)
   AND ($2::bigint IS NULL OR id < $2)
   AND ($3::text IS NULL OR collection = $3)
   AND ($4::text IS NULL OR status = $4)
 ORDER BY id DESC
 LIMIT $5;
