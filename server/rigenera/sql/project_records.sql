-- The records of one project (progress, milestones, tenders), or one of them, as JSON
-- objects: who wrote them (created_by, updated_by) stays in the private history.
-- Placeholders are identifiers chosen by routes/project_records.py from a fixed table:
-- ${table}, ${order}, ${extra} (a milestone's lateness); $$1 project id, $$2 record id or NULL.
SELECT (to_jsonb(t) - 'created_by' - 'updated_by') ${extra} AS record
  FROM rigenera.${table} AS t
 WHERE t.project_id = $$1 AND ($$2::bigint IS NULL OR t.id = $$2)
 ORDER BY ${order}, t.id
