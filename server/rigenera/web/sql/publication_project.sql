-- One project's publication (no row: a draft at version 0) and what the page shows of it.
SELECT p.id, p.title, p.cup, p.status, p.description,
       coalesce(pp.state, 'draft') AS state,
       coalesce(pp.version, 0) AS version,
       pp.public_text, pp.cover_document_id,
       pp.proposed_by, pp.proposed_at, pp.published_by, pp.published_at,
       pp.updated_by, pp.updated_at,
       (SELECT string_agg(c.name, ', ' ORDER BY c.name)
          FROM rigenera.project_comuni x JOIN rigenera.comuni c USING (istat_code)
         WHERE x.project_id = p.id) AS comuni
  FROM rigenera.projects p
  LEFT JOIN rigenera.project_publication pp ON pp.project_id = p.id
 WHERE p.id = $1;
