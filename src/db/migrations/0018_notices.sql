-- 0018: one notice per person of an incident (GDPR art. 34; docs/DESIGN.md section 2, T6/T7).
-- UNIQUE (incident_id, person_id) makes a second notice for the same person impossible, whatever
-- a crashed and restarted job does. The state machine (pending -> claimed -> sent | failed) is
-- committed before each send, so a rerun knows which notices may have left: a claimed notice is
-- re-sent with the same Message-ID (the receiving side's idempotency key), never under a new one.
-- The signed text is personal data (it names the exposed fields): it is kept encrypted under the
-- person's data key (envelope.ts), because it carries a random code that cannot be regenerated.
CREATE TABLE notices (
  id uuid PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES persons (id),
  message_id uuid NOT NULL UNIQUE REFERENCES messages (id),
  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'portal')),
  signed_text_enc bytea NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at timestamptz NOT NULL,
  claimed_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz,
  UNIQUE (incident_id, person_id)
);
CREATE INDEX notices_person ON notices (person_id, created_at);
CREATE INDEX notices_open ON notices (incident_id, state) WHERE state IN ('pending', 'claimed');

GRANT SELECT, INSERT, UPDATE ON notices TO rempart_app;
ALTER TABLE notices ENABLE ROW LEVEL SECURITY;
ALTER TABLE notices FORCE ROW LEVEL SECURITY;
-- Only the system actor (the sending job) writes and reads notices; the portal part adds the
-- person's own read policy with its actor kind (migration 0019).
CREATE POLICY notices_system ON notices TO rempart_app
  USING (rempart_actor_kind() = 'system')
  WITH CHECK (rempart_actor_kind() = 'system');
