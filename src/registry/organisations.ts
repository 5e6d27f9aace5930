/** Organisations of the registry (agencies, partners, subcontractors) as the seed and import see them. */
import type { Tx } from '../db/types.ts';
import type { OrganisationKind, OrganisationPlan } from './organisations-plan.ts';

export interface OrganisationRow {
  id: string;
  code: string;
  kind: OrganisationKind;
  name: string;
  department: string | null;
}

/** Creates the planned organisations that do not exist yet (by code), parents first; returns all of them. */
export async function upsertOrganisations(
  tx: Tx,
  plans: readonly OrganisationPlan[],
): Promise<OrganisationRow[]> {
  const ordered = [
    ...plans.filter((p) => p.parentCode === null),
    ...plans.filter((p) => p.parentCode !== null),
  ];
  // The parents' ids are looked up first, not in a subquery of the INSERT: Citus refuses a subquery
  // in INSERT ... VALUES (organisations is a reference table there, docs/SCALING.md).
  const ids = new Map<string, string>();
  const idOf = async (code: string | null): Promise<string | null> => {
    if (code === null) return null;
    if (!ids.has(code)) {
      const rows = await tx.query<{ id: string }>('SELECT id FROM organisations WHERE code = $1', [code]);
      if (rows[0]) ids.set(code, rows[0].id);
    }
    return ids.get(code) ?? null;
  };
  for (const plan of ordered) {
    const created = await tx.query<{ id: string }>(
      `INSERT INTO organisations (id, kind, code, name, parent_id, department)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5)
       ON CONFLICT (code) DO NOTHING RETURNING id`,
      [plan.kind, plan.code, plan.name, await idOf(plan.parentCode), plan.department],
    );
    if (created[0]) ids.set(plan.code, created[0].id);
  }
  return tx.query<OrganisationRow>(
    'SELECT id, code, kind, name, department FROM organisations WHERE code = ANY($1::text[]) ORDER BY code',
    [plans.map((p) => p.code)],
  );
}

/** All organisations by code (import resolves agency and caseload codes with it). */
export async function organisationsByCode(tx: Tx): Promise<Map<string, OrganisationRow>> {
  const rows = await tx.query<OrganisationRow>('SELECT id, code, kind, name, department FROM organisations');
  return new Map(rows.map((r) => [r.code, r]));
}
