-- 0019: the person's portal (docs/PORTAL.md; docs/DESIGN.md section 10). A new actor kind, 'person':
-- a person's transaction reaches only that person's own rows (their record, their history in the
-- audit log, the incidents that concern them, their receipts), and their own reads of their data are
-- audit events of their own (GDPR art. 15). Person sessions and one-time login codes are the system
-- actor's, like staff sessions. Access receipts are taken from the audit log itself (an outbox the
-- gate already writes in the read's transaction), so the gate's read path is unchanged.

CREATE FUNCTION rempart_person_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('rempart.person_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION rempart_person_id() TO rempart_app;

-- The email's blind index (keyed HMAC, like the other lookups of migration 0001): the portal's login
-- finds a person by the address typed without any plaintext column. NULL for persons written before
-- this migration until `rempart portal index-emails` fills it.
ALTER TABLE persons ADD COLUMN email_bi bytea;
CREATE INDEX persons_email_bi ON persons (email_bi) WHERE email_bi IS NOT NULL;

-- The audit log knows a third kind of actor. A person's event names no account: the person is the
-- event's own person link.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
  CHECK (actor_kind IN ('staff', 'system', 'person'));
ALTER TABLE audit_events DROP CONSTRAINT audit_events_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_check
  CHECK (actor_kind <> 'staff' OR account_id IS NOT NULL);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_person_no_account
  CHECK (actor_kind <> 'person' OR (account_id IS NULL AND organisation_id IS NULL));

DROP POLICY audit_events_append ON audit_events;
CREATE POLICY audit_events_append ON audit_events FOR INSERT TO rempart_app
  WITH CHECK (
    (rempart_actor_kind() = 'system' AND actor_kind = 'system')
    OR (rempart_actor_kind() = 'staff' AND actor_kind = 'staff' AND account_id = rempart_account_id())
    OR (rempart_actor_kind() = 'person' AND actor_kind = 'person' AND account_id IS NULL)
  );
DROP POLICY audit_event_persons_append ON audit_event_persons;
CREATE POLICY audit_event_persons_append ON audit_event_persons FOR INSERT TO rempart_app
  WITH CHECK (
    (rempart_actor_kind() = 'system' AND account_id IS NULL)
    OR (rempart_actor_kind() = 'staff' AND account_id = rempart_account_id())
    OR (rempart_actor_kind() = 'person' AND account_id IS NULL AND person_id = rempart_person_id())
  );
-- A person reads the links that name them, and the events behind those links: their history.
CREATE POLICY audit_event_persons_person ON audit_event_persons FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND person_id = rempart_person_id());
CREATE POLICY audit_events_person ON audit_events FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'person'
    AND EXISTS (SELECT 1 FROM audit_event_persons l
                WHERE l.event_id = audit_events.id AND l.person_id = rempart_person_id())
  );

-- Their own record, periods and caseloads; every organisation's name (no personal data).
CREATE POLICY persons_person ON persons FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND id = rempart_person_id());
CREATE POLICY registration_periods_person ON registration_periods FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND person_id = rempart_person_id());
CREATE POLICY caseloads_person ON caseloads FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND person_id = rempart_person_id());
CREATE POLICY organisations_person ON organisations FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person');

-- The incidents that concern them, with their own fields only.
CREATE POLICY incident_persons_person ON incident_persons FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND person_id = rempart_person_id());
CREATE POLICY incidents_person ON incidents FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'person'
    AND EXISTS (SELECT 1 FROM incident_persons ip
                WHERE ip.incident_id = incidents.id AND ip.person_id = rempart_person_id())
  );

