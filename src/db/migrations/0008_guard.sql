-- 0008: the guard (DESIGN.md section 6): its running state per account, the canary persons only the
-- guard knows, the sources (addresses, devices) each account used, the alerts security officers
-- review, and the incidents a confirmed compromise opens. Which persons an account reached, when, is
-- the audit log's (audit_event_persons); the guard keeps only today's set in its state.

-- One row per account the guard has seen: counters by minute, hour and day, the persons reached
-- today, the baselines, the pending responses (src/guard/state.ts describes the JSON). The gate reads
-- it with the session and writes it back in the read's transaction, only if `version` has not moved
-- meanwhile (else it redoes the request under a row lock): requests of one account fold one after
-- the other, and the common case costs no extra round trip.
CREATE TABLE guard_accounts (
  account_id uuid PRIMARY KEY REFERENCES accounts (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  role text NOT NULL,
  state jsonb NOT NULL,
  -- the persons reached today, 3 bytes of each id (state.ts, `seen`): apart from the JSON, so that
  -- the row stays small enough to be stored inline and is written without compression
  seen bytea NOT NULL DEFAULT ''::bytea,
  version integer NOT NULL DEFAULT 0,
  -- the account's usual daily volume of distinct persons (EWMA over its past working days), kept in
  -- a column as well so that peer baselines are one aggregate
  baseline real,
  -- a request before this time is answered 429 (Retry-After)
  throttled_until timestamptz,
  -- a second factor given after this time clears the step-up the guard asked for
  step_up_since timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX guard_accounts_peers ON guard_accounts (organisation_id, role);
-- Every request of an account rewrites its row: room on the page for the new version (HOT updates).
ALTER TABLE guard_accounts SET (fillfactor = 50);

-- Canary persons: ordinary rows of `persons` (nothing there marks them) that no legitimate workflow
-- reaches. Staff transactions cannot list them: the gate may only ask which of the persons it is
-- about to return are canaries (rempart_guard_canaries), through a function that runs with the
-- owner's rights. The operator's CLI (system actor) plants and counts them.
CREATE TABLE guard_canaries (
  person_id uuid PRIMARY KEY REFERENCES persons (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON guard_canaries FROM PUBLIC;
GRANT SELECT, INSERT ON guard_canaries TO rempart_app;
ALTER TABLE guard_canaries ENABLE ROW LEVEL SECURITY;
CREATE POLICY guard_canaries_operator ON guard_canaries TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');

CREATE FUNCTION rempart_guard_canaries(persons uuid[]) RETURNS uuid[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce(array_agg(person_id), ARRAY[]::uuid[]) FROM guard_canaries WHERE person_id = ANY (persons)
$$;
REVOKE ALL ON FUNCTION rempart_guard_canaries(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_canaries(uuid[]) TO rempart_app;

-- The usual volume of an account's peers (same organisation, same role), without letting one
-- account's transaction read the others' rows.
CREATE FUNCTION rempart_guard_peer_baseline(organisation uuid, peer_role text, excluded uuid)
  RETURNS TABLE (baseline real, peers integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT avg(baseline)::real, count(*)::integer FROM guard_accounts
  WHERE organisation_id = organisation AND role = peer_role AND account_id <> excluded AND baseline IS NOT NULL
$$;
REVOKE ALL ON FUNCTION rempart_guard_peer_baseline(uuid, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rempart_guard_peer_baseline(uuid, text, uuid) TO rempart_app;

-- The addresses and devices (user agents) each account logged in from: a login from one the account
-- has not used lately is a signal. Stored as SHA-256 hashes salted with the account id, not in clear.
CREATE TABLE guard_sources (
  account_id uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('address', 'device')),
  hash bytea NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (account_id, kind, hash)
);
-- The network a session was opened from (src/guard/sources.ts networkOf: IPv4 /24, IPv6 /64), so
-- that "other live sessions from elsewhere" is a comparison of columns.
ALTER TABLE sessions ADD COLUMN source_network text;

-- What the guard noticed about a session when it was opened ('new_address', 'new_device', ...).
ALTER TABLE sessions ADD COLUMN guard_flags text[] NOT NULL DEFAULT '{}';

-- The review queue: what the guard did (step-up, throttle, suspend) and why, with the evidence
-- (signals, addresses); security officers reinstate the account (with a note) or confirm a
-- compromise, which opens an incident.
CREATE TABLE guard_alerts (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  organisation_id uuid NOT NULL REFERENCES organisations (id),
  raised_at timestamptz NOT NULL,
  response text NOT NULL CHECK (response IN ('step_up', 'throttle', 'suspend')),
  -- [{name, value, limit, response}] (src/guard/signals.ts)
  signals jsonb NOT NULL,
  -- the request that raised it: action, audit event's request id, session reference, source address
  context jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reinstated', 'compromised', 'dismissed')),
  decided_at timestamptz,
  decided_by uuid REFERENCES accounts (id),
  note text,
  incident_id uuid
);
CREATE INDEX guard_alerts_open ON guard_alerts (status, raised_at);
CREATE INDEX guard_alerts_account ON guard_alerts (account_id, raised_at);

-- Incidents: a confirmed compromise (accounts and window) with its scope from the audit log. The
-- incidents issue adds notification; this is the record the review queue opens.
CREATE TABLE incidents (
  id uuid PRIMARY KEY,
  opened_at timestamptz NOT NULL,
  opened_by uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('compromised_account')),
  accounts uuid[] NOT NULL,
  window_from timestamptz NOT NULL,
  window_to timestamptz NOT NULL,
  -- {personCount, fieldCounts, persons: [{personId, fields, firstAt, lastAt, events}]}
  scope jsonb NOT NULL,
  note text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
);

GRANT SELECT, INSERT, UPDATE ON guard_accounts, guard_sources, guard_alerts, incidents TO rempart_app;

-- A staff transaction reaches its own account's guard rows only (the gate's), and may raise alerts
-- about itself; the review queue and the identity flows run as the system actor. Not forced on the
-- owner: the two functions above read across accounts with the owner's rights.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['guard_accounts', 'guard_sources', 'guard_alerts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app
                    USING (rempart_actor_kind() = ''system''
                           OR (rempart_actor_kind() = ''staff'' AND account_id = rempart_account_id()))
                    WITH CHECK (rempart_actor_kind() = ''system''
                           OR (rempart_actor_kind() = ''staff'' AND account_id = rempart_account_id()))',
                   t || '_actors', t);
  END LOOP;
END
$$;
ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE incidents FORCE ROW LEVEL SECURITY;
CREATE POLICY incidents_system ON incidents TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
