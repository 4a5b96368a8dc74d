-- Issue 11, the shared ground: what monitoring, evaluation, calls/needs and reports
-- all read. Each room adds its own migrations on top (0017 onwards).
--
-- * progress_reports: periodic records per project (phase, physical progress, spent
--   and paid euros); the latest by reference_date is the project's current state.
-- * milestones: milestones and targets (with the outcome indicator they measure).
-- * tenders: CIG codes linked to a project (one row per project-CIG link: a CIG can
--   serve several projects and a project several CIGs).
-- * documents + document_requirements: attachments and what each phase requires.
-- * reporting_obligations + project_deadlines(): the reporting calendar.
-- * funding_assignments: yearly assignments of a funding line (DM 30/12/2021 all. 3).
-- * comuni.ivsm: the vulnerability index (IVSM, ISTAT 2018) the decree files carry.
-- * calls and needs: what matching a need to a call needs (beneficiaries, themes).
-- Every editable table keeps version/created/updated by rigenera.touch() and its
-- history by rigenera.record_history*(), like the other layers.

-- 1. History for tables without a geometry ------------------------------------------
-- record_history() (0010) blanks NEW.geom, which such a row does not have.
CREATE OR REPLACE FUNCTION rigenera.record_history_plain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text;
  old_doc jsonb;
  new_doc jsonb;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_doc := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_doc := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' AND old_doc = new_doc THEN
    RETURN NULL;
  END IF;
  op := coalesce(rigenera.setting('rigenera.operation'),
                 CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END);
  INSERT INTO rigenera.history (collection, feature_id, version, operation, actor, changeset,
                                comment, before, after, geom_before, geom_after)
  VALUES (TG_TABLE_NAME,
          coalesce(new_doc ->> 'id', old_doc ->> 'id'),
          coalesce((new_doc ->> 'version')::integer, (old_doc ->> 'version')::integer),
          op, rigenera.acting_user(),
          rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment'),
          old_doc, new_doc, NULL, NULL);
  RETURN NULL;
END $$;

-- The import engine's set-wise history (0012, with import_id), for tables with or
-- without a geometry.
CREATE OR REPLACE FUNCTION rigenera.record_import_history() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  op text := coalesce(rigenera.setting('rigenera.operation'),
                      CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update'
                                 ELSE 'delete' END);
  head text := 'INSERT INTO rigenera.history (collection, feature_id, version, operation, actor,'
               ' changeset, comment, before, after, geom_before, geom_after, import_id) ';
  imp bigint := nullif(rigenera.setting('rigenera.import_id'), '')::bigint;
  has_geom boolean := EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = TG_RELID
                                AND attname = 'geom' AND NOT attisdropped);
  og text := CASE WHEN has_geom THEN 'o.geom' ELSE 'NULL::geometry' END;
  ng text := CASE WHEN has_geom THEN 'n.geom' ELSE 'NULL::geometry' END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE head || format(
      'SELECT %L, n.id::text, n.version, $1, $2, $3, $4, NULL, to_jsonb(d), NULL, %s, $5'
      ' FROM n, LATERAL (SELECT %s) d',
      TG_TABLE_NAME, ng, rigenera.doc_columns(TG_RELID, 'n'))
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment'), imp;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE head || format(
      'SELECT %L, n.id::text, n.version, $1, $2, $3, $4, to_jsonb(od), to_jsonb(nd), %s, %s, $5'
      ' FROM o JOIN n ON n.id = o.id, LATERAL (SELECT %s) od, LATERAL (SELECT %s) nd'
      ' WHERE to_jsonb(od) <> to_jsonb(nd) OR %s IS DISTINCT FROM %s',
      TG_TABLE_NAME, og, ng, rigenera.doc_columns(TG_RELID, 'o'),
      rigenera.doc_columns(TG_RELID, 'n'), ng, og)
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment'), imp;
  ELSE
    EXECUTE head || format(
      'SELECT %L, o.id::text, o.version, $1, $2, $3, $4, to_jsonb(d), NULL, %s, NULL, $5'
      ' FROM o, LATERAL (SELECT %s) d',
      TG_TABLE_NAME, og, rigenera.doc_columns(TG_RELID, 'o'))
    USING op, rigenera.acting_user(), rigenera.setting('rigenera.changeset')::uuid,
          rigenera.setting('rigenera.comment'), imp;
  END IF;
  RETURN NULL;
END $$;

