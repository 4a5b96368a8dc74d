-- The evaluation's common ground, a WITH prefix every query of the room starts with.
-- Parameters (psycopg2): %(as_of)s date, %(distance)s metres (float8), %(modes)s text[].
--
-- ev: one row per evaluated project (not rejected, not rejected by review), everything
--     measured as of %(as_of)s:
--   * funding from rigenera.funding_lines (numeric, to the cent; NULL amounts ignored);
--   * the latest progress record with reference_date <= as_of (pub.projects' rule);
--   * achieved outcomes: targets' achieved_value by indicator, unless achieved after as_of;
--   * late milestones: done late (actual_date > planned_date, done by as_of) or not done by
--     as_of although planned before it; days late = actual (or as_of) - planned;
--   * overdue reporting: rigenera.project_deadlines(as_of) periods due before as_of with no
--     evidence recorded by as_of;
--   * end overdue: end_date before as_of, no 'completed' progress record by as_of and the
--     project's status is neither completed nor in_use;
--   * near transit: the geodesic distance to the nearest stop of the modes
--     (rigenera.transit_distance_m, migration 0019) within the distance; a project
--     with no geometry or drawn only at its comuni's points is "not located" (NULL).
-- alloc: one row per project and comune it is allotted to (project_comuni; else the comune
--     holding its geometry; else one row with istat_code NULL: "metro area, not split"),
--     k-th of n, with every additive quantity split in n equal shares by largest
--     remainder, so the shares of a project add up exactly (to the cent) to its value.
WITH dl AS (
  SELECT d.project_id, count(*) AS deadlines_overdue
    FROM rigenera.project_deadlines(%(as_of)s) d
   WHERE d.due_on < %(as_of)s AND (d.done_on IS NULL OR d.done_on > %(as_of)s)
   GROUP BY d.project_id
),
ev AS (
  SELECT p.id AS project_id, p.title, p.cup, p.status, p.scope, p.start_date, p.end_date,
         p.geom_source,
         coalesce(pc.codes, CASE WHEN p.geom IS NOT NULL
                                 THEN array_remove(ARRAY[rigenera.comune_of(p.geom)], NULL) END,
                  '{}'::text[]) AS istat_codes,
         p.total_cost_eur, coalesce(f.granted_eur, 0) AS granted_eur,
         coalesce(f.pnrr_granted_eur, 0) AS pnrr_granted_eur,
         coalesce(f.pnrr_amount_unknown, false) AS pnrr_amount_unknown,
         r.phase, r.physical_progress_pct, r.spent_eur, r.paid_eur, r.reference_date AS progress_date,
         p.housing_units_fragile::numeric AS planned_housing_units_fragile,
         p.cultural_space_m2 AS planned_cultural_space_m2,
         p.community_space_m2 AS planned_community_space_m2,
         p.productive_space_m2 AS planned_productive_space_m2,
         p.regenerated_m2 AS planned_regenerated_m2,
         m.achieved_housing_units_fragile, m.achieved_cultural_space_m2,
         m.achieved_community_space_m2, m.achieved_productive_space_m2,
         m.achieved_regenerated_m2,
         coalesce(m.milestones, 0) AS milestones, coalesce(m.milestones_late, 0) AS milestones_late,
         coalesce(m.days_late, 0) AS days_late, coalesce(m.max_days_late, 0) AS max_days_late,
         coalesce(d.deadlines_overdue, 0) AS deadlines_overdue,
         (p.end_date < %(as_of)s AND p.status NOT IN ('completed', 'in_use')
          AND NOT EXISTS (SELECT 1 FROM rigenera.progress_reports c
                           WHERE c.project_id = p.id AND c.phase = 'completed'
                             AND c.reference_date <= %(as_of)s)) AS end_overdue,
         CASE WHEN p.geom IS NULL OR p.geom_source = 'comune_point' THEN NULL
              ELSE coalesce(rigenera.transit_distance_m(p.geom, %(modes)s::text[])
                            <= %(distance)s, false)
         END AS near_transit
    FROM rigenera.projects p
    LEFT JOIN LATERAL (
      SELECT array_agg(c.istat_code ORDER BY c.istat_code) AS codes
        FROM rigenera.project_comuni c WHERE c.project_id = p.id
    ) pc ON true
    LEFT JOIN LATERAL (
      SELECT sum(fl.amount_eur) FILTER (WHERE fl.status = 'granted') AS granted_eur,
             sum(fl.amount_eur) FILTER (WHERE fl.status = 'granted' AND fl.funding_source = 'pnrr')
               AS pnrr_granted_eur,
             -- granted PNRR lines whose amount is not published (ReGiS): sums are lower bounds
             bool_or(fl.amount_eur IS NULL) FILTER (WHERE fl.status = 'granted'
                                                      AND fl.funding_source = 'pnrr')
               AS pnrr_amount_unknown
        FROM rigenera.funding_lines fl WHERE fl.project_id = p.id
    ) f ON true
    LEFT JOIN LATERAL (
      SELECT pr.phase, pr.physical_progress_pct, pr.spent_eur, pr.paid_eur, pr.reference_date
        FROM rigenera.progress_reports pr
       WHERE pr.project_id = p.id AND pr.reference_date <= %(as_of)s
       ORDER BY pr.reference_date DESC LIMIT 1
    ) r ON true
    LEFT JOIN LATERAL (
      SELECT count(*) AS milestones,
             count(*) FILTER (WHERE q.late > 0) AS milestones_late,
             coalesce(sum(q.late) FILTER (WHERE q.late > 0), 0) AS days_late,
             coalesce(max(q.late) FILTER (WHERE q.late > 0), 0) AS max_days_late,
             sum(q.achieved) FILTER (WHERE q.indicator = 'housing_units_fragile') AS achieved_housing_units_fragile,
             sum(q.achieved) FILTER (WHERE q.indicator = 'cultural_space_m2') AS achieved_cultural_space_m2,
             sum(q.achieved) FILTER (WHERE q.indicator = 'community_space_m2') AS achieved_community_space_m2,
             sum(q.achieved) FILTER (WHERE q.indicator = 'productive_space_m2') AS achieved_productive_space_m2,
             sum(q.achieved) FILTER (WHERE q.indicator = 'regenerated_m2') AS achieved_regenerated_m2
        FROM (SELECT ms.indicator,
                     CASE WHEN ms.kind = 'target' AND (ms.actual_date IS NULL OR ms.actual_date <= %(as_of)s)
                          THEN ms.achieved_value END AS achieved,
                     -- lateness as of as_of: a milestone reached after as_of is open then
                     rigenera.milestone_days_late(
                       ms.planned_date,
                       CASE WHEN ms.actual_date <= %(as_of)s THEN ms.actual_date END,
                       %(as_of)s) AS late
                FROM rigenera.milestones ms WHERE ms.project_id = p.id) q
    ) m ON true
    LEFT JOIN dl d ON d.project_id = p.id
   WHERE p.status <> 'rejected' AND p.validation_status <> 'rejected'
),
alloc AS (
  SELECT e.project_id, a.istat_code, a.k, a.n,
         s.sh[1] AS total_cost_eur, s.sh[2] AS granted_eur, s.sh[3] AS pnrr_granted_eur,
         s.sh[4] AS spent_eur, s.sh[5] AS paid_eur,
         s.sh[6] AS planned_housing_units_fragile, s.sh[7] AS planned_cultural_space_m2,
         s.sh[8] AS planned_community_space_m2, s.sh[9] AS planned_productive_space_m2,
         s.sh[10] AS planned_regenerated_m2,
         s.sh[11] AS achieved_housing_units_fragile, s.sh[12] AS achieved_cultural_space_m2,
         s.sh[13] AS achieved_community_space_m2, s.sh[14] AS achieved_productive_space_m2,
         s.sh[15] AS achieved_regenerated_m2
    FROM ev e
    CROSS JOIN LATERAL (
      SELECT u.code AS istat_code, u.k::int AS k, greatest(cardinality(e.istat_codes), 1) AS n
        FROM unnest(CASE WHEN cardinality(e.istat_codes) > 0 THEN e.istat_codes
                         ELSE ARRAY[NULL]::text[] END) WITH ORDINALITY AS u(code, k)
    ) a
    -- The k-th of n equal shares of each value by rigenera.share (0020), the reports'
    -- rule: in cents and 0.01 m2, housing units whole, the units left over one each to
    -- the first comuni, so the n shares add up to v exactly. NULL stays NULL.
    CROSS JOIN LATERAL (
      SELECT array_agg(rigenera.share(x.v, a.n, a.k - 1,
                                      CASE WHEN x.i IN (6, 11) THEN 1 ELSE 0.01 END)
                       ORDER BY x.i) AS sh
        FROM unnest(ARRAY[e.total_cost_eur, e.granted_eur, e.pnrr_granted_eur, e.spent_eur,
                          e.paid_eur, e.planned_housing_units_fragile, e.planned_cultural_space_m2,
                          e.planned_community_space_m2, e.planned_productive_space_m2,
                          e.planned_regenerated_m2, e.achieved_housing_units_fragile,
                          e.achieved_cultural_space_m2, e.achieved_community_space_m2,
                          e.achieved_productive_space_m2, e.achieved_regenerated_m2]::numeric[])
             WITH ORDINALITY AS x(v, i)
    ) s
)
