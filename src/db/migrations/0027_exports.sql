-- 0027: four-eyes exports (T3: 2021, an agent exported large files for years, often off-hours, to a
-- third party). An export is a request (purpose, fields, filter, recipient organisation) that a
-- different person approves — the DPO or a manager of the requester's organisation, never the
-- requester (a CHECK here as well as in src/exports), never an account the requester provisioned
-- that week (src/exports/provisioned.ts). The file is produced through the gate (every row an audit
-- event naming the person, the fields and the export), age-encrypted to the recipient's registered
-- key, and kept only until it expires.

-- The recipients' age public keys (https://age-encryption.org/v1): one per organisation, registered
-- by the DPO. A file can only be made for an organisation with a key.
CREATE TABLE export_recipients (
  organisation_id uuid PRIMARY KEY REFERENCES organisations (id),
  age_recipient text NOT NULL CHECK (age_recipient ~ '^age1[02-9ac-hj-np-z]+$' AND length(age_recipient) BETWEEN 14 AND 2100),
  registered_by uuid NOT NULL REFERENCES accounts (id),
  registered_at timestamptz NOT NULL
);

CREATE TABLE export_requests (
  id uuid PRIMARY KEY,
  requested_by uuid NOT NULL REFERENCES accounts (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  purpose text NOT NULL,
  fields text[] NOT NULL CHECK (cardinality(fields) > 0),
  -- the filter's shape and values: statuses and registration dates only, never free text
  filter jsonb NOT NULL,
  recipient_organisation_id uuid NOT NULL REFERENCES organisations (id),
  requested_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'produced')),
  decided_by uuid REFERENCES accounts (id),
  decided_at timestamptz,
  decision_note text CHECK (decision_note IS NULL OR length(decision_note) <= 500),
  produced_at timestamptz,
  expires_at timestamptz,
  row_count integer CHECK (row_count IS NULL OR row_count >= 0),
  canary_count integer CHECK (canary_count IS NULL OR canary_count >= 0),
  -- the age ciphertext of the CSV; erased (NULL) once the export expires
  file bytea,
  file_sha256 bytea,
  CHECK (decided_by IS NULL OR decided_by <> requested_by),
  CHECK ((status = 'pending') = (decided_by IS NULL)),
  CHECK (status <> 'produced' OR (produced_at IS NOT NULL AND expires_at IS NOT NULL))
);
CREATE INDEX export_requests_organisation ON export_requests (organisation_id, requested_at);
CREATE INDEX export_requests_requester ON export_requests (requested_by, requested_at);

-- The canary rows of each export: synthetic persons unique to it, never in `persons`. Their blind
-- indexes (the registry's keys) let a leaked file be traced by NIR, agency id or name + birth date.
CREATE TABLE export_canaries (
  export_id uuid NOT NULL REFERENCES export_requests (id),
  position integer NOT NULL,
  nir_bi bytea NOT NULL,
  agency_id_bi bytea NOT NULL,
  name_birth_bi bytea NOT NULL,
  PRIMARY KEY (export_id, position)
);
CREATE INDEX export_canaries_nir ON export_canaries (nir_bi);
CREATE INDEX export_canaries_agency_id ON export_canaries (agency_id_bi);
CREATE INDEX export_canaries_name_birth ON export_canaries (name_birth_bi);

GRANT SELECT, INSERT, UPDATE ON export_recipients TO rempart_app;
GRANT SELECT, INSERT ON export_requests, export_canaries TO rempart_app;
-- Once made, a request's purpose, fields, filter, requester and recipient never change.
GRANT UPDATE (status, decided_by, decided_at, decision_note, produced_at, expires_at, row_count,
              canary_count, file, file_sha256) ON export_requests TO rempart_app;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['export_recipients', 'export_requests', 'export_canaries'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app USING (rempart_actor_kind() IN (''system'', ''staff''))
                    WITH CHECK (rempart_actor_kind() IN (''system'', ''staff''))', t || '_actors', t);
  END LOOP;
END
$$;