-- 2. Comuni: the vulnerability index ------------------------------------------------
ALTER TABLE rigenera.comuni
  ADD COLUMN ivsm numeric(9, 6) CONSTRAINT comuni_ivsm_nonneg CHECK (ivsm >= 0),
  ADD COLUMN ivsm_year smallint CONSTRAINT comuni_ivsm_year_range CHECK (ivsm_year BETWEEN 1990 AND 2100),
  ADD CONSTRAINT comuni_ivsm_year_given CHECK (ivsm IS NULL OR ivsm_year IS NOT NULL);

CREATE OR REPLACE VIEW pub.comuni AS
SELECT istat_code, name, cadastral_code, province_code, population,
       round(area_m2::numeric, 1)::double precision AS area_m2,
       source, version, updated_at, geom,
       ivsm::double precision AS ivsm, ivsm_year
FROM rigenera.comuni;

-- 3. Yearly assignments of a funding line ------------------------------------------
CREATE TABLE rigenera.funding_assignments (
  funding_line_id bigint NOT NULL REFERENCES rigenera.funding_lines (id) ON DELETE CASCADE,
  year            smallint NOT NULL
                  CONSTRAINT funding_assignments_year_range CHECK (year BETWEEN 2000 AND 2100),
  amount_eur      numeric(14, 2) NOT NULL
                  CONSTRAINT funding_assignments_amount_nonneg CHECK (amount_eur >= 0),
  PRIMARY KEY (funding_line_id, year)
);

-- 4. Calls and needs: what matching needs -------------------------------------------
-- Beneficiary kinds and themes share one vocabulary with needs.applicant / needs.category.
ALTER TABLE rigenera.calls
  ADD COLUMN eligible_beneficiaries text[] NOT NULL DEFAULT '{comune}'
    CONSTRAINT calls_eligible_beneficiaries_check CHECK (
      eligible_beneficiaries <@ ARRAY['comune', 'unione_comuni', 'citta_metropolitana',
        'ente_pubblico', 'terzo_settore', 'impresa', 'privato']::text[]),
  ADD CONSTRAINT calls_themes_check CHECK (
      themes <@ ARRAY['housing', 'culture', 'community', 'productive', 'mobility', 'green',
                      'services', 'other']::text[]),
  ADD CONSTRAINT calls_max_grant_within_budget CHECK (max_grant_eur <= budget_eur),
  ADD CONSTRAINT calls_eligible_istat_codes_format CHECK (
      array_to_string(eligible_istat_codes, ',') ~ '^([0-9]{6}(,[0-9]{6})*)?$');

ALTER TABLE rigenera.needs
  ADD COLUMN applicant text NOT NULL DEFAULT 'comune'
    CONSTRAINT needs_applicant_check CHECK (applicant IN ('comune', 'unione_comuni',
      'citta_metropolitana', 'ente_pubblico', 'terzo_settore', 'impresa', 'privato')),
  ADD COLUMN needed_by date,
  -- Who to phone about it: private (referents are never published).
  ADD COLUMN referent_id bigint REFERENCES rigenera.referents (id) ON DELETE SET NULL;

-- 5. Progress records ---------------------------------------------------------------
CREATE TABLE rigenera.progress_reports (
  id                    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id            bigint NOT NULL REFERENCES rigenera.projects (id) ON DELETE CASCADE,
  reference_date        date NOT NULL,  -- the last day of the period the record describes
  phase                 text NOT NULL
                        CONSTRAINT progress_reports_phase_check
                        CHECK (phase IN ('design', 'tender', 'works', 'testing', 'completed')),
  physical_progress_pct numeric(5, 2) NOT NULL DEFAULT 0
                        CONSTRAINT progress_reports_pct_range
                        CHECK (physical_progress_pct BETWEEN 0 AND 100),
  spent_eur             numeric(14, 2) CONSTRAINT progress_reports_spent_nonneg CHECK (spent_eur >= 0),
  paid_eur              numeric(14, 2) CONSTRAINT progress_reports_paid_nonneg CHECK (paid_eur >= 0),
  notes                 text,
  source                text NOT NULL,
  source_id             text,
  version               integer NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  created_by            text NOT NULL DEFAULT 'system',
  updated_at            timestamptz NOT NULL DEFAULT now(),
  updated_by            text NOT NULL DEFAULT 'system',
  CONSTRAINT progress_reports_period_unique UNIQUE (project_id, reference_date),
  CONSTRAINT progress_reports_source_id_unique UNIQUE (source, source_id)
);

