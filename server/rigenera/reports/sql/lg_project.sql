  -- a funding line follows its project's groups, its amount shared like the project's.
  SELECT fl.id AS line_id, pg.gkey, pg.n, pg.k
    FROM rigenera.funding_lines fl JOIN pg ON pg.project_id = fl.project_id
