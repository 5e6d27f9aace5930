/**
 * A planted incident for the notices' benchmark and tests: a seeded registry's persons (all of them,
 * or the first `persons` by id) in an incident opened by a security officer account, each with a
 * few exposed fields (three patterns, so the notices' texts and risks differ).
 */
import type { BreachScope } from '../src/audit/scope.ts';
import { systemCtx } from '../src/context.ts';
import type { Db } from '../src/db/types.ts';
import { createAccount } from '../src/identity/accounts.ts';
import { openIncident } from '../src/incidents/incidents.ts';

/** The exposed fields of the i-th person of a planted incident. */
export const PLANTED_FIELDS: readonly string[][] = [
  ['email', 'firstNames', 'lastName'],
  ['birthDate', 'nir'],
  ['address', 'lastName', 'phone'],
];

/** Opens an incident over `persons` persons of the registry (the first by id); returns its id and the persons. */
export async function plantIncident(
  db: Db,
  persons: number,
  now: Date,
  login = `officer${Math.floor(Math.random() * 1e9)}`,
): Promise<{ incidentId: string; personIds: string[] }> {
  const actor = systemCtx('bench').actor;
  return db.tx(actor, async (tx) => {
    const [org] = await tx.query<{ id: string }>('SELECT id FROM organisations ORDER BY id LIMIT 1');
    if (!org) throw new Error('seed the registry first');
    const officer = await createAccount(
      tx,
      {
        organisationId: org.id,
        login,
        displayName: 'Officer',
        email: `${login}@rempart.invalid`,
        role: 'security_officer',
        password: 'correct horse battery staple 42',
      },
      now,
      null,
    );
    const ids = (
      await tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id LIMIT $1', [persons])
    ).map((r) => r.id);
    const at = now;
    const scope: BreachScope = {
      accounts: [officer.id],
      from: new Date(now.getTime() - 3_600_000),
      to: now,
      persons: ids.map((personId, i) => ({
        personId,
        fields: [...PLANTED_FIELDS[i % PLANTED_FIELDS.length]!].sort(),
        firstAt: at,
        lastAt: at,
        events: 1,
      })),
      personCount: ids.length,
      events: ids.length,
      fieldCounts: {},
    };
    const incidentId = await openIncident(tx, {
      openedAt: now,
      openedBy: officer.id,
      kind: 'compromised_account',
      scope,
      note: null,
    });
    return { incidentId, personIds: ids };
  });
}