-- 6. Milestones and targets -----------------------------------------------------------
-- A target measures an outcome: `indicator` names the project field it achieves
-- (housing_units_fragile, ...), or 'other' with a free unit.
CREATE TABLE rigenera.milestones (
  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id      bigint NOT NULL REFERENCES rigenera.projects (id) ON DELETE CASCADE,
  kind            text NOT NULL DEFAULT 'milestone'
                  CONSTRAINT milestones_kind_check CHECK (kind IN ('milestone', 'target')),
  title           text NOT NULL CONSTRAINT milestones_title_required CHECK (btrim(title) <> ''),
  planned_date    date NOT NULL,
  actual_date     date,
  indicator       text CONSTRAINT milestones_indicator_check CHECK (indicator IN (
                    'housing_units_fragile', 'cultural_space_m2', 'community_space_m2',
                    'productive_space_m2', 'regenerated_m2', 'other')),
  unit            text,
  planned_value   numeric(14, 2) CONSTRAINT milestones_planned_value_nonneg CHECK (planned_value >= 0),
  achieved_value  numeric(14, 2) CONSTRAINT milestones_achieved_value_nonneg CHECK (achieved_value >= 0),
  notes           text,
  source          text NOT NULL,
  source_id       text,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  created_by      text NOT NULL DEFAULT 'system',
  updated_at      timestamptz NOT NULL DEFAULT now(),
  updated_by      text NOT NULL DEFAULT 'system',
  CONSTRAINT milestones_target_measured CHECK (
    kind = 'milestone' OR (indicator IS NOT NULL AND planned_value IS NOT NULL)),
  CONSTRAINT milestones_unit_given CHECK (indicator IS DISTINCT FROM 'other' OR btrim(unit) <> ''),
  CONSTRAINT milestones_source_id_unique UNIQUE (source, source_id)
);
CREATE INDEX milestones_project ON rigenera.milestones (project_id);

-- 7. Tenders (CIG) ----------------------------------------------------------------------
CREATE TABLE rigenera.tenders (
  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id  bigint NOT NULL REFERENCES rigenera.projects (id) ON DELETE CASCADE,
  cig         text NOT NULL CONSTRAINT tenders_cig_format CHECK (cig ~ '^[0-9A-Z]{10}$'),
  description text,
  amount_eur  numeric(14, 2) CONSTRAINT tenders_amount_nonneg CHECK (amount_eur >= 0),
  award_date  date,
  contractor  text,
  source      text NOT NULL,
  source_id   text,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL DEFAULT 'system',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL DEFAULT 'system',
  CONSTRAINT tenders_project_cig_unique UNIQUE (project_id, cig),
  CONSTRAINT tenders_source_id_unique UNIQUE (source, source_id)
);
CREATE INDEX tenders_cig ON rigenera.tenders (cig);

-- 8. Documents and what each phase requires ----------------------------------------------
CREATE TABLE rigenera.documents (
  id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  project_id     bigint NOT NULL REFERENCES rigenera.projects (id) ON DELETE CASCADE,
  kind           text NOT NULL CONSTRAINT documents_kind_check CHECK (kind IN (
                   'progress_report', 'dnsh_checklist', 'expense_statement', 'photo',
                   'tender_act', 'testing_certificate', 'other')),
  phase          text CONSTRAINT documents_phase_check
                 CHECK (phase IN ('design', 'tender', 'works', 'testing', 'completed')),
  reference_date date,  -- the period the document covers (reporting calendar)
  title          text NOT NULL CONSTRAINT documents_title_required CHECK (btrim(title) <> ''),
  file_name      text NOT NULL CONSTRAINT documents_file_name_required CHECK (btrim(file_name) <> ''),
  media_type     text NOT NULL CONSTRAINT documents_media_type_check
                 CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  size_bytes     bigint NOT NULL CONSTRAINT documents_size_positive CHECK (size_bytes > 0),
  sha256         text NOT NULL CONSTRAINT documents_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  storage_key    text NOT NULL CONSTRAINT documents_storage_key_unique UNIQUE,
  source         text NOT NULL,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  created_by     text NOT NULL DEFAULT 'system',
  updated_at     timestamptz NOT NULL DEFAULT now(),
  updated_by     text NOT NULL DEFAULT 'system'
);
CREATE INDEX documents_project ON rigenera.documents (project_id);

CREATE TABLE rigenera.document_requirements (
  phase text NOT NULL CONSTRAINT document_requirements_phase_check
        CHECK (phase IN ('design', 'tender', 'works', 'testing', 'completed')),
  kind  text NOT NULL CONSTRAINT document_requirements_kind_check CHECK (kind IN (
          'progress_report', 'dnsh_checklist', 'expense_statement', 'photo',
          'tender_act', 'testing_certificate', 'other')),
  PRIMARY KEY (phase, kind)
);
-- DNSH checklists ex ante (design) and ex post (completion); the tender's acts; works
-- documented by progress reports, photos and expense statements; testing certified.
INSERT INTO rigenera.document_requirements (phase, kind) VALUES
  ('design', 'dnsh_checklist'),
  ('tender', 'tender_act'),
  ('works', 'progress_report'), ('works', 'photo'), ('works', 'expense_statement'),
  ('testing', 'testing_certificate'),
  ('completed', 'dnsh_checklist'), ('completed', 'expense_statement'), ('completed', 'photo');

