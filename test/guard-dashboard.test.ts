/**
 * The security officers' dashboard routes on a real guard: reads per minute by organisation and
 * role come from the audit log (allowed and refused, in the right minute), open alerts and
 * suspensions are counted, and the account that read most beyond its usual day comes first with
 * the guard's own arithmetic (the floor until it has a history). Only security officers; no person
 * id in any answer; bad input names its field.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, type StaffClient } from './helpers/staff.ts';

const MINUTE = 60_000;

describe(`the guard's dashboard (${engine})`, () => {
  let w: RegistryWorld;
  let officer: StaffClient;
  let reader: { client: StaffClient; account: Account };
  let read: KnownPerson[];
  const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
    w.t.driver.transaction((tx) => tx.query<R>(sql, params));

  beforeAll(async () => {
    // The built-in thresholds: the guard under test is the real one.
    w = await registryWorld(150);
    officer = (await enrolled(w, await w.account({ role: 'security_officer', organisationId: w.national })))
      .client;
    const account = await w.account({ role: 'counselor', organisationId: w.agency });
    reader = { client: (await enrolled(w, account)).client, account };
    // Out of probation, so that 30 persons in half an hour stay under every level but beyond_baseline's value.
    await owner(`UPDATE accounts SET status = 'active', probation_until = NULL WHERE id = $1`, [account.id]);
    read = w.persons.filter((p) => p.agencyOrganisationId === w.agency).slice(0, 30);
    if (read.length < 30) throw new Error('the test population is too small');
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it('reads per minute by organisation and role: allowed and refused, each in its minute; counts only', async () => {
    const before = (await officer.request('GET', '/api/v1/guard/activity?hours=1')).json();
    const started = w.clock.now();
    // Three reads in this minute, one refused (a person that does not exist), then two the next minute.
    for (const person of read.slice(0, 3)) {
      const r = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(r.statusCode, r.body).toBe(200);
    }
    const missing = await reader.client.request(
      'GET',
      '/api/v1/persons/00000000-0000-4000-8000-000000000000?purpose=accompaniment',
    );
    expect(missing.statusCode).toBe(404);
    w.clock.advance(MINUTE);
    for (const person of read.slice(3, 5)) {
      const r = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(r.statusCode, r.body).toBe(200);
    }

    const response = await officer.request('GET', '/api/v1/guard/activity?hours=2');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(new Date(body.to).getTime() - new Date(body.from).getTime()).toBe(120 * MINUTE);
    expect(body.bucketSeconds).toBe(60);
    const series = (body.series as Record<string, unknown>[]).find(
      (s) => s.organisationId === w.agency && s.role === 'counselor',
    ) as { reads: number[]; refused: number[]; organisationCode: string };
    expect(series.reads).toHaveLength(120);
    const minute = Math.floor((started.getTime() - new Date(body.from).getTime()) / MINUTE);
    // The last bucket is the current minute; the reads of the minute before sit just before it.
    expect(minute).toBe(118);
    expect(series.reads.slice(118)).toEqual([3, 2]);
    expect(series.refused.slice(118)).toEqual([1, 0]);
    expect(series.reads.slice(0, 118).every((n) => n === 0)).toBe(true);
    // Only what happened in the window: an hour's window holds the same reads as before plus these.
    const hourly = (await officer.request('GET', '/api/v1/guard/activity?hours=1')).json();
    const sum = (b: typeof body) =>
      (b.series as { reads: number[] }[]).reduce((n, s) => n + s.reads.reduce((a, c) => a + c, 0), 0);
    expect(sum(hourly) - sum(before)).toBe(5);
    // No person: none of the ids read appears.
    for (const person of read.slice(0, 5)) expect(response.body).not.toContain(person.id);
  });

  it('open alerts and suspensions are counted; the account furthest beyond its usual day comes first', async () => {
    const first = (await officer.request('GET', '/api/v1/guard/activity')).json();
    // 25 more distinct persons, a minute apart: 30 today against the floor of 25, beyond by 5.
    for (const [i, person] of read.slice(5, 30).entries()) {
      w.clock.advance(MINUTE);
      const r = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(r.statusCode, r.body).toBe(200);
      // The officer's dashboard polls meanwhile (an idle session would end).
      if (i % 5 === 0) expect((await officer.request('GET', '/api/v1/guard/activity')).statusCode).toBe(200);
    }
    const baselines = await officer.request('GET', '/api/v1/guard/baselines?limit=5');
    expect(baselines.statusCode, baselines.body).toBe(200);
    const [top] = baselines.json().accounts;
    expect(top).toMatchObject({
      accountId: reader.account.id,
      login: reader.account.login,
      role: 'counselor',
      accountStatus: 'active',
      day: '2026-03-02',
      personsToday: 30,
      expected: 25,
      expectedFrom: 'floor',
      beyond: 5,
      baseline: null,
      baselineDays: 0,
    });
    for (const person of read) expect(baselines.body).not.toContain(person.id);

    // A suspension by the guard (a canary) adds an open alert and a suspended account.
    const other = await w.account({ role: 'counselor', organisationId: w.agency });
    const { client } = await enrolled(w, other);
    const canary = w.persons.filter((p) => p.agencyOrganisationId === w.agency)[40]!;
    await owner('INSERT INTO guard_canaries (person_id) VALUES ($1) ON CONFLICT DO NOTHING', [canary.id]);
    const touched = await client.request('GET', `/api/v1/persons/${canary.id}?purpose=accompaniment`);
    expect(touched.json().code).toBe('account_suspended');
    const after = (await officer.request('GET', '/api/v1/guard/activity')).json();
    expect(after.openAlerts.suspend).toBe(first.openAlerts.suspend + 1);
    expect(after.suspendedAccounts).toBe(first.suspendedAccounts + 1);
    expect(first.from).not.toBe(after.from); // default 3 hours, moving with the clock
    expect(new Date(after.to).getTime() - new Date(after.from).getTime()).toBe(180 * MINUTE);
  });

  it("an account's timeline: its requests per minute (per hour over longer spans), whole, on record as read", async () => {
    const response = await officer.request(
      'GET',
      `/api/v1/guard/accounts/${reader.account.id}/timeline?hours=2`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accountId: reader.account.id, bucketSeconds: 60 });
    expect(body.allowed).toHaveLength(120);
    const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
    // Everything the reader did (the tests above): 30 records opened, one refused, 30 persons received.
    expect([total(body.allowed), total(body.refused), total(body.persons)]).toEqual([30, 1, 30]);
    const firstBusy = (body.allowed as number[]).findIndex((n) => n > 0);
    expect(body.allowed.slice(firstBusy, firstBusy + 2)).toEqual([3, 2]);
    expect(body.refused.slice(firstBusy, firstBusy + 2)).toEqual([1, 0]);
    // Over a day: per hour, the same totals.
    const daily = (
      await officer.request('GET', `/api/v1/guard/accounts/${reader.account.id}/timeline?hours=24`)
    ).json();
    expect(daily.bucketSeconds).toBe(3600);
    expect(daily.allowed).toHaveLength(24);
    expect([total(daily.allowed), total(daily.refused), total(daily.persons)]).toEqual([30, 1, 30]);
    for (const person of read) expect(response.body).not.toContain(person.id);
    // Reading a staff member's activity is itself on record.
    const events = await owner<{ n: number }>(
      `SELECT count(*)::int AS n FROM security_events WHERE action = 'guard.timeline_viewed' AND target_account_id = $1`,
      [reader.account.id],
    );
    expect(events[0]!.n).toBe(2);
    // Unknown account: 404; out of range: 400 naming hours.
    const unknown = await officer.request('GET', `/api/v1/guard/accounts/${randomUUID()}/timeline`);
    expect(unknown.statusCode).toBe(404);
    const tooLong = await officer.request(
      'GET',
      `/api/v1/guard/accounts/${reader.account.id}/timeline?hours=400`,
    );
    expect([tooLong.statusCode, tooLong.json().field]).toEqual([400, 'hours']);
  });

  it.each([
    ['counselor', 'agency'],
    ['dpo', 'national'],
    ['org_manager', 'agency'],
  ] as const)('a %s is refused (403) and learns nothing', async (role, where) => {
    const account = await w.account({ role, organisationId: where === 'agency' ? w.agency : w.national });
    const { client } = await enrolled(w, account);
    for (const path of ['/api/v1/guard/activity', '/api/v1/guard/baselines']) {
      const response = await client.request('GET', path);
      expect(response.statusCode, path).toBe(403);
      expect(response.json().code).toBe('forbidden');
    }
    // An account's timeline: 404, as for an unknown account (an account id is not confirmed).
    const timeline = await client.request('GET', `/api/v1/guard/accounts/${reader.account.id}/timeline`);
    expect(timeline.statusCode).toBe(404);
  });

  it('without a session: 401; bad input names the field', async () => {
    const anonymous = await w.app.inject({ method: 'GET', url: '/api/v1/guard/activity' });
    expect(anonymous.statusCode).toBe(401);
    for (const [path, field] of [
      ['/api/v1/guard/activity?hours=0', 'hours'],
      ['/api/v1/guard/activity?hours=25', 'hours'],
      ['/api/v1/guard/activity?hours=two', 'hours'],
      ['/api/v1/guard/baselines?limit=51', 'limit'],
    ] as const) {
      const response = await officer.request('GET', path);
      expect(response.statusCode, path).toBe(400);
      expect(response.json().field, path).toBe(field);
    }
  });
});
