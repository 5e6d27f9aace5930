-- 0014: incidents become notifiable (docs/DESIGN.md section 9). The scope's persons move out of the
-- incident's JSON into one row each (an incident may reach millions of persons: the notices of
-- GDPR article 34 page through them by person id), and the incident gets its timeline: detected
-- (the 72-hour clock of article 33 runs from here), declared, authority notified, people notified.
--
-- The JSON `scope` keeps the counts only ({personCount, events, fieldCounts}).
CREATE TABLE incident_persons (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  person_id uuid NOT NULL REFERENCES persons (id),
  -- the fields exposed, distinct, sorted: exactly what the notice to this person names
  fields text[] NOT NULL CHECK (cardinality(fields) > 0),
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  events integer NOT NULL CHECK (events >= 0),
  PRIMARY KEY (incident_id, person_id)
);
-- The incidents of one person (the portal: "the incidents that concern me").
CREATE INDEX incident_persons_person ON incident_persons (person_id);

INSERT INTO incident_persons (incident_id, person_id, fields, first_at, last_at, events)
  SELECT i.id, (p->>'personId')::uuid, ARRAY(SELECT jsonb_array_elements_text(p->'fields') ORDER BY 1),
         (p->>'firstAt')::timestamptz, (p->>'lastAt')::timestamptz, (p->>'events')::int
  FROM incidents i, jsonb_array_elements(i.scope->'persons') p
  WHERE jsonb_array_length(p->'fields') > 0;
UPDATE incidents SET scope = scope - 'persons';

ALTER TABLE incidents DROP CONSTRAINT incidents_kind_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_kind_check
  CHECK (kind IN ('compromised_account', 'accounts_window', 'leaked_file'));
ALTER TABLE incidents
  ADD COLUMN detected_at timestamptz,
  ADD COLUMN authority_notified_at timestamptz,
  ADD COLUMN people_notified_at timestamptz;
UPDATE incidents SET detected_at = opened_at;
ALTER TABLE incidents ALTER COLUMN detected_at SET NOT NULL;
ALTER TABLE incidents ADD CONSTRAINT incidents_detected_before_opened CHECK (detected_at <= opened_at);

GRANT SELECT, INSERT, UPDATE ON incident_persons TO rempart_app;
ALTER TABLE incident_persons ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_persons FORCE ROW LEVEL SECURITY;
CREATE POLICY incident_persons_system ON incident_persons TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
