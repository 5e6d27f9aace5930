-- 0009: witness cosignatures of the audit log's checkpoints (c2sp.org/tlog-witness,
-- c2sp.org/tlog-cosignature). Each row is a checkpoint as a witness cosigned it: the checkpoint
-- body, the log's signature and the witness's cosignature, as one signed note. `rempart audit verify
-- --witness KEY` requires them: a log truncated or rewritten and re-signed by whoever holds the
-- database and the published file has no cosignature that matches it.
CREATE TABLE audit_cosignatures (
  -- the witness's key name and key ID, `name+keyid` (its verifier key without the key)
  witness text NOT NULL,
  tree_size bigint NOT NULL CHECK (tree_size >= 0),
  -- the cosignature's own timestamp (tlog-cosignature)
  cosigned_at timestamptz NOT NULL,
  note text NOT NULL,
  PRIMARY KEY (witness, tree_size)
);

CREATE TRIGGER audit_cosignatures_append_only BEFORE UPDATE OR DELETE ON audit_cosignatures
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_cosignatures_no_truncate BEFORE TRUNCATE ON audit_cosignatures
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The sequencer's role submits checkpoints and stores what witnesses answer; the application reads.
GRANT SELECT, INSERT ON audit_cosignatures TO rempart_sequencer;
GRANT SELECT ON audit_cosignatures TO rempart_app;
