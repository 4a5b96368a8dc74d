-- The queue "Da localizzare": projects whose place is only approximate, oldest id first.
--   reason 'comune_point': drawn at their comuni's representative points (geom_source
--     'comune_point', imports of ReGiS rows without coordinates);
--   reason 'metro_area': projects of the whole metropolitan area without a geometry
--     ("TUTTI I COMUNI"): no comune, so only callers who see every comune list them.
-- Parameters: $1 the caller's comuni (NULL = every comune; a project is listed when one
-- of its comuni is theirs), $2 one comune to narrow to (NULL = all), $3 the cursor (the
-- last id of the previous page, NULL = from the start), $4 limit, $5 offset,
-- $6 the comuni a technician may edit in (in_reach: every comune of the project is
-- theirs, the reach rule's condition on comuni), $7 in_reach for other callers
-- (admins and coordinators true, volunteers false).
WITH queue AS (
  SELECT p.id,
         CASE WHEN p.geom_source = 'comune_point' THEN 'comune_point' ELSE 'metro_area' END AS reason
    FROM rigenera.projects p
   WHERE (p.geom_source = 'comune_point' OR (p.scope = 'metro_area' AND p.geom IS NULL))
     AND ($1::text[] IS NULL OR EXISTS (SELECT 1 FROM rigenera.project_comuni pc
                                         WHERE pc.project_id = p.id AND pc.istat_code = ANY($1)))
     AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM rigenera.project_comuni pc
                                       WHERE pc.project_id = p.id AND pc.istat_code = $2))
),
page AS (
  SELECT q.id, q.reason FROM queue q
   WHERE $3::bigint IS NULL OR q.id > $3
   ORDER BY q.id
   LIMIT $4 OFFSET $5
)
-- One row per feature of the page, each with the size of the whole queue; a single row
-- with a NULL id when the page is empty (the count is still wanted).
SELECT m.matched, f.id, f.feature
  FROM (SELECT count(*) AS matched FROM queue) m
  LEFT JOIN (
    SELECT pg.id,
           '{"type":"Feature","id":' || t.id || ',"geometry":'
             || coalesce(ST_AsGeoJSON(t.geom, 7), 'null')
             || ',"properties":' || jsonb_build_object(
                  'id', t.id, 'cup', t.cup, 'title', t.title, 'status', t.status,
                  'implementing_body', t.implementing_body, 'istat_codes', t.istat_codes,
                  'programme_codes', t.programme_codes, 'geom_source', t.geom_source,
                  'geometry_kind', t.geometry_kind, 'scope', t.scope, 'cup_status', t.cup_status,
                  'version', t.version, 'reason', pg.reason,
                  'in_reach', CASE WHEN $6::text[] IS NULL THEN $7::boolean
                                   ELSE coalesce(t.istat_codes <@ $6::text[], false) END)::text
             || '}' AS feature
      FROM page pg JOIN pub.projects t ON t.id = pg.id
  ) f ON true
 ORDER BY f.id
