-- 0007: staff may read the audit events of their own account, and organisation managers those of
-- their organisation's agents (DESIGN.md section 7: "a partner organisation can verify its own
-- agents' activity"), so that they can ask for inclusion proofs. The person links stay readable only
-- by security officers and the DPO.
CREATE POLICY audit_events_own ON audit_events FOR SELECT TO rempart_app
  USING (
    rempart_actor_kind() = 'staff'
    AND (account_id = rempart_account_id()
         OR (rempart_role() = 'org_manager' AND organisation_id = rempart_org_id()))
  );