-- Person sessions: as staff sessions (only the SHA-256 of the random id and of the CSRF token).
CREATE TABLE person_sessions (
  id_hash bytea PRIMARY KEY,
  person_id uuid NOT NULL REFERENCES persons (id),
  method text NOT NULL CHECK (method IN ('email_code', 'franceconnect')),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  csrf_hash bytea NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX person_sessions_person ON person_sessions (person_id) WHERE revoked_at IS NULL;

-- One-time login codes by email. A challenge is written for every request, known address or not
-- (person_id NULL), so that the answer and the work done do not tell whether someone is on file.
CREATE TABLE person_login_challenges (
  id_hash bytea PRIMARY KEY,
  person_id uuid REFERENCES persons (id),
  code_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  used_at timestamptz
);
-- Login requests counted per address typed (its blind-index digest) and per source address.
CREATE TABLE person_login_throttle (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  count integer NOT NULL
);

-- The person's mail (login codes, receipts): the outbox of migration 0010 carries it, with the
-- address copied at queueing time (decrypted for that mail only) and cleared once sent.
ALTER TABLE mail_outbox ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN person_id uuid REFERENCES persons (id);
ALTER TABLE mail_outbox ADD COLUMN address text;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_recipient
  CHECK ((account_id IS NOT NULL AND person_id IS NULL) OR (account_id IS NULL AND person_id IS NOT NULL));

-- Access receipts: opted in by the person; one receipt per read of their record by an organisation
-- other than their own agency, taken from the audit log after the fact by the receipts job. The
-- job reads audit_leaves, so the sequencer's role needs nothing new; the app role reads the tree.
CREATE TABLE person_receipt_settings (
  person_id uuid PRIMARY KEY REFERENCES persons (id),
  channel text NOT NULL CHECK (channel IN ('email', 'portal')),
  -- reads from this time on are receipted (not those before the person opted in)
  since timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE person_receipts (
  id uuid PRIMARY KEY,
  person_id uuid NOT NULL REFERENCES persons (id),
  event_id bigint NOT NULL,
  occurred_at timestamptz NOT NULL,
  organisation_id uuid REFERENCES organisations (id),
  role text,
  purpose text,
  action text NOT NULL,
  fields text[] NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'portal')),
  created_at timestamptz NOT NULL,
  -- "I don't recognise this": when, and the guard alert it raised
  disowned_at timestamptz,
  alert_id uuid,
  UNIQUE (person_id, event_id)
);
CREATE INDEX person_receipts_person ON person_receipts (person_id, occurred_at);
-- How far into the audit log's tree the receipts job has looked (one row): it reads sequenced
-- events only, in leaf order, so an event committed late is never skipped (ids are drawn before
-- commit; leaves are appended in order by the single sequencer after it).
CREATE TABLE person_receipt_cursor (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  next_seq bigint NOT NULL
);
INSERT INTO person_receipt_cursor (id, next_seq)
  SELECT true, coalesce(max(seq) + 1, 0) FROM audit_leaves;

GRANT SELECT, INSERT, UPDATE ON person_sessions, person_login_challenges, person_login_throttle,
  person_receipt_settings, person_receipts, person_receipt_cursor TO rempart_app;
GRANT DELETE ON person_receipt_settings, person_login_throttle TO rempart_app;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['person_sessions', 'person_login_challenges', 'person_login_throttle',
                           'person_receipt_cursor'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app
                    USING (rempart_actor_kind() = ''system'') WITH CHECK (rempart_actor_kind() = ''system'')',
                   t || '_system', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['person_receipt_settings', 'person_receipts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I TO rempart_app
                    USING (rempart_actor_kind() = ''system''
                           OR (rempart_actor_kind() = ''person'' AND person_id = rempart_person_id()))
                    WITH CHECK (rempart_actor_kind() = ''system''
                           OR (rempart_actor_kind() = ''person'' AND person_id = rempart_person_id()))',
                   t || '_actors', t);
  END LOOP;
END
$$;

-- A person's report ("I don't recognise this access") is an alert in the review queue, about the
-- account that read, with the access attached.
ALTER TABLE guard_alerts DROP CONSTRAINT guard_alerts_response_check;
ALTER TABLE guard_alerts ADD CONSTRAINT guard_alerts_response_check
  CHECK (response IN ('step_up', 'throttle', 'suspend', 'person_report'));
