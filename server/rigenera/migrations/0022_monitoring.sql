-- Issue 11, monitoring: the reporting calendar refined, a project's phase and its missing
-- documents as views (the checklist, the reports and the evaluation read the same rule).
--
-- project_deadlines() of 0016, checked against the issue ("monthly data entry by the
-- 20th of the following month, the periodic expense report"): the periods and due days
-- were right (period_end + 20 = the 20th of the next month; quarters aligned on the
-- calendar, the expense report due on the 20th after the quarter). Refined here:
--  1. `horizon` bounds the periods also of a project completed after it: a calendar
--     "as of" a day never lists periods that start after that day (0016 ran them to the
--     completion, so the same call gave a different list before and after completion).
--  2. A project whose status says it is finished ('completed', 'in_use') with an
--     end_date but no progress record in phase 'completed' (imported from ReGiS or the
--     decree files) ends on its end_date; 0016 kept its obligations running, overdue
--     forever, and the office would phone comuni about works closed years ago.
--  3. A project without a start_date but with progress records is under way from its first
--     record's period: the real ReGiS and DM 30/12/2021 projects carry no start date
--     (421 projects, none with one, at the time of writing), so records entered for them
--     would otherwise owe nothing. Without either, nothing is computed (no date invented).
-- The signature is 0016's (CREATE OR REPLACE): views or functions of other rooms built on
-- it keep working. "Late" (done after due_on) is done_on > due_on, left to the callers.

CREATE OR REPLACE FUNCTION rigenera.project_deadlines(horizon date DEFAULT current_date)
RETURNS TABLE (project_id bigint, obligation text, period_start date, period_end date,
               due_on date, done_on date)
LANGUAGE sql STABLE AS $$
  WITH active AS (
    SELECT p.id,
           coalesce(p.start_date, (SELECT min(r.reference_date) FROM rigenera.progress_reports r
                                    WHERE r.project_id = p.id)) AS start_date,
           least(coalesce(
             (SELECT min(r.reference_date) FROM rigenera.progress_reports r
               WHERE r.project_id = p.id AND r.phase = 'completed'),
             CASE WHEN p.status IN ('completed', 'in_use') THEN p.end_date END,
             horizon), horizon) AS last_day
      FROM rigenera.projects p
     WHERE p.status <> 'rejected'
  ), periods AS (
    SELECT a.id, o.code, o.due_day, o.evidence, ps::date AS period_start,
           (ps + make_interval(months => o.every_months) - interval '1 day')::date AS period_end
      FROM active a
      JOIN rigenera.reporting_obligations o
        ON a.start_date IS NOT NULL
       AND EXISTS (SELECT 1 FROM rigenera.funding_lines fl
                    WHERE fl.project_id = a.id AND fl.funding_source = o.funding_source
                      AND fl.status = 'granted')
     CROSS JOIN LATERAL generate_series(
             make_date(extract(year FROM a.start_date)::int,
                       (extract(month FROM a.start_date)::int - 1) / o.every_months
                         * o.every_months + 1, 1)::timestamp,
             a.last_day::timestamp, make_interval(months => o.every_months)) ps
  ), done AS (
    SELECT pr.*, pr.period_end + pr.due_day AS due_on,
           CASE WHEN pr.evidence = 'progress_report' THEN
             (SELECT min(r.created_at)::date FROM rigenera.progress_reports r
               WHERE r.project_id = pr.id
                 AND r.reference_date BETWEEN pr.period_start AND pr.period_end)
           ELSE
             (SELECT min(d.created_at)::date FROM rigenera.documents d
               WHERE d.project_id = pr.id AND d.kind = pr.evidence
                 AND d.reference_date BETWEEN pr.period_start AND pr.period_end)
           END AS done_on
      FROM periods pr
  )
  SELECT d.id, d.code, d.period_start, d.period_end, d.due_on, d.done_on
    FROM done d
$$;

COMMENT ON FUNCTION rigenera.project_deadlines(date) IS
  'Every reporting period of every project under way up to horizon (0016, refined in 0022): '
  'due_on = the due_day of the month after the period; done_on = first evidence recorded; '
  'late when done_on > due_on.';

-- Evidence of an expense report is looked up by project, kind and period.
CREATE INDEX IF NOT EXISTS documents_project_kind_date
  ON rigenera.documents (project_id, kind, reference_date);

-- A project's current phase: its latest progress record's, 'design' without one.
CREATE OR REPLACE VIEW rigenera.project_phase AS
SELECT p.id AS project_id,
       coalesce(r.phase, 'design') AS phase,
       r.reference_date AS progress_date
  FROM rigenera.projects p
  LEFT JOIN LATERAL (
    SELECT pr.phase, pr.reference_date FROM rigenera.progress_reports pr
     WHERE pr.project_id = p.id ORDER BY pr.reference_date DESC LIMIT 1) r ON true;

-- The phases in their order (design first), for "every phase up to the current one".
CREATE OR REPLACE FUNCTION rigenera.phase_rank(phase text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT array_position(ARRAY['design', 'tender', 'works', 'testing', 'completed'], phase)
$$;

-- What each project still misses: for each phase up to its current one, every required
-- kind without a document of that kind filed under that phase.
CREATE OR REPLACE VIEW rigenera.missing_documents AS
SELECT pp.project_id, rq.phase, rq.kind
  FROM rigenera.project_phase pp
  JOIN rigenera.document_requirements rq
    ON rigenera.phase_rank(rq.phase) <= rigenera.phase_rank(pp.phase)
 WHERE NOT EXISTS (SELECT 1 FROM rigenera.documents d
                    WHERE d.project_id = pp.project_id AND d.phase = rq.phase
                      AND d.kind = rq.kind);