-- 9. The reporting calendar ------------------------------------------------------------------
-- Recurring obligations of an implementing body, per funding source. A period is
-- `every_months` long, aligned on the calendar (months, quarters, ...); its obligation
-- is due on day `due_day` of the month after it; it is met by a progress record
-- (evidence 'progress_report') or a document of that kind covering the period.
CREATE TABLE rigenera.reporting_obligations (
  code           text PRIMARY KEY,
  title_it       text NOT NULL,
  title_en       text NOT NULL,
  funding_source text NOT NULL,
  every_months   smallint NOT NULL
                 CONSTRAINT reporting_obligations_every_check CHECK (every_months IN (1, 2, 3, 4, 6, 12)),
  due_day        smallint NOT NULL
                 CONSTRAINT reporting_obligations_due_day_range CHECK (due_day BETWEEN 1 AND 28),
  evidence       text NOT NULL
);
INSERT INTO rigenera.reporting_obligations VALUES
  ('regis_monthly', 'Aggiornamento mensile dei dati di avanzamento su ReGiS',
   'Monthly progress data entry on ReGiS', 'pnrr', 1, 20, 'progress_report'),
  ('expense_report', 'Rendicontazione periodica delle spese',
   'Periodic expense report', 'pnrr', 3, 20, 'expense_statement');

-- Every period of every obligation of every project under way, from the period holding
-- the project's start_date to the one holding its completion (the first progress record
-- in phase 'completed') or, while it runs, `horizon`. A project is under way when it
-- has a start_date, is not rejected and has a granted funding line of the obligation's
-- source. `done_on` is the day the first evidence for the period was recorded.
CREATE OR REPLACE FUNCTION rigenera.project_deadlines(horizon date DEFAULT current_date)
RETURNS TABLE (project_id bigint, obligation text, period_start date, period_end date,
               due_on date, done_on date)
LANGUAGE sql STABLE AS $$
  WITH active AS (
    SELECT p.id, p.start_date,
           coalesce((SELECT min(r.reference_date) FROM rigenera.progress_reports r
                      WHERE r.project_id = p.id AND r.phase = 'completed'), horizon) AS last_day
      FROM rigenera.projects p
     WHERE p.start_date IS NOT NULL AND p.status <> 'rejected'
  ), periods AS (
    SELECT a.id, o.code, o.due_day, o.evidence, ps::date AS period_start,
           (ps + make_interval(months => o.every_months) - interval '1 day')::date AS period_end
      FROM active a
      JOIN rigenera.reporting_obligations o
        ON EXISTS (SELECT 1 FROM rigenera.funding_lines fl
                    WHERE fl.project_id = a.id AND fl.funding_source = o.funding_source
                      AND fl.status = 'granted')
     CROSS JOIN LATERAL generate_series(
             make_date(extract(year FROM a.start_date)::int,
                       (extract(month FROM a.start_date)::int - 1) / o.every_months
                         * o.every_months + 1, 1)::timestamp,
             a.last_day::timestamp, make_interval(months => o.every_months)) ps
  )
  SELECT pr.id, pr.code, pr.period_start, pr.period_end,
         pr.period_end + pr.due_day AS due_on,
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
$$;

