-- 0015: every message Rempart sends, to staff or to persons, is registered here with its
-- verification code (docs/DESIGN.md section 2, T6: phishing with accurate personal data followed
-- each breach). Anyone may check a code and learn whether it is genuine, its date, channel and
-- kind; nothing personal. Only a hash of the code is kept (SHA-256 of its 60 random bits), so the
-- table alone gives no code to replay; the public check is throttled (src/notify/codes.ts).
CREATE TABLE messages (
  id uuid PRIMARY KEY,
  code_hash bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  kind text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'portal', 'in_app')),
  created_at timestamptz NOT NULL,
  -- the recipient: a staff account or a person (never both); neither for none
  account_id uuid REFERENCES accounts (id),
  person_id uuid REFERENCES persons (id),
  incident_id uuid REFERENCES incidents (id),
  -- SHA-256 of the exact text sent, so that "what was really sent" can be checked against a copy
  content_hash bytea CHECK (content_hash IS NULL OR length(content_hash) = 32),
  CHECK (account_id IS NULL OR person_id IS NULL)
);
CREATE INDEX messages_person ON messages (person_id, created_at) WHERE person_id IS NOT NULL;
CREATE INDEX messages_incident ON messages (incident_id) WHERE incident_id IS NOT NULL;

GRANT SELECT, INSERT ON messages TO rempart_app;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
-- Staff transactions register the messages their acts send (a lock notice, a recovery code).
CREATE POLICY messages_actors ON messages TO rempart_app
  USING (rempart_actor_kind() = 'system')
  WITH CHECK (rempart_actor_kind() IN ('system', 'staff'));
