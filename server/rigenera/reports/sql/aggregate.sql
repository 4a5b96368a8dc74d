-- One row per group: counts, money, spending, outcomes, overdue deadlines.
-- pg(project_id, gkey, n, k): the groups of each project (a project in n groups is part k
-- of n); lg(line_id, gkey, n, k): the same for funding lines. Project amounts and
-- quantities are shared among a project's groups with rigenera.share (exact to the cent),
-- a funding line's amount among its line groups; counts are whole in every group.
WITH $selection,
latest AS (
  SELECT DISTINCT ON (r.project_id) r.project_id, r.phase, r.spent_eur, r.paid_eur
    FROM rigenera.progress_reports r JOIN sel ON sel.id = r.project_id
   ORDER BY r.project_id, r.reference_date DESC
), achieved AS (
  SELECT m.project_id,
         sum(m.achieved_value) FILTER (WHERE m.indicator = 'housing_units_fragile') AS housing,
         sum(m.achieved_value) FILTER (WHERE m.indicator = 'cultural_space_m2') AS cultural,
         sum(m.achieved_value) FILTER (WHERE m.indicator = 'community_space_m2') AS community,
         sum(m.achieved_value) FILTER (WHERE m.indicator = 'productive_space_m2') AS productive,
         sum(m.achieved_value) FILTER (WHERE m.indicator = 'regenerated_m2') AS regenerated
    FROM rigenera.milestones m JOIN sel ON sel.id = m.project_id
   WHERE m.kind = 'target'
   GROUP BY m.project_id
), overdue AS (
  SELECT d.project_id, count(*) AS n
    FROM rigenera.project_deadlines(current_date) d JOIN sel ON sel.id = d.project_id
   WHERE d.done_on IS NULL AND d.due_on < current_date
   GROUP BY d.project_id
), pg AS (
$project_groups
), lg AS (
$line_groups
), proj AS (
  SELECT pg.gkey, count(*) AS projects,
         sum(rigenera.share(s.total_cost_eur, pg.n, pg.k)) AS total_cost_eur,
         sum(rigenera.share(l.spent_eur, pg.n, pg.k)) AS spent_eur,
         sum(rigenera.share(l.paid_eur, pg.n, pg.k)) AS paid_eur,
         count(*) FILTER (WHERE l.project_id IS NOT NULL) AS projects_with_progress,
         sum(rigenera.share(s.housing_units_fragile, pg.n, pg.k, 1)) AS housing_units_fragile,
         sum(rigenera.share(s.cultural_space_m2, pg.n, pg.k)) AS cultural_space_m2,
         sum(rigenera.share(s.community_space_m2, pg.n, pg.k)) AS community_space_m2,
         sum(rigenera.share(s.productive_space_m2, pg.n, pg.k)) AS productive_space_m2,
         sum(rigenera.share(s.regenerated_m2, pg.n, pg.k)) AS regenerated_m2,
         sum(rigenera.share(a.housing, pg.n, pg.k, 1)) AS housing_units_fragile_achieved,
         sum(rigenera.share(a.cultural, pg.n, pg.k)) AS cultural_space_m2_achieved,
         sum(rigenera.share(a.community, pg.n, pg.k)) AS community_space_m2_achieved,
         sum(rigenera.share(a.productive, pg.n, pg.k)) AS productive_space_m2_achieved,
         sum(rigenera.share(a.regenerated, pg.n, pg.k)) AS regenerated_m2_achieved,
         coalesce(sum(o.n), 0) AS overdue_deadlines,
         count(o.project_id) AS projects_overdue
    FROM pg JOIN sel s ON s.id = pg.project_id
    LEFT JOIN latest l ON l.project_id = pg.project_id
    LEFT JOIN achieved a ON a.project_id = pg.project_id
    LEFT JOIN overdue o ON o.project_id = pg.project_id
   GROUP BY pg.gkey
), money AS (
  SELECT lg.gkey, count(*) AS funding_lines,
         count(*) FILTER (WHERE fl.amount_eur IS NULL) AS lines_without_amount,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k)), 0) AS requested_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k)) FILTER (WHERE fl.status = 'granted'), 0)
           AS granted_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k)) FILTER (WHERE fl.status = 'not_granted'), 0)
           AS not_granted_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k)) FILTER (WHERE fl.status = 'requested'), 0)
           AS pending_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k)) FILTER (WHERE fl.status = 'revoked'), 0)
           AS revoked_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k))
                    FILTER (WHERE fl.status = 'granted' AND fl.funding_source = 'pnrr'), 0) AS pnrr_granted_eur,
         coalesce(sum(rigenera.share(fl.amount_eur, lg.n, lg.k))
                    FILTER (WHERE fl.status = 'granted' AND fl.funding_source <> 'pnrr'), 0) AS other_granted_eur
    FROM lg JOIN rigenera.funding_lines fl ON fl.id = lg.line_id
   GROUP BY lg.gkey
)
SELECT coalesce(proj.gkey, money.gkey) AS gkey,
       coalesce(proj.projects, 0) AS projects,
       coalesce(proj.total_cost_eur, 0) AS total_cost_eur,
       coalesce(money.requested_eur, 0) AS requested_eur,
       coalesce(money.granted_eur, 0) AS granted_eur,
       coalesce(money.not_granted_eur, 0) AS not_granted_eur,
       coalesce(money.pending_eur, 0) AS pending_eur,
       coalesce(money.revoked_eur, 0) AS revoked_eur,
       coalesce(money.pnrr_granted_eur, 0) AS pnrr_granted_eur,
       coalesce(money.other_granted_eur, 0) AS other_granted_eur,
       coalesce(money.funding_lines, 0) AS funding_lines,
       coalesce(money.lines_without_amount, 0) AS lines_without_amount,
       coalesce(proj.spent_eur, 0) AS spent_eur,
       coalesce(proj.paid_eur, 0) AS paid_eur,
       coalesce(proj.projects_with_progress, 0) AS projects_with_progress,
       coalesce(proj.housing_units_fragile, 0) AS housing_units_fragile,
       coalesce(proj.housing_units_fragile_achieved, 0) AS housing_units_fragile_achieved,
       coalesce(proj.cultural_space_m2, 0) AS cultural_space_m2,
       coalesce(proj.cultural_space_m2_achieved, 0) AS cultural_space_m2_achieved,
       coalesce(proj.community_space_m2, 0) AS community_space_m2,
       coalesce(proj.community_space_m2_achieved, 0) AS community_space_m2_achieved,
       coalesce(proj.productive_space_m2, 0) AS productive_space_m2,
       coalesce(proj.productive_space_m2_achieved, 0) AS productive_space_m2_achieved,
       coalesce(proj.regenerated_m2, 0) AS regenerated_m2,
       coalesce(proj.regenerated_m2_achieved, 0) AS regenerated_m2_achieved,
       coalesce(proj.overdue_deadlines, 0) AS overdue_deadlines,
       coalesce(proj.projects_overdue, 0) AS projects_overdue
  FROM proj FULL JOIN money ON money.gkey = proj.gkey
 ORDER BY 1
