/**
 * Demo staff accounts, one per role, made with the demo population (`npm start`). Their passwords
 * are random and kept in `demo-accounts.json` (mode 0600) in the data folder; each account enrols its
 * second factor at first login, like any account.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import type { Role } from '../identity/accounts.ts';
import { createAccountAs } from './account.ts';

export interface DemoAccount {
  login: string;
  role: Role;
  organisation: string;
  password: string;
}

const DEMO_FILE = 'demo-accounts.json';

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

/** Creates the demo accounts and writes their passwords to the data folder (0600). */
export async function createDemoAccounts(config: Config, db: Db, now: Date): Promise<DemoAccount[]> {
  const { systemCtx } = await import('../context.ts');
  const organisations = await db.tx(systemCtx('demo').actor, (tx) =>
    tx.query<{ kind: string; code: string }>(
      `SELECT DISTINCT ON (kind) kind, code FROM organisations o
       WHERE kind <> 'national' OR code = 'FT-DG'
       ORDER BY kind, (SELECT count(*) FROM caseloads c WHERE c.organisation_id = o.id) DESC, code`,
    ),
  );
  const codeOf = new Map(organisations.map((o) => [o.kind, o.code]));
  const accounts: DemoAccount[] = [];
  for (const plan of PLAN) {
    const organisation = codeOf.get(plan.kind);
    if (!organisation) continue;
    const password = `demo-${randomBytes(12).toString('base64url')}`;
    await createAccountAs(db, now, {
      login: plan.login,
      organisation,
      role: plan.role,
      email: `${plan.login}@demo.rempart.invalid`,
      displayName: plan.name,
      password,
    });
    accounts.push({ login: plan.login, role: plan.role, organisation, password });
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

/** How to log in, printed by `npm start`. */
export function howToLogIn(url: string, accounts: DemoAccount[], file: string): string {
  if (accounts.length === 0) return '';
  const width = Math.max(...accounts.map((a) => a.login.length));
  return [
    'Demo accounts (passwords in ' + file + ', readable by you only):',
    ...accounts.map((a) => `  ${a.login.padEnd(width)}  ${a.role.padEnd(22)} ${a.organisation}`),
    'Log in: POST ' + url + '/api/v1/auth/login {"login", "password"} (a cookie and a csrfToken come back);',
    'first login: enrol an authenticator app with POST /api/v1/me/factors/totp, then',
    'POST /api/v1/me/factors/totp/confirm {"factorId", "code"} (header x-csrf-token); keep the ten recovery codes.',
    'Then each login: POST /api/v1/auth/totp {"code"}. Every step is in ' + url + '/api/openapi.json.',
  ].join('\n');
}
