-- 0020: FranceConnect logins to the person's portal (docs/FRANCECONNECT.md). A flow's state,
-- nonce and PKCE verifier are kept server-side, one use each, found only through the SHA-256 of a
-- random value held in the browser's flow cookie: an answer from FranceConnect counts only in the
-- browser that asked for it (no login CSRF: RFC 9700 section 4.7), and only once (no replay).
-- Nothing personal is stored: the pivot identity is matched at the callback and never kept.
CREATE TABLE franceconnect_flows (
  flow_hash bytea PRIMARY KEY CHECK (length(flow_hash) = 32),
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX franceconnect_flows_expiry ON franceconnect_flows (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON franceconnect_flows TO rempart_app;
ALTER TABLE franceconnect_flows ENABLE ROW LEVEL SECURITY;
ALTER TABLE franceconnect_flows FORCE ROW LEVEL SECURITY;
-- The login is not yet anyone's: only the system actor (the routes' own) reads and writes flows.
CREATE POLICY franceconnect_flows_actors ON franceconnect_flows TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
