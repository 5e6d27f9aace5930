-- 0029: name keys, version 2 (docs/ARCHITECTURE.md, "Name keys"). The name + birth date blind index
-- now ignores word boundaries and folds the letters NFKD leaves whole ("N'Diaye" = "NDIAYE",
-- "Ødegaard" = "ODEGAARD"). Each row records the version of the key it holds:
--
--  - rows written before this migration hold version 1 (the default at ADD COLUMN fills them);
--  - rows written after it hold version 2 (the default from then on: seeding, import and the API
--    compute the new key);
--  - `rempart reindex` decrypts the version-1 rows in batches, writes their version-2 keys and the
--    version with them, and is resumable because it only ever selects version-1 rows;
--  - until then, the lookup also tries the old key, on version-1 rows only.

ALTER TABLE persons ADD COLUMN name_key smallint NOT NULL DEFAULT 1;
ALTER TABLE persons ALTER COLUMN name_key SET DEFAULT 2;
ALTER TABLE person_archive ADD COLUMN name_key smallint NOT NULL DEFAULT 1;
ALTER TABLE person_archive ALTER COLUMN name_key SET DEFAULT 2;

-- A row without a name index (archived: its indexes are in person_archive; destroyed) has nothing to
-- reindex.
UPDATE persons SET name_key = 2 WHERE name_birth_bi IS NULL;

ALTER TABLE persons ADD CONSTRAINT persons_name_key_check CHECK (name_key IN (1, 2));
ALTER TABLE person_archive ADD CONSTRAINT person_archive_name_key_check CHECK (name_key IN (1, 2));

-- What is left to reindex, in id order: small, and empty once `rempart reindex` has run.
CREATE INDEX persons_name_key_1 ON persons (id) WHERE name_key = 1;
CREATE INDEX person_archive_name_key_1 ON person_archive (person_id) WHERE name_key = 1;

-- The archive's rows are otherwise never updated: the reindex may change their name keys only.
GRANT UPDATE (name_birth_bi, birth_name_birth_bi, name_key) ON person_archive TO rempart_app;
