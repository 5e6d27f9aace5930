/**
 * Fixtures for the gate's tests: a staff world with a seeded synthetic population, the persons as
 * the test knows them (identity, agency, caseloads), and enrolled staff clients by role.
 */
import { systemCtx } from '../../src/context.ts';
import type { GuardConfig } from '../../src/guard/thresholds.ts';
import type { Account, Role } from '../../src/identity/accounts.ts';
import { IDENTITY_FIELDS, type Identity } from '../../src/registry/person.ts';
import { openIdentity } from '../../src/registry/persons.ts';
import { seedPopulation } from '../../src/registry/seed.ts';
import { enrolled, type StaffClient, type StaffWorld, staffWorld } from './staff.ts';

export interface KnownPerson {
  id: string;
  agencyOrganisationId: string;
  /** Organisations whose current caseload holds the person. */
  caseloads: string[];
  identity: Identity;
}

export interface RegistryWorld extends StaffWorld {
  persons: KnownPerson[];
  /** The agency with the most persons, and the partner organisation with the largest caseload. */
  agency: string;
  partner: string;
  national: string;
  /** An enrolled client ('mfa' session) for a new account of this role in this organisation. */
  staff(role: Role, organisationId: string): Promise<{ client: StaffClient; account: Account }>;
}

/** A staff world with `count` seeded persons. */
export async function registryWorld(
  count = 200,
  options: { guard?: GuardConfig; env?: Record<string, string>; consoleDir?: string } = {},
): Promise<RegistryWorld> {
  const world = await staffWorld(options);
  await seedPopulation(world.t.db, world.keys.registry, { persons: count, seed: 7, workers: 0 });
  const system = systemCtx('test').actor;
  const rows = await world.t.driver.transaction((tx) =>
    tx.query<{ id: string; agency: string; caseloads: string[] | null }>(
      `SELECT p.id, p.agency_organisation_id AS agency,
         array_agg(c.organisation_id::text) FILTER (WHERE c.organisation_id IS NOT NULL) AS caseloads
       FROM persons p LEFT JOIN caseloads c ON c.person_id = p.id AND (c.until IS NULL OR c.until >= current_date)
       GROUP BY p.id ORDER BY p.id`,
    ),
  );
  const persons: KnownPerson[] = [];
  await world.t.db.tx(system, async (tx) => {
    for (const row of rows) {
      const identity = (await openIdentity(tx, world.keys.registry, row.id, IDENTITY_FIELDS)) as Identity;
      persons.push({
        id: row.id,
        agencyOrganisationId: row.agency,
        caseloads: row.caseloads ?? [],
        identity,
      });
    }
  });
  const kinds = await world.t.driver.transaction((tx) =>
    tx.query<{ id: string; kind: string }>('SELECT id, kind FROM organisations'),
  );
  const kindOf = new Map(kinds.map((k) => [k.id, k.kind]));
  const most = (counts: Map<string, number>): string =>
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  const agencyCounts = new Map<string, number>();
  const partnerCounts = new Map<string, number>();
  for (const person of persons) {
    agencyCounts.set(person.agencyOrganisationId, (agencyCounts.get(person.agencyOrganisationId) ?? 0) + 1);
    for (const org of person.caseloads) {
      if (['cap_emploi', 'mission_locale', 'training_body'].includes(kindOf.get(org) ?? '')) {
        partnerCounts.set(org, (partnerCounts.get(org) ?? 0) + 1);
      }
    }
  }
  const national = await world.organisation({ kind: 'national' });
  return {
    ...world,
    persons,
    agency: most(agencyCounts),
    partner: most(partnerCounts),
    national,
    async staff(role, organisationId) {
      const account = await world.account({ role, organisationId });
      const { client } = await enrolled(world, account);
      return { client, account };
    },
  };
}

/** The persons a partner organisation may reach: its current caseload. */
export function caseloadOf(world: RegistryWorld, organisationId: string): KnownPerson[] {
  return world.persons.filter((p) => p.caseloads.includes(organisationId));
}

/** An audit event as the gate's tests read it (as a DBA reads it), with its person links. */
export interface RequestAudit {
  action: string;
  purpose: string | null;
  decision: string;
  reason: string | null;
  query: Record<string, unknown>;
  justification: string | null;
  result_count: number;
  persons: { person_id: string; fields: string[] }[];
}

/**
 * The audit event of one request and its person links. Two statements: on Citus the events stay on
 * the coordinator and the links are distributed by person, which one statement cannot join there.
 */
export async function auditOfRequest(w: StaffWorld, requestId: string): Promise<RequestAudit> {
  return w.t.driver.transaction(async (tx) => {
    const [row] = await tx.query<Omit<RequestAudit, 'persons'> & { id: string }>(
      `SELECT e.id::text AS id, e.action, e.purpose, e.decision, e.reason, e.query, e.justification, e.result_count
         FROM audit_events e WHERE e.request_id = $1`,
      [requestId],
    );
    if (!row) throw new Error(`no audit event for request ${requestId}`);
    const links = await tx.query<{ persons: RequestAudit['persons'] | null }>(
      `SELECT json_agg(json_build_object('person_id', l.person_id, 'fields', l.fields)) AS persons
         FROM audit_event_persons l WHERE l.event_id = $1`,
      [row.id],
    );
    const { id: _id, ...event } = row;
    return { ...event, persons: links[0]?.persons ?? [] };
  });
}
