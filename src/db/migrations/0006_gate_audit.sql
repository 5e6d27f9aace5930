-- 0006: the gate's second wall (per-role row-level security on persons) and the audit log
-- (DESIGN.md sections 3 and 7): events written in the same transaction as the read they record,
-- append-only for everyone, folded by a single sequencer into an RFC 6962 Merkle tree whose signed
-- checkpoints are published outside the database.

-- The actor's role and the scope the gate opened for this transaction ('national' only when the
-- policy allowed a justified national read); both die with the transaction (SET LOCAL semantics).
CREATE FUNCTION rempart_role() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('rempart.role', true), '') $$;
CREATE FUNCTION rempart_scope() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('rempart.scope', true), '') $$;
CREATE FUNCTION rempart_account_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('rempart.account_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION rempart_role(), rempart_scope(), rempart_account_id() TO rempart_app;

-- The purposes an organisation's agents may declare, by kind (src/access/purposes.ts holds the list
-- and which roles may use each; a test keeps the two in step). Filled in when none are given.
CREATE FUNCTION rempart_default_purposes(kind text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'agency' THEN ARRAY['accompaniment', 'payment', 'pension_proof']
    WHEN 'cap_emploi' THEN ARRAY['accompaniment']
    WHEN 'mission_locale' THEN ARRAY['accompaniment']
    WHEN 'training_body' THEN ARRAY['accompaniment']
    WHEN 'subcontractor' THEN ARRAY['work_item']
    WHEN 'national' THEN ARRAY['incident_investigation', 'data_subject_request']
    ELSE ARRAY[]::text[]
  END
$$;
CREATE FUNCTION organisations_default_purposes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.purposes = '{}' THEN
    NEW.purposes := rempart_default_purposes(NEW.kind);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER organisations_default_purposes BEFORE INSERT ON organisations
  FOR EACH ROW EXECUTE FUNCTION organisations_default_purposes();
UPDATE organisations SET purposes = rempart_default_purposes(kind) WHERE purposes = '{}';

-- Persons, per role (the gate's policy, src/access/policy.ts, decides first; this is the wall
-- behind it). Counselors: their agency's persons and their organisation's current caseload, and
-- any person only inside a transaction the gate opened as a justified national read. Partner
-- counselors: their organisation's current caseload, nothing else, whatever the gate says. Security
-- officers and the DPO: only inside a justified national read. Every other role: nothing.
CREATE FUNCTION rempart_in_caseload(person uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM caseloads c
    WHERE c.person_id = person AND c.organisation_id = rempart_org_id()
      AND (c.until IS NULL OR c.until >= current_date)
  )
$$;
GRANT EXECUTE ON FUNCTION rempart_in_caseload(uuid) TO rempart_app;

DROP POLICY persons_staff ON persons;
CREATE POLICY persons_staff ON persons FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'staff'
    AND CASE rempart_role()
      WHEN 'counselor' THEN
        agency_organisation_id = rempart_org_id() OR rempart_scope() = 'national' OR rempart_in_caseload(id)
      WHEN 'partner_counselor' THEN rempart_in_caseload(id)
      WHEN 'security_officer' THEN rempart_scope() = 'national'
      WHEN 'dpo' THEN rempart_scope() = 'national'
      ELSE false
    END
  );
-- Contact details: counselors, on the persons of their agency and caseload only.
CREATE POLICY persons_staff_update ON persons FOR UPDATE TO rempart_app
  USING (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND (agency_organisation_id = rempart_org_id() OR rempart_in_caseload(id))
  )
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND (agency_organisation_id = rempart_org_id() OR rempart_in_caseload(id))
  );

-- The audit log. One event per decision of the gate (allowed or refused): who (account,
-- organisation, role, session), why (purpose, justification), what (action, query shape: the
-- filters used, never their values), the decision and the number of results.
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('staff', 'system')),
  account_id uuid,
  organisation_id uuid,
  role text,
  -- the first 16 hex digits of SHA-256 of the session's id hash: links the events of one session
  session_ref text,
  request_id text NOT NULL,
  source_address text,
  purpose text,
  action text NOT NULL,
  query jsonb NOT NULL DEFAULT '{}',
  -- a national read's written justification (scored by the guard, reviewed by security officers)
  justification text,
  decision text NOT NULL CHECK (decision IN ('allow', 'deny')),
  reason text,
  result_count integer NOT NULL DEFAULT 0 CHECK (result_count >= 0),
  CHECK (actor_kind = 'system' OR account_id IS NOT NULL)
);
CREATE INDEX audit_events_account ON audit_events (account_id, occurred_at);
CREATE INDEX audit_events_organisation ON audit_events (organisation_id, occurred_at);

