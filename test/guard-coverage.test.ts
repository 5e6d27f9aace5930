/**
 * The share of its caseload an organisation reads in a week (`org_caseload_week`), through the real
 * app and its audit log: a colleague reads 4 persons of the caseload once a week for three weeks
 * (the organisation's usual week); then an account reads 6 new persons a day, each day near the
 * organisation's usual day. No day's sum moves far, but by Thursday morning the organisation has
 * reached 18 distinct persons in the 6 days before, beyond twice its usual 4 and 3 deviations (14):
 * the account reading the new persons is asked to step up at its first request of the day, its
 * colleague reading its usual persons is left alone.
 * The weeks are counted once per organisation and day, from the audit log's person links.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, StaffClient, totpAt } from './helpers/staff.ts';

interface Agent {
  account: Account;
  client: StaffClient;
  secret: string;
}

interface GuardSignal {
  name: string;
  value: number;
  limit: number;
  response: string;
}

describe(`the share of its caseload an organisation reads in a week (${engine})`, () => {
  let w: RegistryWorld;
  let caseload: KnownPerson[];
  let org: string;
  let a: Agent;
  let b: Agent;

  const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
    w.t.driver.transaction((tx) => tx.query<R>(sql, params));

  /** Moves the clock forward to `hhmm` Paris time (CET, UTC+1) on `day`. */
  function setParis(day: string, hhmm: string): void {
    const target = Date.parse(`${day}T${hhmm}:00+01:00`);
    const now = w.clock.now().getTime();
    if (target < now) throw new Error(`the clock only moves forward (now ${w.clock.now().toISOString()})`);
    w.clock.advance(target - now);
  }

  async function agent(organisationId: string): Promise<Agent> {
    const account = await w.account({ role: 'partner_counselor', organisationId });
    const { client, secret } = await enrolled(w, account);
    await owner(`UPDATE accounts SET status = 'active', probation_until = NULL WHERE id = $1`, [account.id]);
    return { account, client, secret };
  }

  /** A new session (password, then TOTP), as the owner's morning login. */
  async function logIn(x: Agent): Promise<void> {
    x.client = new StaffClient(w.app);
    expect((await x.client.login(x.account.login)).statusCode).toBe(200);
    w.clock.advance(31_000);
    const totp = await x.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(x.secret, w.clock.now()),
    });
    expect(totp.statusCode, totp.body).toBe(200);
  }

  const view = (x: Agent, person: KnownPerson): Promise<LightMyRequestResponse> =>
    x.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);

  /** Reads `persons` one by one a minute apart; every read must be allowed. */
  async function readAll(x: Agent, persons: KnownPerson[]): Promise<void> {
    for (const person of persons) {
      w.clock.advance(60_000);
      const response = await view(x, person);
      expect(response.statusCode, response.body).toBe(200);
    }
  }

  beforeAll(async () => {
    w = await registryWorld(80);
    caseload = w.persons.slice(0, 50);
    org = randomUUID();
    await owner('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
      org,
      'cap_emploi',
      `G-${org.slice(0, 8)}`,
    ]);
    await owner(
      `INSERT INTO caseloads (person_id, organisation_id, since) SELECT p, $2, '2020-01-01' FROM unnest($1::uuid[]) AS p`,
      [caseload.map((p) => p.id), org],
    );
    a = await agent(org);
    b = await agent(org);
  }, 120_000);

  afterAll(async () => {
    await w?.close();
  });

  it('counts the weeks once per organisation and day from the audit log, and answers the account reaching new persons', async () => {
    // The usual: B reads the same 4 persons on three Tuesdays.
    const usual = caseload.slice(0, 4);
    for (const day of ['2026-03-03', '2026-03-10', '2026-03-17']) {
      setParis(day, '10:00');
      await logIn(b);
      await readAll(b, usual);
    }
    // A reads 6 new persons on Monday, Tuesday and Wednesday: each day near the organisation's usual.
    const fresh = caseload.slice(4);
    for (const [i, day] of ['2026-03-23', '2026-03-24', '2026-03-25'].entries()) {
      setParis(day, '10:00');
      await logIn(a);
      await readAll(a, fresh.slice(i * 6, i * 6 + 6));
    }
    // Thursday: the 6 days before hold A's 18 persons (B's Tuesday is 9 days back). Allowed:
    // 4 × 2 + 3 × √4 = 14 persons in 7 days: A's first request of the day meets the step-up.
    setParis('2026-03-26', '10:00');
    await logIn(a);
    w.clock.advance(60_000);
    const refused = await view(a, fresh[18]!);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().code).toBe('step_up_required');
    const [event] = await owner<{ query: { guard: { response: string; signals: GuardSignal[] } } }>(
      'SELECT query FROM audit_events WHERE request_id = $1',
      [String(refused.headers['x-request-id'])],
    );
    // 4 beyond (step-up at 1, suspension at 20), and no other organisation signal.
    expect(event!.query.guard.signals.filter((s) => s.name.startsWith('org_'))).toEqual([
      { name: 'org_caseload_week', value: 4, limit: 1, response: 'step_up' },
    ]);
    // The organisation's weeks, counted once today, from the audit log: 18 in the 6 days before,
    // 4 in each of the three weeks before; the caseload of 50 at the end of each.
    const rows = await owner<{ weeks: number[]; caseloads: number[] }>(
      `SELECT weeks, caseloads FROM guard_organisation_coverage WHERE organisation_id = $1 AND day = '2026-03-26'`,
      [org],
    );
    expect(rows).toEqual([{ weeks: [18, 4, 4, 4], caseloads: [50, 50, 50, 50] }]);
    // B reads its usual persons: it reaches nobody new and is not asked about the organisation's week.
    await logIn(b);
    await readAll(b, usual.slice(0, 2));
  });
});
