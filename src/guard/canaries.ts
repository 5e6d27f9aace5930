/**
 * Canary persons (docs/DESIGN.md sections 4 and 6): persons of the synthetic population, with plausible
 * identities like every other, in no partner's caseload and assigned to no counselor, so that no
 * legitimate workflow reaches them (they stay registered with their agency, as every person is). Nothing in
 * `persons` marks them; `guard_canaries` lists them, readable by the operator's CLI (system actor)
 * only, and the gate asks through `rempart_guard_canaries` which of the persons it is about to
 * return are canaries. Touching one suspends the account in the same request.
 */
import type { Tx } from '../db/types.ts';

/** Canaries planted by default: two per thousand persons (none under a hundred persons), and one per agency at least. */
export function defaultCanaryCount(persons: number): number {
  return persons < 100 ? 0 : Math.max(1, Math.round(persons * 0.002));
}

/**
 * Plants canaries among registered persons followed by no partner and no counselor: one in every
 * agency that has none yet (a sweep of any agency can meet one), then more across the registry up to
 * `count` in all, in an order fixed by `seed` (reproducible, yet not the order of ids). Returns how
 * many were planted. Runs as the system actor.
 */
export async function plantCanaries(tx: Tx, count: number, seed: number, now: Date): Promise<number> {
  if (count <= 0) return 0;
  // The canaries already planted are read first (a CTE): on Citus, guard_canaries is a table of the
  // coordinator and persons a distributed one, which cannot be joined directly.
  const taken = `taken AS MATERIALIZED (SELECT person_id FROM guard_canaries)`;
  const eligible = `p.status = 'registered'
       AND NOT EXISTS (
         SELECT 1 FROM caseloads c
         WHERE c.person_id = p.id AND (c.organisation_id <> p.agency_organisation_id OR c.counselor_id IS NOT NULL))
       AND p.id NOT IN (SELECT person_id FROM taken)`;
  const perAgency = await tx.query(
    `WITH ${taken},
     covered AS MATERIALIZED (
       SELECT DISTINCT q.agency_organisation_id FROM persons q WHERE q.id IN (SELECT person_id FROM taken))
     INSERT INTO guard_canaries (person_id, created_at)
     SELECT id, $2 FROM (
       SELECT DISTINCT ON (p.agency_organisation_id) p.id, p.agency_organisation_id
       FROM persons p
       WHERE ${eligible}
         AND p.agency_organisation_id NOT IN (SELECT agency_organisation_id FROM covered)
       ORDER BY p.agency_organisation_id, md5(p.id::text || $1)
     ) first
     RETURNING 1`,
    [String(seed), now],
  );
  const rest = count - perAgency.length;
  if (rest <= 0) return perAgency.length;
  const more = await tx.query(
    `WITH ${taken}
     INSERT INTO guard_canaries (person_id, created_at)
     SELECT p.id, $3 FROM persons p
     WHERE ${eligible}
     ORDER BY md5(p.id::text || $2)
     LIMIT $1
     RETURNING 1`,
    [rest, String(seed), now],
  );
  return perAgency.length + more.length;
}

/** How many canaries the registry holds. */
export async function countCanaries(tx: Tx): Promise<number> {
  const [row] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM guard_canaries');
  return row?.n ?? 0;
}
