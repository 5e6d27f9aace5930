-- 0013: ProConnect (OpenID Connect federation of public-sector agents). An identity (issuer + sub) is
-- linked to an existing account by its owner, never created by federation; a login flow's state,
-- nonce and PKCE verifier are kept server-side, one use each, bound to the browser that started it.
CREATE TABLE proconnect_links (
  issuer text NOT NULL,
  subject text NOT NULL,
  account_id uuid NOT NULL REFERENCES accounts (id),
  linked_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, subject),
  -- One identity per account and issuer: a second identity would be a second, unseen way in.
  UNIQUE (account_id, issuer)
);

CREATE TABLE proconnect_flows (
  -- SHA-256 of the random value in the browser's flow cookie: the row is useless without the cookie.
  flow_hash bytea PRIMARY KEY,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('login', 'link')),
  -- For a link: the account and the (mfa) session that asked for it.
  account_id uuid REFERENCES accounts (id),
  session_hash bytea,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CHECK ((kind = 'link') = (account_id IS NOT NULL AND session_hash IS NOT NULL))
);
CREATE INDEX proconnect_flows_expiry ON proconnect_flows (expires_at);

GRANT SELECT, INSERT, DELETE ON proconnect_links TO rempart_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON proconnect_flows TO rempart_app;
ALTER TABLE proconnect_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE proconnect_links FORCE ROW LEVEL SECURITY;
CREATE POLICY proconnect_links_actors ON proconnect_links TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
ALTER TABLE proconnect_flows ENABLE ROW LEVEL SECURITY;
ALTER TABLE proconnect_flows FORCE ROW LEVEL SECURITY;
CREATE POLICY proconnect_flows_actors ON proconnect_flows TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
