-- Seed runs (`rempart seed`): each run's parameters and progress, so that a run killed midway
-- resumes where it stopped instead of adding a second population (docs/OPERATIONS.md, "Seeding").
-- A chunk of persons and the progress it makes are written in one transaction; the canaries and
-- the completion mark in another, so a re-run plants them exactly once.
CREATE TABLE seed_runs (
  seed bigint NOT NULL,
  persons integer NOT NULL CHECK (persons > 0),
  as_of date NOT NULL,
  -- Persons in the registry when the run started: the generator's index of its first person.
  person_offset integer NOT NULL CHECK (person_offset >= 0),
  chunks_done integer NOT NULL DEFAULT 0 CHECK (chunks_done >= 0),
  canaries integer,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (seed, persons, as_of)
);
REVOKE ALL ON seed_runs FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON seed_runs TO rempart_app;
ALTER TABLE seed_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE seed_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY seed_runs_system ON seed_runs TO rempart_app
  USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
