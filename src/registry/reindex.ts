/**
 * Recomputes the name + birth date blind indexes of rows written under an older name key
 * (migration 0029; docs/ARCHITECTURE.md, "Name keys"): `rempart reindex`. It decrypts each row's
 * names and birth date in this process only, writes the new keys and the row's key version in one
 * transaction per batch, and selects only rows still at version 1, so a run killed midway is
 * continued by the next and a run on an up-to-date database writes nothing. Names never leave the
 * function: the result and the progress are counts.
 */
import { systemCtx } from '../context.ts';
import type { BlindIndexKind } from '../crypto/blind-index.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { asBuffer, byteaArray, plainArray } from './columns.ts';
import { NAME_KEY_VERSION } from './normalise.ts';
import type { Identity } from './person.ts';
import { nameIndexes, type RegistryKeys, type SealedRow, withDataKey } from './persons.ts';

const BATCH = 1000;

/** What a run did: rows reindexed (registry and archive), how many keys changed value, what is left. */
export interface ReindexResult {
  /** Rows of `persons` reindexed by this run. */
  persons: number;
  /** Rows of `person_archive` reindexed by this run. */
  archived: number;
  /** Rows whose name index changed value (a name with a word boundary or a folded letter). */
  updated: number;
  /** Rows at an older key version before the run (0: the database was already up to date). */
  pending: number;
}

/** Where a table keeps its rows' name indexes, for the two tables that hold them. */
interface Table {
  name: 'persons' | 'person_archive';
  /** The next batch: `LIMIT $1`. */
  select: string;
  update: string;
}

