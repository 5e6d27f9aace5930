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
  for (const plan of ordered) {
    await tx.query(
      `INSERT INTO organisations (id, kind, code, name, parent_id, department)
       VALUES (gen_random_uuid(), $1, $2, $3, (SELECT id FROM organisations WHERE code = $4), $5)
       ON CONFLICT (code) DO NOTHING`,
      [plan.kind, plan.code, plan.name, plan.parentCode, plan.department],
    );
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
