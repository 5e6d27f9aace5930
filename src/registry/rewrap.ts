/**
 * Re-wraps every person's data key under the current KEK, in batches of 1,000 (one transaction
 * each, so a stop midway leaves every row readable: each row names the KEK that wraps it).
 */
import { systemCtx } from '../context.ts';
import type { Kms } from '../crypto/kms.ts';
import type { Db } from '../db/types.ts';
import { asBuffer, byteaArray, plainArray } from './columns.ts';

const BATCH = 1000;

/** Re-wraps the data keys not yet under the current KEK; returns how many were re-wrapped. */
export async function rewrapDataKeys(
  db: Db,
  kms: Kms,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const actor = systemCtx('keys-rotate').actor;
  const current = kms.currentKekId();
  const [count] = await db.tx(actor, (tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons WHERE kek_id <> $1', [current]),
  );
  const total = count?.n ?? 0;
  let done = 0;
  for (;;) {
    const moved = await db.tx(actor, async (tx) => {
      const rows = await tx.query<{ id: string; kek_id: string; wrapped_key: Uint8Array }>(
        `SELECT id, kek_id, wrapped_key FROM persons WHERE kek_id <> $1 ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
        [current],
      );
      if (rows.length === 0) return 0;
      const items = [];
      for (const row of rows) {
        const dataKey = await kms.unwrapKey(row.id, {
          kekId: row.kek_id,
          wrapped: asBuffer(row.wrapped_key),
        });
        items.push({ personId: row.id, dataKey });
      }
      const wrapped = await kms.wrapKeys(items);
      for (const item of items) item.dataKey.fill(0);
      await tx.query(
        `UPDATE persons p SET kek_id = u.kek_id, wrapped_key = u.wrapped_key, updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS u(id, kek_id, wrapped_key) WHERE p.id = u.id`,
        [
          plainArray(rows.map((r) => r.id)),
          plainArray(wrapped.map((w) => w.kekId)),
          byteaArray(wrapped.map((w) => w.wrapped)),
        ],
      );
      return rows.length;
    });
    if (moved === 0) break;
    done += moved;
    onProgress?.(done, total);
  }
  return done;
}

/** The KEK ids still wrapping some data key. */
export async function kekIdsInUse(db: Db): Promise<Set<string>> {
  const rows = await db.tx(systemCtx('keys-rotate').actor, (tx) =>
    tx.query<{ kek_id: string }>('SELECT DISTINCT kek_id FROM persons WHERE kek_id IS NOT NULL'),
  );
  return new Set(rows.map((r) => r.kek_id));
}
