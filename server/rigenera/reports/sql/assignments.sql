-- The yearly assignments (rigenera.funding_assignments) of the report's projects.
WITH $selection
SELECT fa.year, count(DISTINCT fl.project_id) AS projects, count(*) AS funding_lines,
       sum(fa.amount_eur) AS assigned_eur
  FROM rigenera.funding_assignments fa
  JOIN rigenera.funding_lines fl ON fl.id = fa.funding_line_id
  JOIN sel ON sel.id = fl.project_id
 GROUP BY fa.year
 ORDER BY fa.year
