-- 0002: staff identity (DESIGN.md section 5): organisations' contracts and hours, accounts and roles,
-- second factors, recovery codes, server-side sessions, brute-force throttling, and the security
-- events of the identity flows (folded into the audit log when it exists).

ALTER TABLE organisations
  ADD COLUMN contract_ends_on date,
  -- ISO weekdays (1 = Monday) and local hours during which the organisation works (the guard scores
  -- activity outside them)
  ADD COLUMN working_hours jsonb NOT NULL DEFAULT '{"days": [1, 2, 3, 4, 5], "from": "08:00", "to": "19:00"}',
  ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/Paris',
  -- the purposes its agents may declare (src/access, with the gate)
  ADD COLUMN purposes text[] NOT NULL DEFAULT '{}';

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  login text NOT NULL UNIQUE CHECK (login = lower(login) AND login ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  display_name text NOT NULL,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('counselor', 'partner_counselor', 'subcontractor_operator', 'helpdesk',
    'org_manager', 'security_officer', 'dpo', 'administrator')),
  status text NOT NULL CHECK (status IN ('pending_enrolment', 'active', 'probation', 'suspended', 'locked', 'disabled')),
  probation_until timestamptz,
  password_hash text,
  password_changed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by uuid REFERENCES accounts (id)
);
CREATE INDEX accounts_organisation ON accounts (organisation_id, role);

CREATE TABLE second_factors (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('webauthn', 'totp')),
  label text NOT NULL,
  -- WebAuthn: credential id (base64url), COSE public key, signature counter, transports
  credential_id text UNIQUE,
  public_key bytea,
  sign_count bigint,
  transports text[],
  -- TOTP: the secret wrapped by the KMS (bound to the factor id), and the last accepted time step
  -- (a code of that step or an earlier one is refused: no replay)
  secret_kek_id text,
  secret_wrapped bytea,
  last_step bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- a factor counts once its owner has proved it works (a first valid code or assertion)
  confirmed_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CHECK ((kind = 'webauthn' AND credential_id IS NOT NULL AND public_key IS NOT NULL)
      OR (kind = 'totp' AND secret_wrapped IS NOT NULL))
);
CREATE INDEX second_factors_account ON second_factors (account_id) WHERE revoked_at IS NULL;

-- Ten single-use codes per account, stored as SHA-256 of the normalised code (80+ bits each).
CREATE TABLE recovery_codes (
  account_id uuid NOT NULL REFERENCES accounts (id),
  code_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at timestamptz,
  PRIMARY KEY (account_id, code_hash)
);

-- Server-side sessions: only the SHA-256 of the random session id is stored.
CREATE TABLE sessions (
  id_hash bytea PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- 'password': first factor only (enrolment and second-factor routes); 'mfa': both factors
  assurance text NOT NULL CHECK (assurance IN ('password', 'mfa')),
  mfa_at timestamptz,
  csrf_hash bytea NOT NULL,
  -- a pending WebAuthn challenge (registration or authentication) and when it expires
  challenge text,
  challenge_expires_at timestamptz,
  source_address text,
  user_agent text,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL;

-- Failed logins per account and per source address: backoff from the third, lock at the tenth.
CREATE TABLE auth_throttle (
  scope text NOT NULL CHECK (scope IN ('account', 'address')),
  key text NOT NULL,
  failures integer NOT NULL,
  last_failure_at timestamptz NOT NULL,
  blocked_until timestamptz,
  PRIMARY KEY (scope, key)
);

-- What happened in the identity flows, append-only (the audit log of a later issue takes them in).
CREATE TABLE security_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  action text NOT NULL,
  actor_account_id uuid REFERENCES accounts (id),
  target_account_id uuid REFERENCES accounts (id),
  organisation_id uuid REFERENCES organisations (id),
  source_address text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_target ON security_events (target_account_id, at);

-- In-app notices to staff (their account was locked, a recovery case was opened, …).
CREATE TABLE staff_notices (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  at timestamptz NOT NULL,
  kind text NOT NULL,
  text text NOT NULL,
  read_at timestamptz
);
CREATE INDEX staff_notices_account ON staff_notices (account_id, at);

GRANT SELECT, INSERT, UPDATE ON accounts, second_factors, recovery_codes, sessions, auth_throttle, staff_notices
  TO rempart_app;
GRANT UPDATE (contract_ends_on, working_hours, time_zone, purposes) ON organisations TO rempart_app;
GRANT SELECT, INSERT ON security_events TO rempart_app;
GRANT USAGE ON SEQUENCE security_events_id_seq TO rempart_app;

-- Staff data is reached by the identity flows (system actor: login, enrolment, recovery) and by
-- authenticated staff; a transaction without an actor sees nothing.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['accounts', 'second_factors', 'recovery_codes', 'sessions', 'auth_throttle',
                           'security_events', 'staff_notices'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app USING (rempart_actor_kind() IN (''system'', ''staff''))
                    WITH CHECK (rempart_actor_kind() IN (''system'', ''staff''))', t || '_actors', t);
  END LOOP;
END
$$;
