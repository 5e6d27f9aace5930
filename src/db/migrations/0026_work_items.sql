-- 0026: subcontractor work items (T4: 2023, a subcontractor kept a copy of 10 million records on an
-- update server). Subcontractors get work items, not datasets: one document to process, bound to
-- one person, handed by an agency to a subcontractor organisation whose manager assigns it to one
-- of its operators. The operator reads that person's fields for the item's task only
-- (src/access/work-tasks.ts), only while the item is assigned to them and before its deadline,
-- and through the gate (audited, scored by the guard). There is no search and no bulk read.
--
-- Time: the deadline is compared with the application's clock, not the database's, so that tests
-- and the drill can age items: each transaction that touches work items sets `rempart.now`
-- (transaction-local, like the actor). Unset, `rempart_now()` is NULL and every deadline test is
-- false: nothing is visible (fail closed).
CREATE FUNCTION rempart_now() RETURNS timestamptz LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('rempart.now', true), '')::timestamptz $$;
GRANT EXECUTE ON FUNCTION rempart_now() TO rempart_app;

-- "Closed" is not written at the deadline: an open or assigned item is closed from its deadline
-- on, in every query and policy below (no window between the deadline and a job that closes it).
-- Distribution (Citus): by person_id, co-located with persons, so the key starts with it; the id
-- alone is indexed, not unique (a random UUID).
CREATE TABLE work_items (
  id uuid NOT NULL,
  person_id uuid NOT NULL REFERENCES persons (id),
  -- the item's pseudonym: random, per item, never derived from the person (what operators and
  -- managers see in lists and what a processed document is filed under)
  reference text NOT NULL CHECK (reference ~ '^DOS-[0-9A-Z]{4}-[0-9A-Z]{4}$'),
  task text NOT NULL CHECK (task IN ('payslip_entry', 'address_proof_check', 'document_indexing')),
  -- the purpose under which the creating counselor handed the document over
  purpose text NOT NULL,
  created_by uuid NOT NULL REFERENCES accounts (id),
  creator_organisation_id uuid NOT NULL REFERENCES organisations (id),
  subcontractor_id uuid NOT NULL REFERENCES organisations (id),
  assigned_to uuid REFERENCES accounts (id),
  assigned_at timestamptz,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'assigned', 'done')),
  outcome text CHECK (outcome IN ('processed', 'rejected')),
  deadline timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  done_at timestamptz,
  PRIMARY KEY (person_id, id),
  CHECK ((state = 'open') = (assigned_to IS NULL)),
  CHECK ((state = 'done') = (outcome IS NOT NULL AND done_at IS NOT NULL)),
  CHECK (deadline > created_at)
);
CREATE INDEX work_items_id ON work_items (id);
CREATE INDEX work_items_assigned ON work_items (assigned_to, deadline) WHERE assigned_to IS NOT NULL;
CREATE INDEX work_items_subcontractor ON work_items (subcontractor_id, deadline);
CREATE INDEX work_items_creator ON work_items (creator_organisation_id, created_at);

-- The application may create items and change only their assignment and completion: never the
-- person, task, subcontractor or deadline of an item once created.
GRANT SELECT, INSERT ON work_items TO rempart_app;
GRANT UPDATE (assigned_to, assigned_at, state, outcome, done_at) ON work_items TO rempart_app;

ALTER TABLE work_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE work_items FORCE ROW LEVEL SECURITY;
CREATE POLICY work_items_system ON work_items TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
-- Counselors: their organisation's items; they create them, open, for persons they can see (the
-- persons policies apply inside this one) and for an organisation that is a subcontractor.
CREATE POLICY work_items_creator_read ON work_items FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
         AND creator_organisation_id = rempart_org_id());
CREATE POLICY work_items_creator_insert ON work_items FOR INSERT TO rempart_app
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'counselor'
    AND creator_organisation_id = rempart_org_id() AND created_by = rempart_account_id()
    AND state = 'open' AND assigned_to IS NULL AND deadline > rempart_now()
    AND EXISTS (SELECT 1 FROM persons p WHERE p.id = person_id)
    AND EXISTS (SELECT 1 FROM organisations o WHERE o.id = subcontractor_id AND o.kind = 'subcontractor')
  );
-- The subcontractor's managers: their organisation's items; they assign a live one (open or
-- assigned, before its deadline) to an operator of their organisation.
CREATE POLICY work_items_manager_read ON work_items FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'org_manager'
         AND subcontractor_id = rempart_org_id());
CREATE POLICY work_items_manager_assign ON work_items FOR UPDATE TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'org_manager'
         AND subcontractor_id = rempart_org_id() AND state IN ('open', 'assigned')
         AND deadline > rempart_now())
  WITH CHECK (
    rempart_actor_kind() = 'staff' AND rempart_role() = 'org_manager'
    AND subcontractor_id = rempart_org_id() AND state = 'assigned'
    AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = assigned_to
                AND a.organisation_id = rempart_org_id() AND a.role = 'subcontractor_operator')
  );
-- Operators: the items assigned to them, nothing else; they complete a live one.
CREATE POLICY work_items_operator_read ON work_items FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'subcontractor_operator'
         AND assigned_to = rempart_account_id() AND subcontractor_id = rempart_org_id());
CREATE POLICY work_items_operator_done ON work_items FOR UPDATE TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'subcontractor_operator'
         AND assigned_to = rempart_account_id() AND subcontractor_id = rempart_org_id()
         AND state = 'assigned' AND deadline > rempart_now())
  WITH CHECK (rempart_actor_kind() = 'staff' AND rempart_role() = 'subcontractor_operator'
              AND assigned_to = rempart_account_id() AND subcontractor_id = rempart_org_id()
              AND state = 'done');

-- Persons, the wall behind the gate for operators: a person is visible to an operator only while
-- one of their items on that person is assigned to them and before its deadline. A policy of its
-- own (permissive policies add up), so the per-role policy persons_staff stays as it is.
CREATE FUNCTION rempart_work_item_person(person uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM work_items w
    WHERE w.person_id = person AND w.assigned_to = rempart_account_id()
      AND w.subcontractor_id = rempart_org_id() AND w.state = 'assigned' AND w.deadline > rempart_now()
  )
$$;
GRANT EXECUTE ON FUNCTION rempart_work_item_person(uuid) TO rempart_app;
CREATE POLICY persons_work_item ON persons FOR SELECT TO rempart_app
  USING (rempart_actor_kind() = 'staff' AND rempart_role() = 'subcontractor_operator'
         -- an archived or destroyed person (retention, migration 0025) is out of every item's reach
         AND status IN ('registered', 'deregistered', 'candidate')
         AND rempart_work_item_person(id));
