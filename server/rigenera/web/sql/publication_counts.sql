-- Projects per publication state (no row: draft), for the list's and the home's figures.
SELECT coalesce(pp.state, 'draft') AS state, count(*) AS n
  FROM rigenera.projects p
  LEFT JOIN rigenera.project_publication pp ON pp.project_id = p.id
 GROUP BY 1;
