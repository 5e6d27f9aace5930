/**
 * Demo staff accounts, made with the demo population (`npm start`): every role, some in several
 * kinds of organisation (PLAN). Their passwords are random and kept in `demo-accounts.json` (mode
 * 0600) in the data folder with, for each account, a few synthetic persons it can reach, so that a
 * newcomer has someone to search for. Each account enrols its second factor at first login, like
 * any account; it is marked `demo` in the database (the guard's demo levels, no probation:
 * docs/GUARD.md).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { POLICY } from '../access/policy.ts';
import type { Purpose } from '../access/purposes.ts';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import type { Role } from '../identity/accounts.ts';
import { openIdentity, type RegistryKeys } from '../registry/persons.ts';
import { createAccountAs } from './account.ts';

/** A synthetic person a demo account can find (searched by agency id, or by name and birth date). */
export interface DemoPerson {
  agencyId: string;
  lastName: string;
  firstNames: string;
  birthDate: string;
}

/**
 * How an account reaches persons: its agency and caseload, its caseload only, a justified
 * national read (security officers, the DPO), or not at all (managers, administrators, helpdesk,
 * subcontractors: T1, T8).
 */
export type DemoReach = 'agency' | 'caseload' | 'national' | 'none';

export interface DemoAccount {
  login: string;
  role: Role;
  organisation: string;
  password: string;
  reach?: DemoReach;
  /** The purpose to give when searching. */
  purpose?: Purpose;
  persons?: DemoPerson[];
}

const DEMO_FILE = 'demo-accounts.json';
/** Persons listed per demo account. */
export const DEMO_PERSONS_PER_ACCOUNT = 3;

/** The demo accounts: which organisation (by kind) holds each role. */
const PLAN: { login: string; role: Role; kind: string; name: string }[] = [
  { login: 'demo.conseiller', role: 'counselor', kind: 'agency', name: 'Claire Conseillère' },
  { login: 'demo.manager.agence', role: 'org_manager', kind: 'agency', name: 'Marc Manager' },
  { login: 'demo.partenaire', role: 'partner_counselor', kind: 'cap_emploi', name: 'Paula Partenaire' },
  { login: 'demo.manager.partenaire', role: 'org_manager', kind: 'cap_emploi', name: 'Mona Manager' },
  { login: 'demo.mission.locale', role: 'partner_counselor', kind: 'mission_locale', name: 'Malik Mission' },
  {
    login: 'demo.prestataire',
    role: 'subcontractor_operator',
    kind: 'subcontractor',
    name: 'Sacha Prestataire',
  },
  { login: 'demo.assistance', role: 'helpdesk', kind: 'national', name: 'Hélène Assistance' },
  { login: 'demo.securite', role: 'security_officer', kind: 'national', name: 'Sami Sécurité' },
  { login: 'demo.dpo', role: 'dpo', kind: 'national', name: 'Dominique Protection' },
  { login: 'demo.admin', role: 'administrator', kind: 'national', name: 'Alex Administration' },
  { login: 'demo.manager.national', role: 'org_manager', kind: 'national', name: 'Nadia National' },
];

/** How a role reaches persons, and the purpose it searches with (from the policy table). */
export function reachOf(role: Role): { reach: DemoReach; purpose?: Purpose } {
  const rules = Object.entries(POLICY[role] ?? {}) as [
    Purpose,
    NonNullable<(typeof POLICY)[Role]>[Purpose],
  ][];
  for (const scope of ['agency', 'caseload'] as const) {
    const found = rules.find(([, rule]) => rule?.scope === scope && rule.search.includes('agencyId'));
    if (found) return { reach: scope, purpose: found[0] };
  }
  const national = rules.find(([, rule]) => rule?.national && rule.search.includes('agencyId'));
  return national ? { reach: 'national', purpose: national[0] } : { reach: 'none' };
}

/**
 * A few registered persons an account of this organisation reaches, canaries excluded (touching
 * one suspends the account: docs/GUARD.md). Agency: the agency's persons; caseload: the
 * organisation's current caseload (as the database's row-level security has it, migration 0006);
 * national: any agency's persons. Decrypted here, as the operator's CLI, for the operator's own
 * terminal and the 0600 file: synthetic persons only (the demo seeds them).
 */
export async function demoPersons(
  tx: Tx,
  registry: RegistryKeys,
  reach: DemoReach,
  organisationId: string,
  count = DEMO_PERSONS_PER_ACCOUNT,
): Promise<DemoPerson[]> {
  if (reach === 'none') return [];
  const where = {
    agency: 'p.agency_organisation_id = $1',
    caseload: `EXISTS (SELECT 1 FROM caseloads c WHERE c.person_id = p.id AND c.organisation_id = $1
                 AND c.since <= current_date AND (c.until IS NULL OR c.until >= current_date))`,
    national: '$1::uuid IS NOT NULL',
  }[reach];
  const rows = await tx.query<{ id: string }>(
    `SELECT p.id FROM persons p
     WHERE ${where} AND p.status = 'registered'
       AND NOT EXISTS (SELECT 1 FROM guard_canaries g WHERE g.person_id = p.id)
     ORDER BY p.id LIMIT $2`,
    [organisationId, count],
  );
  const persons: DemoPerson[] = [];
  for (const row of rows) {
    const identity = await openIdentity(tx, registry, row.id, [
      'agencyId',
      'lastName',
      'firstNames',
      'birthDate',
    ] as const);
    if (identity) persons.push({ ...identity });
  }
  return persons;
}

