-- The reserved area's list of needs (rooms: needs). $1 the comuni the caller may see
-- (NULL: all), $2 one comune, $3 a status, $4 a category (each NULL: any), $5 how many.
SELECT n.id, n.istat_code, c.name AS comune, n.title, n.category, n.applicant, n.priority,
       n.status, n.estimated_cost_eur, n.needed_by, n.version, n.updated_at, n.updated_by,
       n.geom IS NOT NULL AS has_place
  FROM rigenera.needs n
  JOIN rigenera.comuni c ON c.istat_code = n.istat_code
 WHERE ($1::text[] IS NULL OR n.istat_code = ANY ($1::text[]))
   AND ($2::text IS NULL OR n.istat_code = $2::text)
   AND ($3::text IS NULL OR n.status = $3::text)
   AND ($4::text IS NULL OR n.category = $4::text)
 ORDER BY c.name, n.status <> 'open', n.priority, n.needed_by NULLS LAST, n.id
 LIMIT $5::integer
