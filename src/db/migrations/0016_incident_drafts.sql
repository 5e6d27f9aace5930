-- 0016: the authority's notification of an incident (GDPR art. 33, docs/INCIDENTS.md). The draft is
-- generated from the incident (its dates and counts) and the configuration (controller, DPO); the DPO's
-- edits of the free-text items are stored here, one row per incident, and the row records when the
-- draft was marked sent (that date is also the incident's authority_notified_at: its timeline).
-- The draft holds counts and texts only, never a person's data or id.
CREATE TABLE incident_drafts (
  incident_id uuid PRIMARY KEY REFERENCES incidents (id),
  -- the DPO's edits: {itemName: value}, validated by src/incidents/art33.ts
  edits jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL,
  updated_by uuid NOT NULL REFERENCES accounts (id),
  sent_at timestamptz,
  sent_by uuid REFERENCES accounts (id),
  CHECK ((sent_at IS NULL) = (sent_by IS NULL))
);

GRANT SELECT, INSERT, UPDATE ON incident_drafts TO rempart_app;
ALTER TABLE incident_drafts ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_drafts FORCE ROW LEVEL SECURITY;
CREATE POLICY incident_drafts_system ON incident_drafts TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