// A row's indexes stay under the blind-index key its other indexes use (bi_key_id), so that one
// row never mixes two keys; the lookup tries every key of the keyring anyway.
const PERSONS: Table = {
  name: 'persons',
  select: `SELECT id, kek_id, wrapped_key, sealed, bi_key_id, name_birth_bi, birth_name_birth_bi
    FROM persons WHERE name_key = 1 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
  // A row without a name index (archived, destroyed) has nothing to recompute: only its version moves.
  update: `UPDATE persons p SET name_key = ${NAME_KEY_VERSION},
      name_birth_bi = CASE WHEN p.name_birth_bi IS NULL THEN NULL ELSE u.nb END,
      birth_name_birth_bi = CASE WHEN p.name_birth_bi IS NULL THEN NULL ELSE u.bnb END
    FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, nb, bnb)
    WHERE p.id = u.id AND p.name_key = 1`,
};
const ARCHIVE: Table = {
  name: 'person_archive',
  select: `SELECT p.id, p.kek_id, p.wrapped_key, p.sealed, a.bi_key_id, a.name_birth_bi, a.birth_name_birth_bi
    FROM person_archive a JOIN persons p ON p.id = a.person_id
    WHERE a.name_key = 1 ORDER BY a.person_id LIMIT $1 FOR UPDATE OF a SKIP LOCKED`,
  update: `UPDATE person_archive a SET name_key = ${NAME_KEY_VERSION}, name_birth_bi = u.nb, birth_name_birth_bi = u.bnb
    FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, nb, bnb)
    WHERE a.person_id = u.id AND a.name_key = 1`,
};

interface Row extends SealedRow {
  bi_key_id: string | null;
  name_birth_bi: Uint8Array | null;
  birth_name_birth_bi: Uint8Array | null;
}

/**
 * Reindexes every row still at an older name-key version, registry then archive, one transaction
 * per batch (1,000 rows by default), `concurrency` batches at once (2 by default: one decrypts while
 * the other's rows are written). Each batch takes rows no other transaction holds (`SKIP LOCKED`),
 * so the loops never take the same row; rows held by another writer when the loops looked are
 * taken once it commits. `onProgress` is called after each committed batch with the rows done and
 * the rows pending at the start.
 */
export async function reindexNameKeys(
  db: Db,
  keys: RegistryKeys,
  options: {
    batchSize?: number;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<ReindexResult> {
  const batchSize = options.batchSize ?? BATCH;
  const actor = systemCtx('reindex').actor;
  const left = async (): Promise<{ persons: number; archived: number }> => {
    const [count] = await db.tx(actor, (tx) =>
      tx.query<{ persons: number; archived: number }>(
        `SELECT (SELECT count(*)::int FROM persons WHERE name_key = 1) AS persons,
                (SELECT count(*)::int FROM person_archive WHERE name_key = 1) AS archived`,
      ),
    );
    return { persons: count?.persons ?? 0, archived: count?.archived ?? 0 };
  };
  const start = await left();
  const pending = start.persons + start.archived;
  const result: ReindexResult = { persons: 0, archived: 0, updated: 0, pending };
  let failed = false;
  const drain = async (table: Table): Promise<void> => {
    while (!failed) {
      const batch = await db.tx(actor, (tx) => reindexBatch(tx, keys, table, batchSize));
      if (batch.rows === 0) return;
      if (table === PERSONS) result.persons += batch.rows;
      else result.archived += batch.rows;
      result.updated += batch.changed;
      const done = result.persons + result.archived;
      options.onProgress?.(done, Math.max(pending, done));
    }
  };
  for (const table of [PERSONS, ARCHIVE]) {
    for (let round = 0; ; round++) {
      // A loop that fails stops the others after their batch in progress (each batch commits or
      // rolls back whole), so the run stops as one and the next run continues.
      const loops = Array.from({ length: options.concurrency ?? 2 }, () =>
        drain(table).catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      );
      const settled = await Promise.allSettled(loops);
      const failure = settled.find((s) => s.status === 'rejected');
      if (failure) throw failure.reason;
      const now = await left();
      if ((table === PERSONS ? now.persons : now.archived) === 0) break;
      // Rows another transaction held: wait for it a little, then take them.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * (round + 1))));
    }
  }
  return result;
}

async function reindexBatch(
  tx: Tx,
  keys: RegistryKeys,
  table: Table,
  batchSize: number,
): Promise<{ rows: number; changed: number }> {
  const rows = await tx.query<Row>(table.select, [batchSize]);
  if (rows.length === 0) return { rows: 0, changed: 0 };
  const ids: string[] = [];
  const nameBirth: (Buffer | null)[] = [];
  const birthNameBirth: (Buffer | null)[] = [];
  let changed = 0;
  for (const row of rows) {
    ids.push(row.id);
    if (row.name_birth_bi === null || row.sealed === null) {
      nameBirth.push(null);
      birthNameBirth.push(null);
      continue;
    }
    const indexes = await withDataKey(keys, row, (open) => {
      const identity = open(['lastName', 'birthName', 'firstNames', 'birthDate']) as Pick<
        Identity,
        'lastName' | 'birthName' | 'firstNames' | 'birthDate'
      >;
      return nameIndexes(keyOf(keys, row.bi_key_id), { ...identity, birthName: identity.birthName ?? null });
    });
    if (!same(indexes.nameBirth, row.name_birth_bi) || !same(indexes.birthNameBirth, row.birth_name_birth_bi))
      changed++;
    nameBirth.push(indexes.nameBirth);
    birthNameBirth.push(indexes.birthNameBirth);
  }
  await tx.query(table.update, [plainArray(ids), byteaArray(nameBirth), byteaArray(birthNameBirth)]);
  return { rows: rows.length, changed };
}

function keyOf(keys: RegistryKeys, id: string | null): Record<BlindIndexKind, Buffer> {
  const key = id === null ? undefined : keys.blindIndexById.get(id);
  // The key id is not personal data; without that key the row's other indexes are unreadable too.
  if (!key) throw new AppError('internal', `blind-index key ${id ?? '(none)'} is not in the keyring`);
  return key;
}

function same(a: Buffer | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : a.equals(asBuffer(b));
}
