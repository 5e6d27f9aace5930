-- 0010: the mail outbox (docs/OPERATIONS.md, "The mail outbox"). A notice's mail is queued here in
-- the transaction that decides it (a lock, a recovery step, an activation) and sent after the answer
-- by the server's outbox job: an answer never waits for a mail server (T1, credential stuffing: the 10th failed login on a
-- real account must not take longer than on an unknown login), and a mail is never lost (a crash
-- before sending leaves the row; the next start sends it).
--
-- Staff addresses are staff data: the row names the account, and the address is read from
-- `accounts` when the mail is sent; nothing else is copied. The subject and body (which may hold a
-- one-time code) are cleared once the mail is sent, or when it is given up after the retention
-- period; the row itself (kind, dates, attempts) is deleted 30 days later.
CREATE TABLE mail_outbox (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL,
  subject text,
  body text,
  queued_at timestamptz NOT NULL,
  -- when a sender may next take the row: now when queued; a claim pushes it past the claim's lease
  -- (another server process skips it meanwhile); a failure pushes it by the backoff
  next_attempt_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  -- the mail server's error code of the last failure (never its text, which may echo the address)
  last_error text,
  sent_at timestamptz,
  abandoned_at timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON mail_outbox TO rempart_app;
ALTER TABLE mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY mail_outbox_actors ON mail_outbox TO rempart_app
  USING (rempart_actor_kind() IN ('system', 'staff'))
  WITH CHECK (rempart_actor_kind() IN ('system', 'staff'));