/** Creates the demo accounts and writes their passwords and persons to the data folder (0600). */
export async function createDemoAccounts(
  config: Config,
  db: Db,
  registry: RegistryKeys,
  now: Date,
): Promise<DemoAccount[]> {
  const organisations = await db.tx(systemCtx('demo').actor, (tx) =>
    tx.query<{ kind: string; code: string; id: string }>(
      `SELECT DISTINCT ON (kind) kind, code, id FROM organisations o
       WHERE kind <> 'national' OR code = 'FT-DG'
       ORDER BY kind, (SELECT count(*) FROM caseloads c WHERE c.organisation_id = o.id) DESC, code`,
    ),
  );
  const byKind = new Map(organisations.map((o) => [o.kind, o]));
  const accounts: DemoAccount[] = [];
  for (const plan of PLAN) {
    const organisation = byKind.get(plan.kind);
    if (!organisation) continue;
    const password = `demo-${randomBytes(12).toString('base64url')}`;
    await createAccountAs(db, now, {
      login: plan.login,
      organisation: organisation.code,
      role: plan.role,
      email: `${plan.login}@demo.rempart.invalid`,
      displayName: plan.name,
      password,
      demo: true,
    });
    const { reach, purpose } = reachOf(plan.role);
    const persons = await db.tx(systemCtx('demo').actor, (tx) =>
      demoPersons(tx, registry, reach, organisation.id),
    );
    accounts.push({
      login: plan.login,
      role: plan.role,
      organisation: organisation.code,
      password,
      reach,
      ...(purpose ? { purpose } : {}),
      persons,
    });
  }
  const handle = await open(path.join(config.dataDir, DEMO_FILE), 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(accounts, null, 2)}\n`);
  } finally {
    await handle.close();
  }
  return accounts;
}

/** The demo accounts written at the first start, if any. */
export async function readDemoAccounts(config: Config): Promise<DemoAccount[]> {
  try {
    return JSON.parse(await readFile(path.join(config.dataDir, DEMO_FILE), 'utf8')) as DemoAccount[];
  } catch {
    return [];
  }
}

/** The demo accounts' logins that have a confirmed second factor (they need no enrolment help). */
export async function enrolledDemoLogins(db: Db): Promise<Set<string>> {
  const rows = await db.tx(systemCtx('demo').actor, (tx) =>
    tx.query<{ login: string }>(
      `SELECT a.login FROM accounts a WHERE a.demo AND EXISTS (
         SELECT 1 FROM second_factors f WHERE f.account_id = a.id AND f.confirmed_at IS NOT NULL
           AND f.revoked_at IS NULL)`,
    ),
  );
  return new Set(rows.map((r) => r.login));
}

/** "11 demo staff accounts for the 8 roles: ..." — how many accounts, how many roles, which. */
export function describeDemoAccounts(accounts: readonly Pick<DemoAccount, 'role'>[]): string {
  const perRole = new Map<string, number>();
  for (const a of accounts) perRole.set(a.role, (perRole.get(a.role) ?? 0) + 1);
  const roles = [...perRole].map(([role, n]) => (n > 1 ? `${role} ×${n}` : role)).join(', ');
  const noun = accounts.length === 1 ? 'account' : 'accounts';
  const roleNoun = perRole.size === 1 ? 'role' : 'roles';
  return `${accounts.length} demo staff ${noun} for ${perRole.size} ${roleNoun}: ${roles}`;
}

const REACH_TEXT: Record<DemoReach, string> = {
  agency: 'its agency and caseload',
  caseload: "its organisation's caseload",
  national: 'national reads only (add "national": true and a "justification")',
  none: 'no person (by design)',
};

/** How to log in and whom to search for, printed by `npm start`. */
export function howToLogIn(
  url: string,
  accounts: DemoAccount[],
  file: string,
  enrolled: ReadonlySet<string> = new Set(),
): string {
  if (accounts.length === 0) return '';
  const width = Math.max(...accounts.map((a) => a.login.length));
  const lines = [`Demo accounts (passwords in ${file}, readable by you only):`];
  for (const a of accounts) {
    const reach = a.reach ? `  reaches ${REACH_TEXT[a.reach]}` : '';
    const status = enrolled.has(a.login) ? '' : '  [first login: enrol a second factor]';
    lines.push(`  ${a.login.padEnd(width)}  ${a.role.padEnd(22)} ${a.organisation}${reach}${status}`);
    for (const p of a.persons ?? []) {
      lines.push(
        `  ${''.padEnd(width)}    ${p.agencyId}  ${p.lastName} ${p.firstNames}, born ${p.birthDate}`,
      );
    }
  }
  lines.push(
    `Log in: POST ${url}/api/v1/auth/login {"login", "password"} (a cookie and a csrfToken come back);`,
  );
  if (accounts.some((a) => !enrolled.has(a.login))) {
    lines.push(
      'first login: enrol an authenticator app with POST /api/v1/me/factors/totp, then',
      'POST /api/v1/me/factors/totp/confirm {"factorId", "code"} (header x-csrf-token); keep the ten recovery codes.',
    );
  }
  lines.push(
    'Then each login: POST /api/v1/auth/totp {"code"}.',
    'Find a person: POST /api/v1/persons/search {"purpose": "accompaniment", "by": "agencyId", "agencyId": "..."}',
    `(the purpose of each account is in the file). Every step is in ${url}/api/openapi.json.`,
  );
  return lines.join('\n');
}
