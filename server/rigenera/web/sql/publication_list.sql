-- The reserved area's publication list: every project with its publication state (no row:
-- a draft, version 0), filtered by state ($1), comune ($2), programme code ($3) and a search
-- on title, CUP or comune name ($4); at most $5 rows, drafts and proposals first.
SELECT p.id, p.title, p.cup, p.status,
       coalesce(pp.state, 'draft') AS state,
       coalesce(pp.version, 0) AS version,
       pp.public_text IS NOT NULL AS has_text,
       pp.cover_document_id,
       pp.proposed_by, pp.proposed_at, pp.published_by, pp.published_at,
       coalesce(pc.names, '') AS comuni,
       coalesce(fl.codes, '{}') AS programme_codes
  FROM rigenera.projects p
  LEFT JOIN rigenera.project_publication pp ON pp.project_id = p.id
  LEFT JOIN LATERAL (
    SELECT string_agg(c.name, ', ' ORDER BY c.name) AS names,
           array_agg(x.istat_code) AS codes
      FROM rigenera.project_comuni x JOIN rigenera.comuni c USING (istat_code)
     WHERE x.project_id = p.id) pc ON true
  LEFT JOIN LATERAL (
    SELECT array_remove(array_agg(DISTINCT f.programme_code ORDER BY f.programme_code), NULL)
           AS codes
      FROM rigenera.funding_lines f WHERE f.project_id = p.id) fl ON true
 WHERE ($1::text IS NULL OR coalesce(pp.state, 'draft') = $1)
   AND ($2::text IS NULL OR $2 = ANY (pc.codes))
   AND ($3::text IS NULL OR $3 = ANY (fl.codes))
   AND ($4::text IS NULL OR p.title ILIKE '%' || $4 || '%' OR p.cup ILIKE $4 || '%'
        OR pc.names ILIKE '%' || $4 || '%')
 ORDER BY CASE coalesce(pp.state, 'draft') WHEN 'proposed' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END,
          p.title, p.id
 LIMIT $5;
