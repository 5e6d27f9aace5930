/**
 * The sequencer's lag (issue 10, section 2): how many events wait in audit_pending and how old the
 * oldest is. An event not yet folded into the Merkle tree is covered by no signed checkpoint, so a
 * database superuser can still alter or delete it unseen (T-audit); a sequencer that stalls (its
 * advisory lock held by someone else, or the process killed) must therefore be visible and alerted.
 */
import type { Db } from '../db/types.ts';

/** What /api/health reports about the audit sequencer. */
export interface SequencerLag {
  /** Events appended and not yet in the tree. */
  pendingEvents: number;
  /** Seconds since the oldest pending event was appended (0 when nothing waits). */
  oldestPendingSeconds: number;
}

/**
 * Reads the lag as the sequencer's role (the only one that reads audit_pending). A pending id
 * whose event is gone counts as pending; its age is unknown, so it counts from its neighbours.
 * Plain reads: an advisory lock held elsewhere does not block them. The age is taken on the
 * database's wall clock, not the application's: under the drill's simulated time (weeks in
 * minutes) an event a second old would otherwise look days old.
 */
export async function readSequencerLag(db: Db): Promise<SequencerLag> {
  const [row] = await db.sequencerTx((tx) =>
    tx.query<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n,
              floor(extract(epoch FROM clock_timestamp() - min(e.occurred_at)))::float8 AS age
         FROM audit_pending p LEFT JOIN audit_events e ON e.id = p.event_id`,
    ),
  );
  const pendingEvents = row?.n ?? 0;
  const age = row?.age == null ? 0 : Number(row.age);
  return { pendingEvents, oldestPendingSeconds: pendingEvents === 0 ? 0 : Math.max(0, age) };
}

/** True when the sequencer is late enough to degrade health and alert the security officers. */
export function isLagging(lag: SequencerLag, alertSeconds: number): boolean {
  return lag.pendingEvents > 0 && lag.oldestPendingSeconds >= alertSeconds;
}
