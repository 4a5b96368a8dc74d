-- The metro area (after base.sql and comuni_base.sql), or the union of %(comuni)s.
-- Additive columns are the sums of the comuni rows (the not-split row included when no
-- comuni are selected), so they equal the per-comune sums to the cent; counts are of the
-- distinct projects touching the selection.
, sel AS (
  SELECT * FROM flagged
   WHERE %(comuni)s::text[] IS NULL OR istat_code = ANY(%(comuni)s::text[])
),
proj AS (
  SELECT * FROM ev e
   WHERE %(comuni)s::text[] IS NULL OR e.istat_codes && %(comuni)s::text[]
)
SELECT p.*, s.*,
       CASE WHEN s.population > 0 THEN round(s.pnrr_granted_eur / s.population, 2) END
         AS pnrr_eur_per_inhabitant
  FROM (SELECT count(*) AS projects,
               count(*) FILTER (WHERE progress_date IS NOT NULL) AS projects_with_progress,
               round(avg(physical_progress_pct), 2) AS physical_progress_pct,
               coalesce(sum(milestones), 0) AS milestones,
               coalesce(sum(milestones_late), 0) AS milestones_late,
               coalesce(sum(days_late), 0) AS days_late,
               coalesce(max(max_days_late), 0) AS max_days_late,
               coalesce(sum(deadlines_overdue), 0) AS deadlines_overdue,
               count(*) FILTER (WHERE end_overdue) AS projects_end_overdue,
               count(*) FILTER (WHERE near_transit IS NOT NULL) AS projects_located,
               count(*) FILTER (WHERE near_transit) AS projects_near_transit,
               count(*) FILTER (WHERE near_transit IS NULL) AS projects_not_located,
               count(*) FILTER (WHERE pnrr_amount_unknown) AS projects_pnrr_amount_unknown
          FROM proj) p,
       (SELECT sum(population) FILTER (WHERE istat_code IS NOT NULL) AS population,
               count(*) FILTER (WHERE istat_code IS NOT NULL) AS comuni,
               sum(total_cost_eur) AS total_cost_eur, sum(granted_eur) AS granted_eur,
               sum(pnrr_granted_eur) AS pnrr_granted_eur, sum(spent_eur) AS spent_eur,
               sum(paid_eur) AS paid_eur,
               sum(planned_housing_units_fragile) AS planned_housing_units_fragile,
               sum(planned_cultural_space_m2) AS planned_cultural_space_m2,
               sum(planned_community_space_m2) AS planned_community_space_m2,
               sum(planned_productive_space_m2) AS planned_productive_space_m2,
               sum(planned_regenerated_m2) AS planned_regenerated_m2,
               sum(achieved_housing_units_fragile) AS achieved_housing_units_fragile,
               sum(achieved_cultural_space_m2) AS achieved_cultural_space_m2,
               sum(achieved_community_space_m2) AS achieved_community_space_m2,
               sum(achieved_productive_space_m2) AS achieved_productive_space_m2,
               sum(achieved_regenerated_m2) AS achieved_regenerated_m2,
               sum(sites) AS sites, sum(sites_regenerated) AS sites_regenerated,
               sum(sites_regenerated_m2) AS sites_regenerated_m2,
               sum(sites_to_regenerate) AS sites_to_regenerate,
               sum(sites_to_regenerate_m2) AS sites_to_regenerate_m2,
               sum(sites_near_transit) AS sites_near_transit,
               count(*) FILTER (WHERE ivsm IS NOT NULL) AS comuni_with_ivsm,
               count(*) FILTER (WHERE underserved_vulnerable) AS comuni_underserved_vulnerable,
               max(ivsm_median) AS ivsm_median,
               max(pnrr_per_inhabitant_median) AS pnrr_per_inhabitant_median
          FROM sel) s
