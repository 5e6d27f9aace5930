/**
 * The first ten minutes of a new user, through the real app: the demo accounts each find the
 * persons `demo-accounts.json` lists for them, are not on probation and get the guard's demo
 * levels, while a real account keeps the real ones; a throttle or a step-up says which kind of
 * limit was reached and when it ends, never the threshold; GET /me gives the account id; the demo
 * mark is the operator's alone (the database refuses it to anyone else).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoAccounts,
  type DemoAccount,
  describeDemoAccounts,
  enrolledDemoLogins,
  howToLogIn,
} from '../src/cli/demo-accounts.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { LIMIT_LABELS } from '../src/guard/signals.ts';
import { engine } from './helpers/db.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, StaffClient, totpAt } from './helpers/staff.ts';

const ROLES = [
  'counselor',
  'partner_counselor',
  'subcontractor_operator',
  'helpdesk',
  'org_manager',
  'security_officer',
  'dpo',
  'administrator',
];

describe(`the first hour on ${engine}`, () => {
  let w: RegistryWorld;
  let dir: string;
  let demo: DemoAccount[];
  const clients = new Map<string, StaffClient>();

  /** Logs a demo account in and enrols an authenticator app, as the printed help says. */
  async function logIn(account: DemoAccount): Promise<StaffClient> {
    const client = new StaffClient(w.app);
    expect((await client.login(account.login, account.password)).statusCode).toBe(200);
    const started = (await client.request('POST', '/api/v1/me/factors/totp')).json();
    const confirmed = await client.request('POST', '/api/v1/me/factors/totp/confirm', {
      factorId: started.factorId,
      code: await totpAt(started.secret, w.clock.now()),
    });
    expect(confirmed.statusCode).toBe(200);
    return client;
  }

  function search(
    client: StaffClient,
    account: DemoAccount,
    agencyId: string,
  ): Promise<LightMyRequestResponse> {
    return client.request('POST', '/api/v1/persons/search', {
      purpose: account.purpose,
      by: 'agencyId',
      agencyId,
      ...(account.reach === 'national'
        ? { national: true, justification: 'Trying the demo: finding a listed synthetic person' }
        : {}),
    });
  }

  beforeAll(async () => {
    w = await registryWorld(400);
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-demo-'));
    const config = { ...loadConfig({ REMPART_DATA: dir, LOG_LEVEL: 'silent' }) };
    demo = await createDemoAccounts(config, w.t.db, w.keys.registry, w.clock.now());
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes 11 demo accounts for the 8 roles, says so, and keeps them in a 0600 file with the persons each reaches', async () => {
    expect(demo).toHaveLength(11);
    expect(new Set(demo.map((a) => a.role))).toEqual(new Set(ROLES));
    expect(describeDemoAccounts(demo)).toBe(
      '11 demo staff accounts for 8 roles: counselor, org_manager ×3, partner_counselor ×2, subcontractor_operator, helpdesk, security_officer, dpo, administrator',
    );
    const file = path.join(dir, 'demo-accounts.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(demo);
    for (const account of demo) {
      const reaches = account.reach !== 'none';
      expect(account.persons!.length, account.login).toBe(reaches ? 3 : 0);
      for (const person of account.persons!) {
        expect(Object.keys(person).sort()).toEqual(['agencyId', 'birthDate', 'firstNames', 'lastName']);
      }
    }
    expect(demo.find((a) => a.role === 'partner_counselor')!.reach).toBe('caseload');
    expect(demo.find((a) => a.role === 'counselor')!.reach).toBe('agency');
    expect(demo.find((a) => a.role === 'dpo')!.reach).toBe('national');
  });

  it('every listed person is found by its account (in its scope), and the account is active, not on probation', async () => {
    for (const account of demo.filter((a) => a.reach !== 'none')) {
      const client = await logIn(account);
      clients.set(account.login, client);
      for (const person of account.persons!) {
        const found = await search(client, account, person.agencyId);
        expect(found.statusCode, `${account.login}: ${found.body}`).toBe(200);
        expect(found.json().results).toEqual([
          expect.objectContaining({ agencyId: person.agencyId, lastName: person.lastName }),
        ]);
      }
      const me = (await client.request('GET', '/api/v1/me')).json();
      expect(me.account.status).toBe('active');
    }
    const enrolledNow = await enrolledDemoLogins(w.t.db);
    expect([...enrolledNow].sort()).toEqual(
      demo
        .filter((a) => a.reach !== 'none')
        .map((a) => a.login)
        .sort(),
    );
  });

  it('the start-up help asks to enrol only the accounts not yet enrolled, and lists their persons', async () => {
    const enrolledNow = await enrolledDemoLogins(w.t.db);
    const help = howToLogIn('http://localhost:8080', demo, '/x/demo-accounts.json', enrolledNow);
    const partner = demo.find((a) => a.login === 'demo.partenaire')!;
    const admin = demo.find((a) => a.login === 'demo.admin')!;
    const lineOf = (login: string): string => help.split('\n').find((l) => l.trim().startsWith(login))!;
    expect(lineOf(partner.login)).not.toContain('first login');
    expect(lineOf(admin.login)).toContain('first login');
    expect(help).toContain(partner.persons![0]!.agencyId);
    expect(help).toContain(partner.persons![0]!.lastName);
    const allEnrolled = new Set(demo.map((a) => a.login));
    expect(howToLogIn('http://localhost:8080', demo, '/x/demo-accounts.json', allEnrolled)).not.toContain(
      'first login',
    );
  });

  it('GET /me returns the account id with the other fields', async () => {
    const partner = demo.find((a) => a.login === 'demo.partenaire')!;
    const me = await clients.get(partner.login)!.request('GET', '/api/v1/me');
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string }>('SELECT id FROM accounts WHERE login = $1', [partner.login]),
    );
    expect(me.json()).toEqual({
      account: {
        id: row!.id,
        login: partner.login,
        displayName: 'Paula Partenaire',
        role: 'partner_counselor',
        status: 'active',
        organisationId: expect.any(String),
      },
      assurance: 'mfa',
    });
  });

  it('a demo partner searches 12 times in a minute unhindered; a real partner on probation is throttled at the 5th search, told which limit and until when, not the threshold', async () => {
    const partner = demo.find((a) => a.login === 'demo.partenaire')!;
    const client = clients.get(partner.login)!;
    const agencyId = partner.persons![0]!.agencyId;
    for (let i = 0; i < 12; i++) expect((await search(client, partner, agencyId)).statusCode).toBe(200);

    const [org] = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string }>('SELECT id FROM organisations WHERE code = $1', [partner.organisation]),
    );
    const real = await w.account({ role: 'partner_counselor', organisationId: org!.id });
    const { client: realClient } = await enrolled(w, real);
    expect((await realClient.request('GET', '/api/v1/me')).json().account.status).toBe('probation');
    const statuses: number[] = [];
    let throttled: LightMyRequestResponse | undefined;
    for (let i = 0; i < 5 && !throttled; i++) {
      const response = await search(realClient, partner, agencyId);
      statuses.push(response.statusCode);
      if (response.statusCode === 429) throttled = response;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const body = throttled!.json();
    const now = w.clock.now().getTime();
    const endOfMinute = new Date(Math.floor(now / 60_000) * 60_000 + 60_000);
    expect(body).toMatchObject({
      code: 'throttled',
      limit: LIMIT_LABELS.searches_per_minute,
      retryAt: endOfMinute.toISOString(),
    });
    expect(body.limit).toBe('searches this minute');
    expect(Number(throttled!.headers['retry-after'])).toBe(Math.ceil((endOfMinute.getTime() - now) / 1000));
    expect(body.detail).toContain('searches this minute');
    expect(body.detail).toContain(endOfMinute.toISOString().slice(11, 19));
    // No level or count in the answer: a script told the threshold would stay just under it.
    expect(Object.keys(body).sort()).toEqual(
      ['code', 'detail', 'limit', 'requestId', 'retryAt', 'status', 'title', 'type'].sort(),
    );
    expect(body.detail).not.toMatch(/\b(5|20)\b(?!:)/);
    // While throttled, the same answer: the limit and the same end.
    const again = (await search(realClient, partner, agencyId)).json();
    expect(again).toMatchObject({ limit: 'searches this minute', retryAt: endOfMinute.toISOString() });
  });

  it('a step-up answer names the kind of limit (another address than the session’s)', async () => {
    const counselor = demo.find((a) => a.login === 'demo.conseiller')!;
    const stolen = new StaffClient(w.app, '203.0.113.9').adopt(clients.get(counselor.login)!);
    const response = await search(stolen, counselor, counselor.persons![0]!.agencyId);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({
      code: 'step_up_required',
      limit: LIMIT_LABELS.session_address_changed,
    });
    expect(response.json().retryAt).toBeUndefined();
  });

  it('only the operator marks a demo account, at creation; the mark never changes', async () => {
    const partner = demo.find((a) => a.login === 'demo.partenaire')!;
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string; organisation_id: string }>(
        'SELECT id, organisation_id FROM accounts WHERE login = $1',
        [partner.login],
      ),
    );
    const staff = {
      kind: 'staff' as const,
      accountId: row!.id,
      organisationId: row!.organisation_id,
      role: 'org_manager',
    };
    await expect(
      w.t.db.tx(staff, (tx) =>
        tx.query(
          `INSERT INTO accounts (id, organisation_id, login, display_name, email, role, status, demo)
           VALUES (gen_random_uuid(), $1, 'sneaky.demo', 'S', 's@x.invalid', 'partner_counselor', 'active', true)`,
          [row!.organisation_id],
        ),
      ),
    ).rejects.toThrow(/only the operator marks a demo account/);
    const real = await w.account({ role: 'partner_counselor' });
    for (const actor of [staff, systemCtx('test').actor]) {
      await expect(
        w.t.db.tx(actor, (tx) => tx.query('UPDATE accounts SET demo = true WHERE id = $1', [real.id])),
      ).rejects.toThrow(/demo mark never changes/);
    }
    await expect(
      w.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query('UPDATE accounts SET demo = false WHERE id = $1', [row!.id]),
      ),
    ).rejects.toThrow(/demo mark never changes/);
  });
});
