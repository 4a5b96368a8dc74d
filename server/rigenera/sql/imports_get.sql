-- One import record ($2: only when the caller ran it, for technicians; NULL: anyone's).
SELECT id, collection, file_name, sha256, file_format, layer, crs, mapping, actor, dry_run,
       skip_invalid, status, counts, report, rows_done, rows_total, started_at, finished_at,
       rejected_csv IS NOT NULL AS has_rejected
  FROM rigenera.imports
 WHERE id = $1 AND ($2::text IS NULL OR actor = $2);
