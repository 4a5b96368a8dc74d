-- Deadlines not yet met, due from today to $1 (inclusive); filters: comune ($2),
-- obligation ($3), project ($4).
SELECT d.project_id, p.title, p.cup, coalesce(c.istat_codes, '{}') AS istat_codes,
       d.obligation, o.title_it, o.title_en, d.period_start, d.period_end, d.due_on,
       d.done_on, d.due_on - current_date AS days_left
  FROM rigenera.project_deadlines($1::date) d
  JOIN rigenera.projects p ON p.id = d.project_id
  JOIN rigenera.reporting_obligations o ON o.code = d.obligation
  LEFT JOIN LATERAL (SELECT array_agg(pc.istat_code ORDER BY pc.istat_code) AS istat_codes
                       FROM rigenera.project_comuni pc WHERE pc.project_id = p.id) c ON true
 WHERE d.done_on IS NULL AND d.due_on BETWEEN current_date AND $1::date
   AND ($2::text IS NULL OR $2::text = ANY (c.istat_codes))
   AND ($3::text IS NULL OR d.obligation = $3::text)
   AND ($4::bigint IS NULL OR d.project_id = $4::bigint)
 ORDER BY d.due_on, d.project_id, d.obligation;
