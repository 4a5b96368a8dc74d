-- The project a monitoring summary is about: identity, dates, cost, funding, comuni, phase.
SELECT p.id, p.title, p.cup, p.status, p.implementing_body, p.start_date, p.end_date,
       p.total_cost_eur,
       (SELECT sum(fl.amount_eur) FROM rigenera.funding_lines fl
         WHERE fl.project_id = p.id AND fl.status = 'granted') AS funding_granted_eur,
       coalesce((SELECT array_agg(pc.istat_code ORDER BY pc.istat_code)
                   FROM rigenera.project_comuni pc WHERE pc.project_id = p.id), '{}') AS istat_codes,
       pp.phase, pp.progress_date
  FROM rigenera.projects p
  JOIN rigenera.project_phase pp ON pp.project_id = p.id
 WHERE p.id = $1;
