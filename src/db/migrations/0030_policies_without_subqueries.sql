-- 0030: the row-level security policies that held a subquery now call a function that runs the
-- same query, with the same meaning on every engine (docs/SCALING.md, "Citus"). Citus refuses a
-- policy holding a subquery on a distributed table (it copies each policy to every shard, where a
-- subquery would name the table, not the shard); a function call is an expression it can copy, and
-- the function's query runs under the caller's rights and policies, as the subquery did.
--
-- Each function is written in PL/pgSQL so that the planner never inlines it back into a subquery.

-- A staff member reads a person's registration periods when they may read the person.
CREATE FUNCTION rempart_person_readable(person uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM persons p WHERE p.id = person);
END $$;
GRANT EXECUTE ON FUNCTION rempart_person_readable(uuid) TO rempart_app;

DROP POLICY registration_periods_staff ON registration_periods;
CREATE POLICY registration_periods_staff ON registration_periods FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_person_readable(person_id));

-- A person reads the events that name them (their history).
CREATE FUNCTION rempart_event_names_me(event bigint) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM audit_event_persons l WHERE l.event_id = event AND l.person_id = rempart_person_id());
END $$;
GRANT EXECUTE ON FUNCTION rempart_event_names_me(bigint) TO rempart_app;

DROP POLICY audit_events_person ON audit_events;
CREATE POLICY audit_events_person ON audit_events FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND rempart_event_names_me(id));

-- A person reads the incidents that concern them.
CREATE FUNCTION rempart_incident_concerns_me(incident uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM incident_persons ip WHERE ip.incident_id = incident AND ip.person_id = rempart_person_id());
END $$;
GRANT EXECUTE ON FUNCTION rempart_incident_concerns_me(uuid) TO rempart_app;

DROP POLICY incidents_person ON incidents;
CREATE POLICY incidents_person ON incidents FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'person' AND rempart_incident_concerns_me(id));

-- Work items: a counselor asks a subcontractor (an organisation of that kind) about a person they
-- may read; a subcontractor's manager assigns an item to an operator of their own organisation.
CREATE FUNCTION rempart_is_subcontractor(organisation uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM organisations o WHERE o.id = organisation AND o.kind = 'subcontractor');
END $$;
GRANT EXECUTE ON FUNCTION rempart_is_subcontractor(uuid) TO rempart_app;

CREATE FUNCTION rempart_is_my_operator(account uuid) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM accounts a WHERE a.id = account AND a.organisation_id = rempart_org_id()
                 AND a.role = 'subcontractor_operator');
END $$;
GRANT EXECUTE ON FUNCTION rempart_is_my_operator(uuid) TO rempart_app;

DROP POLICY work_items_creator_insert ON work_items;
CREATE POLICY work_items_creator_insert ON work_items FOR INSERT TO rempart_app
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND creator_organisation_id = rempart_org_id() AND created_by = rempart_account_id()
    AND state = 'open' AND assigned_to IS NULL AND deadline > rempart_now()
    AND rempart_person_readable(person_id) AND rempart_is_subcontractor(subcontractor_id)
  );
DROP POLICY work_items_manager_assign ON work_items;
CREATE POLICY work_items_manager_assign ON work_items FOR UPDATE TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'org_manager'
         AND subcontractor_id = rempart_org_id() AND state IN ('open', 'assigned')
         AND deadline > rempart_now())
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'org_manager'
    AND subcontractor_id = rempart_org_id() AND state = 'assigned' AND rempart_is_my_operator(assigned_to)
  );
