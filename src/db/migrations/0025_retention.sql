-- 0025: retention (docs/RETENTION.md; DESIGN.md section 8). Three moves, made by `rempart retention
-- run` and by the server once a day (src/retention):
--
--  - archive: a deregistered person leaves search and partner access after a configurable period.
--    Their blind indexes move from `persons` to `person_archive`, which no search reads: a search
--    by NIR, agency id or name finds nothing, whatever the role, because the hashes are not where
--    it looks. Only the archivist (pension proofs) looks in `person_archive`, and row-level
--    security opens archived rows to that role alone, inside a transaction the gate opened for
--    the archive.
--  - destroy: 20 years after deregistration (article R.5312-44 of the labour code), or when a
--    candidate-only space has been inactive past its period, the person is crypto-shredded: the
--    wrapped data key and the sealed record are erased, the blind indexes removed, the periods,
--    caseloads and portal rows deleted. What stays is a tombstone (id, status 'destroyed', date)
--    that the audit log's events and the incidents' proofs still point to, and that nothing can
--    decrypt: the ciphertexts that remain elsewhere (a notice's text) were under the erased key.
--  - the run itself: one row per run in `retention_runs`, with its counts (the DPO's report).

ALTER TABLE persons DROP CONSTRAINT persons_status_check;
ALTER TABLE persons ADD CONSTRAINT persons_status_check
  CHECK (status IN ('registered', 'deregistered', 'candidate', 'archived', 'destroyed'));
ALTER TABLE persons ADD COLUMN archived_on date;
ALTER TABLE persons ADD COLUMN destroyed_on date;
ALTER TABLE persons ALTER COLUMN kek_id DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN wrapped_key DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN sealed DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN bi_key_id DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN agency_id_bi DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN nir_bi DROP NOT NULL;
ALTER TABLE persons ALTER COLUMN name_birth_bi DROP NOT NULL;

-- The archive's own indexes: the only place an archived person can be looked up.
CREATE TABLE person_archive (
  person_id uuid PRIMARY KEY REFERENCES persons (id),
  archived_on date NOT NULL,
  bi_key_id text NOT NULL,
  agency_id_bi bytea NOT NULL,
  nir_bi bytea NOT NULL,
  name_birth_bi bytea NOT NULL,
  birth_name_birth_bi bytea
);
CREATE UNIQUE INDEX person_archive_nir_bi ON person_archive (nir_bi);
CREATE UNIQUE INDEX person_archive_agency_id_bi ON person_archive (agency_id_bi);
CREATE INDEX person_archive_name_birth_bi ON person_archive (name_birth_bi);
CREATE INDEX person_archive_birth_name_birth_bi ON person_archive (birth_name_birth_bi)
  WHERE birth_name_birth_bi IS NOT NULL;
GRANT SELECT, INSERT, DELETE ON person_archive TO rempart_app;

-- Archived persons written before this migration (by an import) move to the archive now.
INSERT INTO person_archive (person_id, archived_on, bi_key_id, agency_id_bi, nir_bi, name_birth_bi,
    birth_name_birth_bi)
  SELECT p.id, coalesce((SELECT max(r.ended_on) FROM registration_periods r WHERE r.person_id = p.id), current_date),
    p.bi_key_id, p.agency_id_bi, p.nir_bi, p.name_birth_bi, p.birth_name_birth_bi
  FROM persons p WHERE p.status = 'archived';
UPDATE persons SET archived_on = (SELECT a.archived_on FROM person_archive a WHERE a.person_id = persons.id),
    agency_id_bi = NULL, nir_bi = NULL, name_birth_bi = NULL, birth_name_birth_bi = NULL
  WHERE status = 'archived';

-- A live record has its key, its sealed identity and (unless archived) its search indexes; a
-- destroyed one has none of them.
ALTER TABLE persons ADD CONSTRAINT persons_keys_by_status CHECK (
  CASE status
    WHEN 'destroyed' THEN kek_id IS NULL AND wrapped_key IS NULL AND sealed IS NULL AND bi_key_id IS NULL
      AND agency_id_bi IS NULL AND nir_bi IS NULL AND name_birth_bi IS NULL
      AND birth_name_birth_bi IS NULL AND email_bi IS NULL AND destroyed_on IS NOT NULL
    WHEN 'archived' THEN kek_id IS NOT NULL AND wrapped_key IS NOT NULL AND sealed IS NOT NULL
      AND agency_id_bi IS NULL AND nir_bi IS NULL AND name_birth_bi IS NULL AND birth_name_birth_bi IS NULL
    ELSE kek_id IS NOT NULL AND wrapped_key IS NOT NULL AND sealed IS NOT NULL AND bi_key_id IS NOT NULL
      AND agency_id_bi IS NOT NULL AND nir_bi IS NOT NULL AND name_birth_bi IS NOT NULL
  END
);
ALTER TABLE person_archive ENABLE ROW LEVEL SECURITY;
ALTER TABLE person_archive FORCE ROW LEVEL SECURITY;
CREATE POLICY person_archive_system ON person_archive TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
CREATE POLICY person_archive_archivist ON person_archive FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'archivist' AND rempart_scope() = 'archive');

-- The archivist: pension proofs of archived persons, and nothing else (a role of the national
-- organisation; src/access/policy.ts).
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
  CHECK (role IN ('counselor', 'partner_counselor', 'subcontractor_operator', 'helpdesk', 'org_manager',
                  'security_officer', 'dpo', 'administrator', 'archivist'));
CREATE OR REPLACE FUNCTION rempart_default_purposes(kind text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'agency' THEN ARRAY['accompaniment', 'payment', 'pension_proof']
    WHEN 'cap_emploi' THEN ARRAY['accompaniment']
    WHEN 'mission_locale' THEN ARRAY['accompaniment']
    WHEN 'training_body' THEN ARRAY['accompaniment']
    WHEN 'subcontractor' THEN ARRAY['work_item']
    WHEN 'national' THEN ARRAY['incident_investigation', 'data_subject_request', 'pension_proof']
    ELSE ARRAY[]::text[]
  END
$$;
UPDATE organisations SET purposes = array_append(purposes, 'pension_proof')
  WHERE kind = 'national' AND NOT ('pension_proof' = ANY (purposes));

-- Persons, per role, again: archived and destroyed persons are out of every everyday scope and of
-- national reads; archived ones open to the archivist inside an archive read only.
DROP POLICY persons_staff ON persons;
CREATE POLICY persons_staff ON persons FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'staff'
    AND CASE rempart_role()
      WHEN 'counselor' THEN status IN ('registered', 'deregistered', 'candidate') AND (
        agency_organisation_id = rempart_org_id() OR rempart_scope() = 'national' OR rempart_in_caseload(id))
      WHEN 'partner_counselor' THEN status IN ('registered', 'deregistered', 'candidate') AND rempart_in_caseload(id)
      WHEN 'security_officer' THEN status IN ('registered', 'deregistered', 'candidate') AND rempart_scope() = 'national'
      WHEN 'dpo' THEN status IN ('registered', 'deregistered', 'candidate') AND rempart_scope() = 'national'
      WHEN 'archivist' THEN status = 'archived' AND rempart_scope() = 'archive'
      ELSE false
    END
  );
DROP POLICY persons_staff_update ON persons;
CREATE POLICY persons_staff_update ON persons FOR UPDATE TO rempart_app
  USING (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND status IN ('registered', 'deregistered', 'candidate')
    AND (agency_organisation_id = rempart_org_id() OR rempart_in_caseload(id))
  )
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND status IN ('registered', 'deregistered', 'candidate')
    AND (agency_organisation_id = rempart_org_id() OR rempart_in_caseload(id))
  );

-- Destruction deletes what belonged to the person alone (system actor only, under the policies
-- these tables already have).
GRANT DELETE ON registration_periods, caseloads, person_sessions, person_login_challenges, person_receipts
  TO rempart_app;

-- One row per run, with what it did (or, dry, would do).
CREATE TABLE retention_runs (
  id uuid PRIMARY KEY,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  -- the day the periods are counted back from
  as_of date NOT NULL,
  dry_run boolean NOT NULL,
  -- 'cli' (rempart retention run) or 'server' (the daily job)
  trigger text NOT NULL CHECK (trigger IN ('cli', 'server')),
  -- the periods in force: {archiveMonths, destroyYears, candidateMonths}
  periods jsonb NOT NULL,
  -- counts per action: {archive, destroy, expire_candidate}
  actions jsonb,
  persons_scanned bigint
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);
-- The server's run of a day happens once, whichever of several server processes starts it first.
CREATE UNIQUE INDEX retention_runs_daily ON retention_runs (as_of) WHERE trigger = 'server' AND NOT dry_run;
GRANT SELECT, INSERT, UPDATE ON retention_runs TO rempart_app;
ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY retention_runs_system ON retention_runs TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
