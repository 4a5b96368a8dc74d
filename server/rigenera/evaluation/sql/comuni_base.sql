-- Per comune (after base.sql), a WITH continuation for comuni.sql and metro.sql.
-- site: the sites (not rejected by review), their m2 (the polygon's, else the declared
--   surface, to 0.01 m2) and whether a stop of %(modes)s lies within %(distance)s m.
-- per_comune: every comune of the metro area, plus one row (istat_code NULL) for the
--   projects allotted to no comune (the whole metro area): additive columns are sums of
--   the alloc shares, so the rows add up to the metro totals; counts are of the projects
--   touching the comune (a project of two comuni counts in both).
-- med: the metro medians of IVSM and of PNRR euros per inhabitant, over every comune
--   whatever %(comuni)s selects (so a comune's flag does not depend on the selection).
, site AS (
  SELECT s.istat_code, s.state,
         round(coalesce(s.surface_m2::numeric, s.surface_declared_m2), 2) AS m2,
         coalesce(rigenera.transit_distance_m(s.geom, %(modes)s::text[]) <= %(distance)s,
                  false) AS near_transit
    FROM rigenera.sites s
   WHERE s.validation_status <> 'rejected'
),
site_c AS (
  SELECT istat_code, count(*) AS sites,
         count(*) FILTER (WHERE state = 'regenerated') AS sites_regenerated,
         coalesce(sum(m2) FILTER (WHERE state = 'regenerated'), 0) AS sites_regenerated_m2,
         count(*) FILTER (WHERE state <> 'regenerated') AS sites_to_regenerate,
         coalesce(sum(m2) FILTER (WHERE state <> 'regenerated'), 0) AS sites_to_regenerate_m2,
         count(*) FILTER (WHERE near_transit) AS sites_near_transit
    FROM site GROUP BY istat_code
),
proj_c AS (
  SELECT a.istat_code, count(*) AS projects,
         sum(a.total_cost_eur) AS total_cost_eur, coalesce(sum(a.granted_eur), 0) AS granted_eur,
         coalesce(sum(a.pnrr_granted_eur), 0) AS pnrr_granted_eur,
         coalesce(sum(a.spent_eur), 0) AS spent_eur, coalesce(sum(a.paid_eur), 0) AS paid_eur,
         sum(a.planned_housing_units_fragile) AS planned_housing_units_fragile,
         sum(a.planned_cultural_space_m2) AS planned_cultural_space_m2,
         sum(a.planned_community_space_m2) AS planned_community_space_m2,
         sum(a.planned_productive_space_m2) AS planned_productive_space_m2,
         sum(a.planned_regenerated_m2) AS planned_regenerated_m2,
         sum(a.achieved_housing_units_fragile) AS achieved_housing_units_fragile,
         sum(a.achieved_cultural_space_m2) AS achieved_cultural_space_m2,
         sum(a.achieved_community_space_m2) AS achieved_community_space_m2,
         sum(a.achieved_productive_space_m2) AS achieved_productive_space_m2,
         sum(a.achieved_regenerated_m2) AS achieved_regenerated_m2,
         count(*) FILTER (WHERE e.progress_date IS NOT NULL) AS projects_with_progress,
         round(avg(e.physical_progress_pct), 2) AS physical_progress_pct,
         sum(e.milestones) AS milestones, sum(e.milestones_late) AS milestones_late,
         sum(e.days_late) AS days_late, max(e.max_days_late) AS max_days_late,
         sum(e.deadlines_overdue) AS deadlines_overdue,
         count(*) FILTER (WHERE e.end_overdue) AS projects_end_overdue,
         count(*) FILTER (WHERE e.near_transit IS NOT NULL) AS projects_located,
         count(*) FILTER (WHERE e.near_transit) AS projects_near_transit,
         count(*) FILTER (WHERE e.near_transit IS NULL) AS projects_not_located,
         count(*) FILTER (WHERE e.pnrr_amount_unknown) AS projects_pnrr_amount_unknown
    FROM alloc a JOIN ev e USING (project_id)
   GROUP BY a.istat_code
),
per_comune AS (
  -- Each comune, and one row without a comune for the projects of the metro area as a
  -- whole (only when there are some): the same columns, so one SELECT.
  SELECT c.istat_code, c.name, c.population, c.ivsm, c.ivsm_year,
         coalesce(pc.projects, 0) AS projects, pc.total_cost_eur,
         coalesce(pc.granted_eur, 0) AS granted_eur,
         coalesce(pc.pnrr_granted_eur, 0) AS pnrr_granted_eur,
         coalesce(pc.spent_eur, 0) AS spent_eur, coalesce(pc.paid_eur, 0) AS paid_eur,
         pc.planned_housing_units_fragile, pc.planned_cultural_space_m2,
         pc.planned_community_space_m2, pc.planned_productive_space_m2,
         pc.planned_regenerated_m2, pc.achieved_housing_units_fragile,
         pc.achieved_cultural_space_m2, pc.achieved_community_space_m2,
         pc.achieved_productive_space_m2, pc.achieved_regenerated_m2,
         coalesce(pc.projects_with_progress, 0) AS projects_with_progress,
         pc.physical_progress_pct, coalesce(pc.milestones, 0) AS milestones,
         coalesce(pc.milestones_late, 0) AS milestones_late,
         coalesce(pc.days_late, 0) AS days_late,
         coalesce(pc.max_days_late, 0) AS max_days_late,
         coalesce(pc.deadlines_overdue, 0) AS deadlines_overdue,
         coalesce(pc.projects_end_overdue, 0) AS projects_end_overdue,
         coalesce(pc.projects_located, 0) AS projects_located,
         coalesce(pc.projects_near_transit, 0) AS projects_near_transit,
         coalesce(pc.projects_not_located, 0) AS projects_not_located,
         coalesce(pc.projects_pnrr_amount_unknown, 0) AS projects_pnrr_amount_unknown,
         coalesce(sc.sites, 0) AS sites,
         coalesce(sc.sites_regenerated, 0) AS sites_regenerated,
         coalesce(sc.sites_regenerated_m2, 0) AS sites_regenerated_m2,
         coalesce(sc.sites_to_regenerate, 0) AS sites_to_regenerate,
         coalesce(sc.sites_to_regenerate_m2, 0) AS sites_to_regenerate_m2,
         coalesce(sc.sites_near_transit, 0) AS sites_near_transit
    FROM (SELECT istat_code, name, population, ivsm, ivsm_year FROM rigenera.comuni
          UNION ALL SELECT NULL, NULL, NULL, NULL, NULL) c
    LEFT JOIN proj_c pc ON pc.istat_code IS NOT DISTINCT FROM c.istat_code
    LEFT JOIN site_c sc ON sc.istat_code = c.istat_code
   WHERE c.istat_code IS NOT NULL OR pc.projects IS NOT NULL
),
med AS (
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ivsm::float8)
           FILTER (WHERE istat_code IS NOT NULL AND ivsm IS NOT NULL) AS ivsm_median,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY (coalesce(pnrr_granted_eur, 0) / population)::float8)
           FILTER (WHERE istat_code IS NOT NULL AND population > 0) AS pnrr_per_inhabitant_median
    FROM per_comune
)
,
-- An under-served vulnerable comune: IVSM above the metro median and PNRR euros per
-- inhabitant below the metro median, or no PNRR funding at all (no granted PNRR line with
-- an amount, and none whose amount is unpublished); NULL without an IVSM.
flagged AS (
  SELECT pc.*, m.ivsm_median, m.pnrr_per_inhabitant_median,
         CASE WHEN pc.population > 0 THEN round(pc.pnrr_granted_eur / pc.population, 2) END
           AS pnrr_eur_per_inhabitant,
         CASE WHEN pc.ivsm IS NULL OR m.ivsm_median IS NULL OR pc.istat_code IS NULL THEN NULL
              ELSE pc.ivsm::float8 > m.ivsm_median
                   AND ((pc.pnrr_granted_eur = 0 AND pc.projects_pnrr_amount_unknown = 0)
                        OR NOT pc.population > 0
                        OR (pc.pnrr_granted_eur / pc.population)::float8 < m.pnrr_per_inhabitant_median)
         END AS underserved_vulnerable
    FROM per_comune pc CROSS JOIN med m
)
