/**
 * The notices' state machine in the database (migration 0018; docs/NOTICES.md, "Exactly once"):
 * pending → claimed → sent | failed. A batch is claimed in one transaction, committed before any of
 * its notices leaves; the outcomes of a batch are recorded in one transaction after its sends.
 */
import type { Tx } from '../db/types.ts';
import { plainArray } from '../registry/columns.ts';
import type { SealedRow } from '../registry/persons.ts';
import type { NoticeChannel } from './notices-create.ts';

/** A claimed notice, with its person's sealed row (decrypted only when it is sent). */
export interface ClaimedNotice {
  id: string;
  personId: string;
  channel: NoticeChannel;
  sealedText: Uint8Array;
  /** 1 on the first claim; more when a run before this one claimed it and did not record its outcome. */
  attempts: number;
  person: SealedRow;
}

/**
 * Makes the notices an earlier run recorded as failed pending again, at the start of a run: they are
 * retried (under the same notice, text and Message-ID) by this one. Failures of this run stay failed.
 */
export async function retryFailed(tx: Tx, incidentId: string): Promise<number> {
  const rows = await tx.query(
    `UPDATE notices SET state = 'pending' WHERE incident_id = $1 AND state = 'failed' RETURNING id`,
    [incidentId],
  );
  return rows.length;
}

/**
 * Claims up to `limit` notices of the incident (letters only, or every other channel) that are
 * pending, or were left claimed by an earlier run (`claimed_at` before `runStart`: it may have
 * crashed after sending them), in the caller's transaction. A notice claimed by this run is not
 * taken again by it.
 */
export async function claimNotices(
  tx: Tx,
  incidentId: string,
  letters: boolean,
  runStart: Date,
  now: Date,
  limit: number,
): Promise<ClaimedNotice[]> {
  const claimed = await tx.query<{
    id: string;
    person_id: string;
    channel: NoticeChannel;
    signed_text_enc: Uint8Array;
    attempts: number;
  }>(
    // Through the partial index notices_open (pending and claimed rows only): no ORDER BY, which
    // would sort every open notice at each claim (100,000 at the start of a large incident).
    `UPDATE notices n SET state = 'claimed', claimed_at = $4, attempts = n.attempts + 1
     WHERE n.id IN (
       SELECT id FROM notices
       WHERE incident_id = $1 AND state IN ('pending', 'claimed') AND (channel = 'letter') = $2
         AND (state = 'pending' OR claimed_at < $3)
       LIMIT $5 FOR UPDATE SKIP LOCKED)
     RETURNING n.id, n.person_id, n.channel, n.signed_text_enc, n.attempts`,
    [incidentId, letters, runStart, now, limit],
  );
  if (claimed.length === 0) return [];
  const persons = await tx.query<SealedRow>(
    'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = ANY($1::uuid[])',
    [plainArray(claimed.map((c) => c.person_id))],
  );
  const byId = new Map(persons.map((p) => [p.id, p]));
  return claimed
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((c) => ({
      id: c.id,
      personId: c.person_id,
      channel: c.channel,
      sealedText: c.signed_text_enc,
      attempts: c.attempts,
      person: byId.get(c.person_id)!,
    }));
}

/** Records a batch's outcomes: sent (portal notices delivered at once), failed. */
export async function recordOutcomes(
  tx: Tx,
  outcomes: { sent: string[]; delivered: string[]; failed: string[] },
  now: Date,
): Promise<void> {
  if (outcomes.sent.length > 0)
    await tx.query(`UPDATE notices SET state = 'sent', sent_at = $2 WHERE id = ANY($1::uuid[])`, [
      plainArray(outcomes.sent),
      now,
    ]);
  if (outcomes.delivered.length > 0)
    await tx.query(
      `UPDATE notices SET state = 'sent', sent_at = $2, delivered_at = $2 WHERE id = ANY($1::uuid[])`,
      [plainArray(outcomes.delivered), now],
    );
  if (outcomes.failed.length > 0)
    await tx.query(`UPDATE notices SET state = 'failed', failed_at = $2 WHERE id = ANY($1::uuid[])`, [
      plainArray(outcomes.failed),
      now,
    ]);
}

/** The incident's notices by state. */
export async function noticeStates(tx: Tx, incidentId: string): Promise<Record<string, number>> {
  const rows = await tx.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM notices WHERE incident_id = $1 GROUP BY state',
    [incidentId],
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