-- One row per person whose data an event returned (or changed), with the fields. The account and
-- time are repeated from the event so that "what did these accounts see in this window" (breach
-- scope, T7) and "who saw this person" (the person's history) are index range scans.
-- No foreign key: the rows are written in the same statement as their event, the leaf hash covers
-- them, and `rempart audit verify` checks each against its event.
CREATE TABLE audit_event_persons (
  event_id bigint NOT NULL,
  person_id uuid NOT NULL,
  fields text[] NOT NULL,
  account_id uuid,
  organisation_id uuid,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, person_id)
);
CREATE INDEX audit_event_persons_account ON audit_event_persons (account_id, occurred_at);
CREATE INDEX audit_event_persons_person ON audit_event_persons (person_id, occurred_at);

-- Events not yet sequenced: the only audit table from which rows are deleted, by the sequencer.
CREATE TABLE audit_pending (event_id bigint PRIMARY KEY);

-- The Merkle tree: leaf `seq` is SHA-256(0x00 ‖ canonical event `event_id`) (src/audit/leaf.ts);
-- audit_nodes holds the root of every complete subtree (level ≥ 1: 2^level leaves starting at
-- idx · 2^level), so proofs are O(log n) reads.
CREATE TABLE audit_leaves (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  event_id bigint NOT NULL UNIQUE,
  hash bytea NOT NULL CHECK (length(hash) = 32),
  sequenced_at timestamptz NOT NULL
);
CREATE TABLE audit_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
-- Signed checkpoints (C2SP tlog-checkpoint as an Ed25519 signed note), also appended to a file
-- outside the database.
CREATE TABLE audit_checkpoints (
  tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
  root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
  signed_at timestamptz NOT NULL,
  note text NOT NULL
);

-- Append-only, whoever asks: UPDATE, DELETE and TRUNCATE are refused by trigger (only a superuser
-- disabling triggers gets past, and then `audit verify` and the published checkpoints tell).
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_events', 'audit_event_persons', 'audit_leaves', 'audit_nodes',
                           'audit_checkpoints'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION audit_append_only()',
                   t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()',
                   t || '_no_truncate', t);
  END LOOP;
END
$$;

-- The application role appends events (and nothing else on the log); security officers and the
-- DPO read them, the operator's CLI (system actor) reads them to verify and scope.
GRANT INSERT ON audit_events, audit_event_persons, audit_pending TO rempart_app;
GRANT SELECT ON audit_events, audit_event_persons, audit_leaves, audit_nodes, audit_checkpoints TO rempart_app;
GRANT USAGE ON SEQUENCE audit_events_id_seq TO rempart_app;

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_event_persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_event_persons FORCE ROW LEVEL SECURITY;
-- A staff transaction can only write events in its own name.
CREATE POLICY audit_events_append ON audit_events FOR INSERT TO rempart_app
  WITH CHECK (
    (rempart_actor_kind() = 'system' AND actor_kind = 'system')
    OR (rempart_actor_kind() = 'staff' AND actor_kind = 'staff' AND account_id = rempart_account_id())
  );
CREATE POLICY audit_event_persons_append ON audit_event_persons FOR INSERT TO rempart_app
  WITH CHECK (
    (rempart_actor_kind() = 'system' AND account_id IS NULL)
    OR (rempart_actor_kind() = 'staff' AND account_id = rempart_account_id())
  );
CREATE POLICY audit_events_read ON audit_events FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'system'
         OR (rempart_actor_kind() = 'staff' AND rempart_role() IN ('security_officer', 'dpo')));
CREATE POLICY audit_event_persons_read ON audit_event_persons FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'system'
         OR (rempart_actor_kind() = 'staff' AND rempart_role() IN ('security_officer', 'dpo')));

-- The sequencer runs as its own role: it reads events, moves them from pending to the tree, and
-- signs checkpoints; it cannot touch persons, accounts or sessions.
DO $$
BEGIN
  CREATE ROLE rempart_sequencer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
DO $$
BEGIN
  EXECUTE format('GRANT rempart_sequencer TO %I', current_user);
EXCEPTION WHEN others THEN
  NULL;
END
$$;
GRANT USAGE ON SCHEMA public TO rempart_sequencer;
GRANT SELECT ON audit_events, audit_event_persons, audit_leaves, audit_nodes, audit_checkpoints TO rempart_sequencer;
GRANT SELECT, DELETE ON audit_pending TO rempart_sequencer;
GRANT INSERT ON audit_leaves, audit_nodes, audit_checkpoints TO rempart_sequencer;
CREATE POLICY audit_events_sequencer ON audit_events FOR SELECT TO rempart_sequencer USING (true);
CREATE POLICY audit_event_persons_sequencer ON audit_event_persons FOR SELECT TO rempart_sequencer USING (true);