-- 10. Touch and history on the new editable tables --------------------------------------
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['progress_reports', 'milestones', 'tenders', 'documents'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON rigenera.%I'
                   ' FOR EACH ROW EXECUTE FUNCTION rigenera.touch()', t || '_touch', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['progress_reports', 'milestones', 'tenders', 'documents', 'calls'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON rigenera.%I'
                   ' FOR EACH ROW WHEN (rigenera.setting(''rigenera.import'') IS DISTINCT FROM ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_history_plain()', t || '_history', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['needs'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON rigenera.%I'
                   ' FOR EACH ROW WHEN (rigenera.setting(''rigenera.import'') IS DISTINCT FROM ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_history()', t || '_history', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF geom ON rigenera.%I'
                   ' FOR EACH ROW WHEN (rigenera.setting(''rigenera.import'') IS DISTINCT FROM ''on'')'
                   ' EXECUTE FUNCTION rigenera.check_in_area()', t || '_in_area', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['progress_reports', 'milestones', 'tenders', 'calls', 'needs'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON rigenera.%I REFERENCING NEW TABLE AS n'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON rigenera.%I'
                   ' REFERENCING OLD TABLE AS o NEW TABLE AS n'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_upd', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON rigenera.%I REFERENCING OLD TABLE AS o'
                   ' FOR EACH STATEMENT WHEN (rigenera.setting(''rigenera.import'') = ''on'')'
                   ' EXECUTE FUNCTION rigenera.record_import_history()', t || '_history_import_del', t);
  END LOOP;
END $$;

-- 11. A technician's reach over the new tables -----------------------------------------------
-- A need: its comune and geometry. A project's record (progress, milestone, tender,
-- document): the reach of its project. Calls are the office's (no technician writes them).
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.needs, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT rigenera.reach_problems(codes, f.geom, f.istat_code)
$$;
CREATE OR REPLACE FUNCTION rigenera.project_reach_problems(pid bigint, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT jsonb_agg(jsonb_build_object('field', 'project_id', 'reason', e ->> 'reason'))
       FROM rigenera.projects p, jsonb_array_elements(rigenera.reach_problems(p, codes)) e
      WHERE p.id = pid),
    CASE WHEN EXISTS (SELECT 1 FROM rigenera.projects WHERE id = pid) THEN '[]'::jsonb
         ELSE jsonb_build_array(jsonb_build_object('field', 'project_id', 'reason',
                format('progetto %s inesistente / no project %s', pid, pid))) END)
$$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.progress_reports, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT rigenera.project_reach_problems(f.project_id, codes) $$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.milestones, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT rigenera.project_reach_problems(f.project_id, codes) $$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.tenders, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT rigenera.project_reach_problems(f.project_id, codes) $$;
CREATE OR REPLACE FUNCTION rigenera.reach_problems(f rigenera.documents, codes text[])
RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT rigenera.project_reach_problems(f.project_id, codes) $$;

-- 12. The project's current state, on the map and in the reports --------------------------
CREATE INDEX progress_reports_latest ON rigenera.progress_reports (project_id, reference_date DESC);

CREATE OR REPLACE VIEW pub.projects AS
SELECT p.id, p.title, p.description, p.cup, p.implementing_body, p.status,
       p.start_date, p.end_date, p.total_cost_eur::double precision AS total_cost_eur,
       f.funding_requested_eur, f.funding_granted_eur, f.pnrr_granted_eur, f.programme_codes,
       c.istat_codes, s.site_ids,
       p.housing_units_fragile, p.cultural_space_m2::double precision AS cultural_space_m2,
       p.community_space_m2::double precision AS community_space_m2,
       p.productive_space_m2::double precision AS productive_space_m2,
       p.regenerated_m2::double precision AS regenerated_m2,
       p.geom_source, p.source, p.source_id, p.validation_status, p.version, p.updated_at, p.geom,
       p.geometry_kind, p.cup_status, p.scope, f.funding_approx,
       r.phase, r.physical_progress_pct::double precision AS physical_progress_pct,
       r.spent_eur::double precision AS spent_eur, r.paid_eur::double precision AS paid_eur,
       r.reference_date AS progress_date
FROM rigenera.projects p
LEFT JOIN LATERAL (
  SELECT sum(amount_eur)::double precision AS funding_requested_eur,
         (sum(amount_eur) FILTER (WHERE status = 'granted'))::double precision AS funding_granted_eur,
         (sum(amount_eur) FILTER (WHERE status = 'granted' AND funding_source = 'pnrr'))::double precision
           AS pnrr_granted_eur,
         array_remove(array_agg(DISTINCT programme_code ORDER BY programme_code), NULL) AS programme_codes,
         bool_or(amount_approx) AS funding_approx
  FROM rigenera.funding_lines fl WHERE fl.project_id = p.id
) f ON true
LEFT JOIN LATERAL (
  SELECT array_agg(pc.istat_code ORDER BY pc.istat_code) AS istat_codes
  FROM rigenera.project_comuni pc WHERE pc.project_id = p.id
) c ON true
LEFT JOIN LATERAL (
  SELECT array_agg(ps.site_id ORDER BY ps.site_id) AS site_ids
  FROM rigenera.project_sites ps WHERE ps.project_id = p.id
) s ON true
LEFT JOIN LATERAL (
  SELECT pr.phase, pr.physical_progress_pct, pr.spent_eur, pr.paid_eur, pr.reference_date
  FROM rigenera.progress_reports pr WHERE pr.project_id = p.id
  ORDER BY pr.reference_date DESC LIMIT 1
) r ON true;
