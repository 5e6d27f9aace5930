/**
 * Waiting for another process's sequencer. On the embedded database, a CLI command run while
 * `rempart serve` holds it reaches the server's PGlite through its socket (db/pglite-share.ts).
 * The CLI then does not sequence itself: the server's sequencer is the single writer of the tree
 * and of the published checkpoint file, so checkpoints are appended in the order they were signed
 * by one process, never by two whose appends could cross (issue 10 saw a forked file). The CLI
 * waits until every event pending when it started is folded into the tree.
 */
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';

/** Waits until the events pending now are sequenced by the server; returns how many there were. */
export async function waitForServerSequencer(
  db: Db,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<number> {
  const count = (upTo: string | null) =>
    db.sequencerTx(async (tx) => {
      const [row] = await tx.query<{ n: number; newest: string | null }>(
        `SELECT count(*)::int AS n, max(event_id)::text AS newest FROM audit_pending
          WHERE $1::bigint IS NULL OR event_id <= $1::bigint`,
        [upTo],
      );
      return row!;
    });
  const start = await count(null);
  if (start.n === 0) return 0;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const left = await count(start.newest);
    if (left.n === 0) return start.n;
    if (Date.now() >= deadline) {
      throw new AppError(
        'database_unavailable',
        `the server sharing the embedded database (process ${db.servedBy}) has not sequenced the ${left.n} audit events pending for ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s; its sequencer may be failing: see its log`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
