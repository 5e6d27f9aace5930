-- 0021: audit leaves of format rempart/audit-event/v2 (src/audit/leaf.ts, docs/PORTAL.md "Proofs"):
-- selective disclosure. Each new event gets a random 32-byte secret salt, from which the leaf's
-- salted commitments are derived: one over the event's private part (account, session, request,
-- source address, query, justification, reason, result count) and one per person link. A person's
-- portal is given their own link's opening and nothing of the rest. Events without a salt (written
-- before this migration) keep their v1 leaves.
--
-- A table of its own rather than a column of audit_events: row-level security is per row, and the
-- person (audit_events_person), the reading staff member and their organisation's manager
-- (audit_events_own) may read an event's row; whoever holds the salt can test guesses of the private
-- part (a source address, a short justification) against the leaf. Only the system actor (the
-- portal's history, the CLI) and the sequencer (which computes the leaves, and `audit verify`) read
-- salts.
CREATE TABLE audit_event_salts (
  event_id bigint PRIMARY KEY,
  salt bytea NOT NULL CHECK (length(salt) = 32)
);

CREATE TRIGGER audit_event_salts_append_only BEFORE UPDATE OR DELETE ON audit_event_salts
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_salts_no_truncate BEFORE TRUNCATE ON audit_event_salts
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

GRANT INSERT, SELECT ON audit_event_salts TO rempart_app;
GRANT SELECT ON audit_event_salts TO rempart_sequencer;
ALTER TABLE audit_event_salts ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_event_salts FORCE ROW LEVEL SECURITY;
-- Every actor that appends events appends their salts (in the same statement, src/audit/append.ts);
-- a salt written for another event makes that event's leaf fail `audit verify`.
CREATE POLICY audit_event_salts_append ON audit_event_salts FOR INSERT TO rempart_app
  WITH CHECK (rempart_actor_kind() IN ('system', 'staff', 'person'));
CREATE POLICY audit_event_salts_read ON audit_event_salts FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'system');
CREATE POLICY audit_event_salts_sequencer ON audit_event_salts FOR SELECT TO rempart_sequencer USING (true);
