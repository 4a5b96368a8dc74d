-- A document locked for deletion, with its key and the caller's reach problems.
SELECT d.id, d.version, d.storage_key,
       CASE WHEN $2::text[] IS NULL THEN '[]'::jsonb
            ELSE rigenera.project_reach_problems(d.project_id, $2::text[]) END AS problems
  FROM rigenera.documents d
 WHERE d.id = $1
   FOR UPDATE;
