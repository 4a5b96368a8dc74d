-- Per comune (after base.sql and comuni_base.sql): the comuni of %(comuni)s (NULL: every
-- comune, then also the row of the projects allotted to no comune, last).
SELECT f.*
  FROM flagged f
 WHERE %(comuni)s::text[] IS NULL OR f.istat_code = ANY(%(comuni)s::text[])
 ORDER BY f.istat_code NULLS LAST
