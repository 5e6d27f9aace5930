/**
 * The categories of persons in an incident's scope (GDPR art. 33(3)(a): "the categories and
 * approximate number of data subjects"): how many are registered, deregistered, candidates,
 * archived (the registry's statuses, migration 0001), and how many were minors on the detection
 * date. Counts only are kept, in the incident's scope JSON; no person's data leaves.
 *
 * Minors: the birth date is encrypted, so it is decrypted by the system actor, one person at a time,
 * for the count only (docs/INCIDENTS.md); the run is one audit event of the system actor
 * ('incident.categorise', no person link: nothing of any person is returned to anyone).
 */
import { appendAudit } from '../audit/append.ts';
import type { Tx } from '../db/types.ts';
import { isMinorOn } from '../registry/birth-date.ts';
import { openSealedRow, type RegistryKeys, type SealedRow } from '../registry/persons.ts';

/** The registry's statuses of a person (persons.status), in the order a report lists them. */
export const PERSON_STATUSES = ['registered', 'deregistered', 'candidate', 'archived'] as const;

/** Counts by category of person; `minors` is null when it was not counted (no registry keys). */
export interface PersonCategories {
  byStatus: Record<(typeof PERSON_STATUSES)[number], number>;
  minors: number | null;
}

/** Persons whose birth date is decrypted per statement. */
const BATCH = 1000;

/**
 * Counts an incident's persons (incident_persons) by status and, with `keys`, the minors on
 * `detectedAt`; in the caller's transaction (system actor); `run` names the request and time of the audit event. Stores the counts in the incident's
 * scope JSON (`categories`) and returns them.
 */
export async function categoriseIncident(
  tx: Tx,
  keys: RegistryKeys | null,
  incidentId: string,
  detectedAt: Date,
  run: { requestId: string; now: Date },
): Promise<PersonCategories> {
  const rows = await tx.query<{ status: string; n: number }>(
    `SELECT p.status, count(*)::int AS n FROM incident_persons ip JOIN persons p ON p.id = ip.person_id
     WHERE ip.incident_id = $1 GROUP BY p.status`,
    [incidentId],
  );
  const byStatus = Object.fromEntries(PERSON_STATUSES.map((s) => [s, 0])) as PersonCategories['byStatus'];
  for (const row of rows) byStatus[row.status as keyof typeof byStatus] = row.n;
  let minors: number | null = null;
  if (keys !== null) {
    minors = 0;
    let after: string | null = null;
    for (;;) {
      const batch: (SealedRow & { person_id: string })[] = await tx.query(
        `SELECT p.id, p.id AS person_id, p.kek_id, p.wrapped_key, p.sealed
         FROM incident_persons ip JOIN persons p ON p.id = ip.person_id
         WHERE ip.incident_id = $1 AND ($2::uuid IS NULL OR ip.person_id > $2::uuid)
         ORDER BY ip.person_id LIMIT $3`,
        [incidentId, after, BATCH],
      );
      for (const row of batch) {
        const { birthDate } = await openSealedRow(keys, row, ['birthDate']);
        if (birthDate && isMinorOn(birthDate, detectedAt)) minors++;
      }
      if (batch.length < BATCH) break;
      after = batch[batch.length - 1]!.person_id;
    }
    await appendAudit(
      tx,
      {
        actor: { kind: 'system', operation: 'incidents' },
        sessionRef: null,
        requestId: run.requestId,
        sourceAddress: null,
        at: run.now,
      },
      {
        action: 'incident.categorise',
        purpose: 'incident_investigation',
        query: { incidentId, fields: 'birthDate', countOnly: true },
        decision: 'allow',
        resultCount: 0,
        persons: [],
      },
    );
  }
  const categories: PersonCategories = { byStatus, minors };
  await tx.query(
    `UPDATE incidents SET scope = scope || jsonb_build_object('categories', $2::jsonb) WHERE id = $1`,
    [incidentId, JSON.stringify(categories)],
  );
  return categories;
}
