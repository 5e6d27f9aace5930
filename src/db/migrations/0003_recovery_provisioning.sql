-- 0003: account recovery without a helpdesk backdoor (T1) and two-person provisioning (T8).

-- A recovery case: opened by the helpdesk, approved by the account's organisation manager (who
-- attests having verified the owner in person or by video), completed by the owner alone, after a
-- delay, with the one-time code sent to the owner's registered email. The owner can cancel it with
-- the code of the first notice. Codes are stored as SHA-256 only.
CREATE TABLE recovery_cases (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  opened_by uuid NOT NULL REFERENCES accounts (id),
  opened_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'cancelled', 'completed')),
  decided_by uuid REFERENCES accounts (id),
  decided_at timestamptz,
  attestation text CHECK (attestation IN ('in_person', 'video')),
  not_before timestamptz,
  expires_at timestamptz,
  cancel_hash bytea NOT NULL UNIQUE,
  reset_hash bytea UNIQUE,
  closed_at timestamptz,
  CHECK (decided_by IS NULL OR decided_by <> account_id),
  CHECK (opened_by <> account_id)
);
CREATE UNIQUE INDEX recovery_cases_one_live ON recovery_cases (account_id) WHERE status IN ('open', 'approved');

-- Creating an account or granting a role is a request; another manager of the organisation, or an
-- administrator, approves it (never the requester, never for their own account).
CREATE TABLE provisioning_requests (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('create_account', 'grant_role')),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  requested_by uuid NOT NULL REFERENCES accounts (id),
  requested_at timestamptz NOT NULL,
  target_account_id uuid REFERENCES accounts (id),
  payload jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by uuid REFERENCES accounts (id),
  decided_at timestamptz,
  CHECK (decided_by IS NULL OR decided_by <> requested_by),
  CHECK (decided_by IS NULL OR target_account_id IS NULL OR decided_by <> target_account_id)
);
CREATE INDEX provisioning_requests_organisation ON provisioning_requests (organisation_id, status);

-- A new account's owner sets their own password with the one-time code mailed to them.
CREATE TABLE account_activations (
  account_id uuid PRIMARY KEY REFERENCES accounts (id),
  code_hash bytea NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

GRANT SELECT, INSERT, UPDATE ON recovery_cases, provisioning_requests, account_activations TO rempart_app;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['recovery_cases', 'provisioning_requests', 'account_activations'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app USING (rempart_actor_kind() IN (''system'', ''staff''))
                    WITH CHECK (rempart_actor_kind() IN (''system'', ''staff''))', t || '_actors', t);
  END LOOP;
END
$$;
