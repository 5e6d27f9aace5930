/**
 * Expired export files are erased (docs/EXPORTS.md): a produced file lives REMPART_EXPORT_EXPIRY_DAYS;
 * after that its ciphertext is deleted by the daily retention run (and on the spot by a download
 * attempt). The export's row stays, with its audited rows, canaries and hash, so a leaked copy is
 * still traced to it.
 */

import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';

/** Erases the files of exports expired at `at` (or, dry, counts them); returns how many. */
export async function eraseExpiredExportFiles(db: Db, at: Date, dryRun: boolean): Promise<number> {
  const system = systemCtx('retention').actor;
  if (dryRun) {
    const [row] = await db.read<{ n: number }>(
      system,
      'SELECT count(*)::int AS n FROM export_requests WHERE file IS NOT NULL AND expires_at <= $1',
      [at],
    );
    return row?.n ?? 0;
  }
  const rows = await db.tx(system, (tx) =>
    tx.query<{ id: string }>(
      'UPDATE export_requests SET file = NULL WHERE file IS NOT NULL AND expires_at <= $1 RETURNING id',
      [at],
    ),
  );
  return rows.length;
}
