-- The public map's search: published projects by title or CUP, comuni by name. $1 the
-- text (LIKE wildcards escaped by the caller), $2 how many of each. Projects without a
-- location are found too (no centre: the result links to their page).
(SELECT 'project' AS kind, p.id::text AS id, p.title AS label, p.cup AS detail,
        ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
        CASE WHEN p.geom IS NOT NULL THEN ARRAY[ST_XMin(p.geom), ST_YMin(p.geom),
                                                ST_XMax(p.geom), ST_YMax(p.geom)] END AS bbox
   FROM rigenera.projects p
   JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
  WHERE p.title ILIKE '%' || $1 || '%' OR p.cup ILIKE $1 || '%'
  ORDER BY (p.cup ILIKE $1) DESC, (p.title ILIKE $1 || '%') DESC, p.title
  LIMIT $2)
UNION ALL
(SELECT 'comune', c.istat_code, c.name, c.istat_code,
        ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom)),
        ARRAY[ST_XMin(c.geom), ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom)]
   FROM rigenera.comuni c
  WHERE c.name ILIKE '%' || $1 || '%'
  ORDER BY (c.name ILIKE $1 || '%') DESC, c.name
  LIMIT $2);
