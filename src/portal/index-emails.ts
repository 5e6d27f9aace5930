/**
 * Fills the email blind index (migration 0019) of persons written before it: the portal's login finds
 * a person by the address they type, and a person without the index cannot log in by email. Run once
 * after upgrading (`rempart portal index-emails`); new and changed records get it when written.
 */
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { emailIndex, openSealedRow, type RegistryKeys, type SealedRow } from '../registry/persons.ts';

const BATCH = 500;

/** Indexes every person whose email index is missing; returns how many got one. */
export async function indexEmails(db: Db, keys: RegistryKeys): Promise<number> {
  const actor = systemCtx('portal-index-emails').actor;
  let after = '00000000-0000-0000-0000-000000000000';
  let indexed = 0;
  for (;;) {
    const rows = await db.tx(actor, (tx) =>
      tx.query<SealedRow>(
        `SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE email_bi IS NULL AND id > $1 ORDER BY id LIMIT ${BATCH}`,
        [after],
      ),
    );
    if (rows.length === 0) return indexed;
    const ids: string[] = [];
    const hashes: Buffer[] = [];
    for (const row of rows) {
      const { email } = await openSealedRow(keys, row, ['email']);
      const hash = emailIndex(keys.blindIndex, email ?? null);
      if (hash) {
        ids.push(row.id);
        hashes.push(hash);
      }
    }
    await db.tx(actor, (tx) =>
      tx.query(
        `UPDATE persons p SET email_bi = u.h FROM unnest($1::uuid[], $2::bytea[]) AS u(id, h)
         WHERE p.id = u.id AND p.email_bi IS NULL`,
        [ids, hashes],
      ),
    );
    indexed += ids.length;
    after = rows.at(-1)!.id;
  }
}
