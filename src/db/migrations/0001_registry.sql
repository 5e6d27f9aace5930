-- 0001: the application role, organisations, and the registry of persons (DESIGN.md section 4).
-- Identity fields are stored only as AES-256-GCM ciphertexts under a per-person data key; lookups use
-- truncated keyed-HMAC blind indexes. No plaintext NIR, agency id, name, email, phone or address.

-- The role the application runs as. Cluster-wide, so it may exist already (other databases, tests).
DO $$
BEGIN
  CREATE ROLE rempart_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
-- The connecting (owner) role must be able to SET ROLE to it.
DO $$
BEGIN
  EXECUTE format('GRANT rempart_app TO %I', current_user);
EXCEPTION WHEN others THEN
  NULL; -- already a member, or a superuser (who needs no membership)
END
$$;

-- The actor context set by Db.tx for each transaction (SET LOCAL semantics: it dies with the transaction).
CREATE FUNCTION rempart_actor_kind() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('rempart.actor_kind', true), '') $$;
CREATE FUNCTION rempart_org_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('rempart.org_id', true), '')::uuid $$;

CREATE TABLE organisations (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('national', 'agency', 'cap_emploi', 'mission_locale', 'training_body', 'subcontractor')),
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  parent_id uuid REFERENCES organisations (id),
  department text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE persons (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('registered', 'deregistered', 'candidate', 'archived')),
  -- the agency the person is registered with (an organisation of kind 'agency')
  agency_organisation_id uuid NOT NULL REFERENCES organisations (id),
  -- envelope: the person's data key, wrapped by the key-encryption key kek_id (rotation re-wraps it;
  -- destroying it is crypto-shredding)
  kek_id text NOT NULL,
  wrapped_key bytea NOT NULL,
  -- blind indexes: HMAC-SHA-256 under the blind-index key bi_key_id, truncated to 8 bytes
  bi_key_id text NOT NULL,
  agency_id_bi bytea NOT NULL,
  nir_bi bytea NOT NULL,
  name_birth_bi bytea NOT NULL,
  birth_name_birth_bi bytea,
  -- the identity fields, each AES-256-GCM-encrypted on its own under the data key, with person id and
  -- field name in the AAD, stored together as one sealed record (src/crypto/envelope.ts)
  sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX persons_nir_bi ON persons (nir_bi);
CREATE UNIQUE INDEX persons_agency_id_bi ON persons (agency_id_bi);
CREATE INDEX persons_name_birth_bi ON persons (name_birth_bi);
CREATE INDEX persons_birth_name_birth_bi ON persons (birth_name_birth_bi) WHERE birth_name_birth_bi IS NOT NULL;
CREATE INDEX persons_agency ON persons (agency_organisation_id);

-- Periods of registration as a job seeker; the last one open while registered.
CREATE TABLE registration_periods (
  person_id uuid NOT NULL REFERENCES persons (id),
  started_on date NOT NULL,
  ended_on date,
  PRIMARY KEY (person_id, started_on),
  CHECK (ended_on IS NULL OR ended_on >= started_on)
);

-- Who accompanies the person: an organisation (agency, partner, subcontractor) and optionally a counselor.
CREATE TABLE caseloads (
  person_id uuid NOT NULL REFERENCES persons (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  counselor_id uuid,
  since date NOT NULL,
  until date,
  PRIMARY KEY (person_id, organisation_id, since),
  CHECK (until IS NULL OR until >= since)
);
CREATE INDEX caseloads_organisation ON caseloads (organisation_id, person_id);

-- Privileges: the application role reads and writes rows, under RLS; it cannot delete persons
-- (retention destroys keys instead) nor change the schema.
GRANT USAGE ON SCHEMA public TO rempart_app;
GRANT SELECT ON organisations TO rempart_app;
GRANT INSERT ON organisations TO rempart_app;
GRANT SELECT, INSERT, UPDATE ON persons, registration_periods, caseloads TO rempart_app;
GRANT EXECUTE ON FUNCTION rempart_actor_kind(), rempart_org_id() TO rempart_app;

-- Row-level security, the second wall behind the gate. Deny by default: a transaction with no actor
-- context sees nothing. The operator's CLI (system actor) works on the whole registry; a staff actor
-- sees the persons of its agency and of its organisation's current caseload. The gate's per-role
-- policies (issue "the gate") narrow this further.
ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
CREATE POLICY organisations_system ON organisations TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
CREATE POLICY organisations_staff ON organisations FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff');

ALTER TABLE persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE persons FORCE ROW LEVEL SECURITY;
CREATE POLICY persons_system ON persons TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
CREATE POLICY persons_staff ON persons FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'staff'
    AND (
      agency_organisation_id = rempart_org_id()
      OR EXISTS (
        SELECT 1 FROM caseloads c
        WHERE c.person_id = persons.id AND c.organisation_id = rempart_org_id()
          AND (c.until IS NULL OR c.until >= current_date)
      )
    )
  );

ALTER TABLE caseloads ENABLE ROW LEVEL SECURITY;
ALTER TABLE caseloads FORCE ROW LEVEL SECURITY;
CREATE POLICY caseloads_system ON caseloads TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
CREATE POLICY caseloads_staff ON caseloads FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND organisation_id = rempart_org_id());

ALTER TABLE registration_periods ENABLE ROW LEVEL SECURITY;
ALTER TABLE registration_periods FORCE ROW LEVEL SECURITY;
CREATE POLICY registration_periods_system ON registration_periods TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
CREATE POLICY registration_periods_staff ON registration_periods FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND EXISTS (SELECT 1 FROM persons p WHERE p.id = person_id));
