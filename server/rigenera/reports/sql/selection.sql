-- The projects a report covers: every project, narrowed by status, by programme (a prefix
-- of the code of any of its funding lines) and by comuni (any of its comuni). Metro-area
-- projects have no comune: a comuni filter leaves them out. `published` (the website's
-- public pages) keeps only the projects published on the site (migration 0024).
sel AS (
  SELECT p.id, p.status, p.scope, p.start_date, p.total_cost_eur, p.housing_units_fragile,
         p.cultural_space_m2, p.community_space_m2, p.productive_space_m2, p.regenerated_m2
    FROM rigenera.projects p
   WHERE (%(status)s::text[] IS NULL OR p.status = ANY (%(status)s::text[]))
     AND (%(programme)s::text IS NULL OR EXISTS (
            SELECT 1 FROM rigenera.funding_lines fl WHERE fl.project_id = p.id
               AND left(fl.programme_code, length(%(programme)s::text)) = %(programme)s::text))
     AND (%(comuni)s::text[] IS NULL OR EXISTS (
            SELECT 1 FROM rigenera.project_comuni pc WHERE pc.project_id = p.id
               AND pc.istat_code = ANY (%(comuni)s::text[])))
     AND (NOT %(published)s::boolean OR EXISTS (
            SELECT 1 FROM rigenera.project_publication pub WHERE pub.project_id = p.id
               AND pub.state = 'published'))
)
