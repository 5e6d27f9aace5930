/**
 * The review queue through its routes, on a real guard: a counselor touches a canary and is
 * suspended in the same request; a security officer finds the alert, reads the evidence (the
 * account's timeline, without a single person id), and either reinstates the account (it works
 * again) or confirms a compromise, which opens an incident whose scope is exactly what the audit log
 * says the account received (breachScope, the function behind `rempart audit scope`). Refusals:
 * other roles, short notes, decided alerts, one's own account, a stale second factor.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breachScope } from '../src/audit/scope.ts';
import { systemCtx } from '../src/context.ts';
import { localParts } from '../src/guard/calendar.ts';
import { freshState, type GuardState, stored } from '../src/guard/state.ts';
import { BUILT_IN, thresholdsFor } from '../src/guard/thresholds.ts';
import type { Account, Role } from '../src/identity/accounts.ts';
import { openIncident } from '../src/incidents/incidents.ts';
import { engine } from './helpers/db.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, StaffClient, totpAt } from './helpers/staff.ts';

const DAY_MS = 86_400_000;
/** The calendar day `n` days before `day` (YYYY-MM-DD). */
const dayBefore = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
const NOTE = 'Agent joint par téléphone : consultation confirmée, poste partagé';

interface Officer {
  client: StaffClient;
  account: Account;
  secret: string;
}

describe(`the review queue (${engine})`, () => {
  let w: RegistryWorld;
  let officer: Officer;
  /** Persons of the main agency, in no caseload, not canaries: each test takes its own. */
  let pool: KnownPerson[];
  const take = (n: number): KnownPerson[] => {
    const taken = pool.slice(0, n);
    pool = pool.slice(n);
    if (taken.length < n) throw new Error('the test population is too small');
    return taken;
  };
  const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
    w.t.driver.transaction((tx) => tx.query<R>(sql, params));
  const requestId = (response: { headers: Record<string, unknown> }): string =>
    String(response.headers['x-request-id']);

  /** An enrolled counselor of the main agency, with the secret of its authenticator. */
  async function counselor(): Promise<{ client: StaffClient; account: Account; secret: string }> {
    const account = await w.account({ role: 'counselor', organisationId: w.agency });
    const { client, secret } = await enrolled(w, account);
    return { client, account, secret };
  }

  /**
   * The counselor reads `reads` (allowed), then a person the operator has just made a canary: the
   * guard suspends the account in that request. Returns the fields received per person.
   */
  async function tripCanary(
    client: StaffClient,
    reads: KnownPerson[],
  ): Promise<{ received: Map<string, string[]>; canary: KnownPerson }> {
    const received = new Map<string, string[]>();
    for (const person of reads) {
      const response = await client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(response.statusCode, response.body).toBe(200);
      received.set(person.id, [...(response.json().fields as string[])].sort());
      w.clock.advance(1000);
    }
    const [canary] = take(1);
    await owner('INSERT INTO guard_canaries (person_id) VALUES ($1)', [canary!.id]);
    const touched = await client.request('GET', `/api/v1/persons/${canary!.id}?purpose=accompaniment`);
    expect(touched.statusCode).toBe(403);
    expect(touched.json().code).toBe('account_suspended');
    return { received, canary: canary! };
  }

  /** The open alerts of `accountId` as the officer lists them. */
  async function alertsOf(accountId: string, status = 'open'): Promise<Record<string, unknown>[]> {
    const response = await officer.client.request('GET', `/api/v1/guard/alerts?status=${status}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().alerts as Record<string, unknown>[]).filter((a) => a.accountId === accountId);
  }

  /** An alert written as the guard writes it, for cases the guard's own path does not reach quickly. */
  async function alertFixture(account: Account, response = 'step_up'): Promise<string> {
    const id = randomUUID();
    await owner(
      `INSERT INTO guard_alerts (id, account_id, organisation_id, raised_at, response, signals, context)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, '{}'::jsonb)`,
      [
        id,
        account.id,
        account.organisationId,
        w.clock.now(),
        response,
        JSON.stringify([{ name: 'national_persons', value: 10, limit: 10, response }]),
      ],
    );
    return id;
  }

  beforeAll(async () => {
    // The built-in thresholds: the guard under test is the real one.
    w = await registryWorld(150);
    pool = w.persons.filter((p) => p.agencyOrganisationId === w.agency && p.caseloads.length === 0);
    const account = await w.account({ role: 'security_officer', organisationId: w.national });
    const { client, secret } = await enrolled(w, account);
    officer = { client, account, secret };
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it('a canary touch lands in the queue; the evidence holds the timeline and no person; reinstating brings the account back', async () => {
    const agent = await counselor();
    const reads = take(2);
    const { canary } = await tripCanary(agent.client, reads);
    expect((await agent.client.request('GET', '/api/v1/me')).statusCode).toBe(401);

    const [alert] = await alertsOf(agent.account.id);
    expect(alert).toMatchObject({
      login: agent.account.login,
      organisationId: w.agency,
      role: 'counselor',
      accountStatus: 'suspended',
      response: 'suspend',
      status: 'open',
      decidedAt: null,
      incidentId: null,
    });
    expect(alert!.signals).toContainEqual({ name: 'canary', value: 1, limit: 1, response: 'suspend' });
    const alertId = String(alert!.id);

    const suspended = (await officer.client.request('GET', '/api/v1/guard/suspended')).json().accounts;
    expect(suspended).toContainEqual(
      expect.objectContaining({ id: agent.account.id, latestAlertId: alertId, openAlerts: 1 }),
    );

    const evidence = await officer.client.request('GET', `/api/v1/guard/alerts/${alertId}`);
    expect(evidence.statusCode, evidence.body).toBe(200);
    const body = evidence.json();
    expect(body.alert).toMatchObject({ id: alertId, context: { action: 'person.view' } });
    const views = (body.timeline as Record<string, unknown>[]).filter((e) => e.action === 'person.view');
    expect(views).toHaveLength(3);
    expect(views[0]).toMatchObject({ decision: 'deny', reason: 'guard.suspend', personCount: 0, fields: [] });
    expect(views[0]!.query).toMatchObject({ guard: { response: 'suspend' } });
    for (const allowed of views.slice(1)) {
      expect(allowed).toMatchObject({ decision: 'allow', personCount: 1, purpose: 'accompaniment' });
      expect((allowed.fields as string[]).length).toBeGreaterThan(3);
    }
    // Two persons received today (the canary was refused: nothing of it left).
    expect(body.personDays).toEqual([{ day: '2026-03-02', persons: 2 }]);
    expect(body.sessions).toContainEqual(expect.objectContaining({ revokedReason: 'guard' }));
    expect(body.securityEvents.map((e: { action: string }) => e.action)).toContain('account.suspend');
    // No job seeker leaves through the evidence: not one person id, anywhere in it.
    for (const person of [...reads, canary]) expect(evidence.body).not.toContain(person.id);
    const viewed = await owner<{ actor_account_id: string }>(
      `SELECT actor_account_id FROM security_events WHERE action = 'guard.evidence_viewed' AND target_account_id = $1`,
      [agent.account.id],
    );
    expect(viewed).toEqual([{ actor_account_id: officer.account.id }]);

    const short = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/reinstate`, {
      note: 'ok',
    });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ code: 'validation_failed', field: 'note' });
    const blank = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/reinstate`, {
      note: '   ok      ',
    });
    expect(blank.json()).toMatchObject({ code: 'validation_failed', field: 'note' });

    const reinstated = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/reinstate`, {
      note: NOTE,
    });
    expect(reinstated.statusCode, reinstated.body).toBe(200);
    // A new account is on probation for seven days; reinstatement does not end it early.
    expect(reinstated.json()).toEqual({
      alertId,
      status: 'reinstated',
      accountId: agent.account.id,
      accountStatus: 'probation',
      dismissed: [],
    });
    expect(await alertsOf(agent.account.id)).toEqual([]);
    expect(await alertsOf(agent.account.id, 'reinstated')).toEqual([
      expect.objectContaining({ id: alertId, decidedBy: officer.account.id, note: NOTE }),
    ]);
    const [guardRow] = await owner<{
      throttled_until: Date | null;
      step_up_since: Date | null;
      state: Record<string, unknown>;
    }>('SELECT throttled_until, step_up_since, state FROM guard_accounts WHERE account_id = $1', [
      agent.account.id,
    ]);
    expect(guardRow).toMatchObject({ throttled_until: null, step_up_since: null });
    expect(guardRow!.state).toMatchObject({ stepUp: null, throttledUntil: null });
    const events = await owner<{ action: string; actor_account_id: string }>(
      `SELECT action, actor_account_id FROM security_events WHERE target_account_id = $1 AND action LIKE '%reinstate'
       ORDER BY id`,
      [agent.account.id],
    );
    expect(events).toEqual([
      { action: 'account.reinstate', actor_account_id: officer.account.id },
      { action: 'guard.reinstate', actor_account_id: officer.account.id },
    ]);
    const notices = await owner<{ kind: string }>('SELECT kind FROM staff_notices WHERE account_id = $1', [
      agent.account.id,
    ]);
    expect(notices.map((n) => n.kind)).toContain('guard.reinstated');
    await w.drainMail();
    const sent = (w.mailer as unknown as { sent: { to: string; subject: string }[] }).sent;
    expect(sent.some((m) => m.to === agent.account.email && /rétabli/.test(m.subject))).toBe(true);

    // The owner logs in again and works.
    const back = new StaffClient(w.app);
    expect((await back.login(agent.account.login)).statusCode).toBe(200);
    w.clock.advance(30_000);
    const second = await back.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(agent.secret, w.clock.now()),
    });
    expect(second.statusCode, second.body).toBe(200);
    const again = await back.request('GET', `/api/v1/persons/${reads[0]!.id}?purpose=accompaniment`);
    expect(again.statusCode, again.body).toBe(200);

    for (const action of ['reinstate', 'confirm']) {
      const twice = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/${action}`, {
        note: NOTE,
      });
      expect(twice.statusCode, action).toBe(409);
      expect(twice.json().code).toBe('conflict');
    }
  });

  it('confirming a compromise opens an incident whose scope is what the audit log says the account received', async () => {
    const agent = await counselor();
    const { received, canary } = await tripCanary(agent.client, take(3));
    const [alert] = await alertsOf(agent.account.id);
    const alertId = String(alert!.id);
    const raisedAt = new Date(String(alert!.raisedAt));
    w.clock.advance(60_000);

    const confirmed = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/confirm`, {
      note: 'Connexion depuis une adresse inconnue, agent absent ce jour',
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const answer = confirmed.json();
    const from = new Date(raisedAt.getTime() - 30 * DAY_MS);
    expect(answer).toMatchObject({
      alertId,
      status: 'compromised',
      from: from.toISOString(),
      to: w.clock.now().toISOString(),
      personCount: 3,
    });

    // The same scope, straight from the audit log.
    const scope = await w.t.db.tx(systemCtx('test').actor, (tx) =>
      breachScope(tx, { accounts: [agent.account.id], from, to: w.clock.now() }),
    );
    expect(answer.fieldCounts).toEqual(scope.fieldCounts);
    expect(scope.personCount).toBe(3);

    const incident = await officer.client.request('GET', `/api/v1/incidents/${answer.incidentId}`);
    expect(incident.statusCode, incident.body).toBe(200);
    const read = incident.json();
    expect(read).toMatchObject({
      id: answer.incidentId,
      openedBy: officer.account.id,
      kind: 'compromised_account',
      status: 'open',
      accounts: [agent.account.id],
      windowFrom: from.toISOString(),
      windowTo: w.clock.now().toISOString(),
    });
    expect(read.scope.persons).toEqual(
      scope.persons.map((p) => ({
        personId: p.personId,
        fields: p.fields,
        firstAt: new Date(p.firstAt).toISOString(),
        lastAt: new Date(p.lastAt).toISOString(),
        events: p.events,
      })),
    );
    // ...which is what the counselor received: these persons, these fields; not the canary.
    expect(
      Object.fromEntries(
        read.scope.persons.map((p: { personId: string; fields: string[] }) => [p.personId, p.fields]),
      ),
    ).toEqual(Object.fromEntries(received));
    expect(read.scope.persons.map((p: { personId: string }) => p.personId)).not.toContain(canary.id);

    // Reading the incident is an audit event of the reader, one link per person returned.
    const links = await owner<{ action: string; account_id: string; person_id: string; fields: string[] }>(
      `SELECT e.action, e.account_id, l.person_id, l.fields FROM audit_events e
       JOIN audit_event_persons l ON l.event_id = e.id WHERE e.request_id = $1 ORDER BY l.person_id`,
      [requestId(incident)],
    );
    expect(links).toEqual(
      [...received.keys()].sort().map((personId) => ({
        action: 'incident.view',
        account_id: officer.account.id,
        person_id: personId,
        fields: ['incident'],
      })),
    );
    // Computing the scope is on record as the CLI's is; so is counting the minors (birth dates
    // decrypted by the system actor for a count, no person link).
    const scoped = await owner<{ action: string; query: Record<string, unknown> }>(
      'SELECT action, query FROM audit_events WHERE request_id = $1 ORDER BY id',
      [requestId(confirmed)],
    );
    expect(scoped).toEqual([
      {
        action: 'incident.categorise',
        query: { incidentId: answer.incidentId, fields: 'birthDate', countOnly: true },
      },
      {
        action: 'audit.scope',
        query: expect.objectContaining({ accounts: 1, incidentId: answer.incidentId }),
      },
    ]);

    expect(await alertsOf(agent.account.id, 'compromised')).toEqual([
      expect.objectContaining({ id: alertId, incidentId: answer.incidentId, accountStatus: 'suspended' }),
    ]);
    expect((await new StaffClient(w.app).login(agent.account.login)).json().code).toBe('login_failed');
    for (const action of ['confirm', 'reinstate']) {
      const twice = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/${action}`, {
        note: NOTE,
      });
      expect(twice.statusCode, action).toBe(409);
    }
  });

  it('confirming an alert on an account still active suspends it and ends its sessions', async () => {
    const account = await w.account({ role: 'partner_counselor', organisationId: w.partner });
    const { client } = await enrolled(w, account);
    const alertId = await alertFixture(account);
    const backwards = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/confirm`, {
      note: NOTE,
      from: '2026-03-02T10:00:00Z',
      to: '2026-03-01T10:00:00Z',
    });
    expect(backwards.json()).toMatchObject({ code: 'validation_failed', field: 'from' });
    const loose = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/confirm`, {
      note: NOTE,
      to: 'yesterday',
    });
    expect(loose.json()).toMatchObject({ code: 'validation_failed', field: 'to' });
    expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(200);

    const confirmed = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/confirm`, {
      note: NOTE,
      from: '2026-02-01T00:00:00+01:00',
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({
      from: '2026-01-31T23:00:00.000Z',
      personCount: 0,
      fieldCounts: {},
    });
    expect((await client.request('GET', '/api/v1/me')).statusCode).toBe(401);
    const [row] = await owner<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [account.id]);
    expect(row!.status).toBe('suspended');
  });

  it("the evidence holds the organisation's picture (its days against its usual, the day by hour, the accounts driving it) and the account's baselines, and no person", async () => {
    const org = await w.organisation({ kind: 'mission_locale' });
    const driver = await w.account({ role: 'partner_counselor', organisationId: org });
    const colleague = await w.account({ role: 'partner_counselor', organisationId: org });
    const now = w.clock.now();
    const day = localParts(now, 'Europe/Paris').day;
    const hours = (hour: number, n: number) =>
      `(SELECT array_agg(CASE WHEN h = ${hour} THEN ${n} ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h)`;
    // Ten past days of 10 persons by 10:59, two accounts; the alert's day: 64 by three accounts.
    for (let back = 1; back <= 10; back += 1) {
      await owner(
        `INSERT INTO guard_organisation_days (organisation_id, day, persons, by_hour, empty, refused, accounts)
         VALUES ($1, $2::date - $3::int, 10, ${hours(10, 10)}, 1, 0, 2)`,
        [org, day, back],
      );
    }
    await owner(
      `INSERT INTO guard_organisation_days (organisation_id, day, persons, by_hour, empty, refused, accounts, alerted)
       VALUES ($1, $2::date, 64, ${hours(10, 64)}, 7, 2, 3, true)`,
      [org, day],
    );
    // The driver: 40 persons today, a usual day of 10 (reviewed reference 9), and its past days.
    const state = (persons: number, baseline: number, ref: number) => ({
      ...freshState(now, day),
      d: { ...freshState(now, day).d, persons },
      baseline,
      days: 20,
      ref,
      past: [
        { day: dayBefore(day, 2), persons: 9, national: 0, offHours: 0, expected: 9.5 },
        { day: dayBefore(day, 1), persons: 11, national: 0, offHours: 0, expected: 10 },
      ],
    });
    for (const [account, s] of [
      [driver, state(40, 10, 9)],
      [colleague, state(3, 10, 10)],
    ] as const) {
      const { json, seen } = stored({ ...s, seen: '' } as GuardState);
      await owner(
        `INSERT INTO guard_accounts (account_id, organisation_id, role, state, baseline, ref, seen, updated_at, version)
         VALUES ($1, $2, 'partner_counselor', $3::jsonb, $4, $5, $6, $7, 1)`,
        [account.id, org, json, s.baseline, s.ref, seen, now],
      );
    }
    const id = randomUUID();
    await owner(
      `INSERT INTO guard_alerts (id, account_id, organisation_id, raised_at, response, signals, context)
       VALUES ($1, $2, $3, $4, 'step_up', $5::jsonb, '{}'::jsonb)`,
      [
        id,
        driver.id,
        org,
        now,
        JSON.stringify([{ name: 'org_beyond_usual', value: 42, limit: 10, response: 'step_up' }]),
      ],
    );
    // The weeks the guard counted at the start of the day (org_caseload_week).
    await owner(
      `INSERT INTO guard_organisation_coverage (organisation_id, day, weeks, caseloads)
       VALUES ($1, $2::date, '{30,12,11,13}', '{60,60,60,58}')`,
      [org, day],
    );
    const response = await officer.client.request('GET', `/api/v1/guard/alerts/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    // The existing keys first, unchanged; the new ones after.
    expect(Object.keys(body)).toEqual([
      'alert',
      'otherAlerts',
      'window',
      'timeline',
      'timelineTruncated',
      'personDays',
      'sessions',
      'securityEvents',
      'organisation',
      'baselines',
    ]);
    const picture = body.organisation;
    expect(picture).toMatchObject({ day, usualDays: 10 });
    expect(picture.days).toHaveLength(11);
    expect(picture.days[0]).toEqual({
      day,
      persons: 64,
      usual: 10,
      empty: 7,
      refused: 2,
      accounts: 3,
      alerted: true,
    });
    expect(picture.days[1]).toMatchObject({
      day: dayBefore(day, 1),
      persons: 10,
      accounts: 2,
      alerted: false,
    });
    expect(picture.byHour).toHaveLength(24);
    expect(picture.byHour[9]).toEqual({ hour: 9, persons: 0, cumulative: 0, usual: 0, spread: 0 });
    expect(picture.byHour[10]).toEqual({ hour: 10, persons: 64, cumulative: 64, usual: 10, spread: 0 });
    expect(picture.byHour[23]).toMatchObject({ cumulative: 64, usual: 10 });
    const t = thresholdsFor(BUILT_IN, 'partner_counselor', 'any');
    const expected = Math.min(10, 9 * (1 + t.parameters.baselineGrowth));
    expect(picture.drivers).toEqual([
      {
        accountId: driver.id,
        login: driver.login,
        role: 'partner_counselor',
        persons: 40,
        usual: Math.round(expected * 10) / 10,
        drives: true,
        answered: true,
      },
    ]);
    expect(picture.coverage).toEqual({ weeks: [30, 12, 11, 13], caseloads: [60, 60, 60, 58] });
    expect(body.baselines).toEqual({
      baseline: 10,
      days: 20,
      ref: 9,
      refCap: Math.round(9 * (1 + t.parameters.baselineGrowth) * 10) / 10,
      growth: t.parameters.baselineGrowth,
      expected: Math.round(expected * 10) / 10,
      // The colleague's usual day, held to its reference.
      peer: 10,
      peers: 1,
      past: [
        { day: dayBefore(day, 1), persons: 11, expected: 10 },
        { day: dayBefore(day, 2), persons: 9, expected: 9.5 },
      ],
    });
    // No person: no id, NIR or name of anyone in the registry.
    for (const person of w.persons) {
      for (const value of [person.id, person.identity.nir, person.identity.lastName]) {
        if (value) expect(response.body).not.toContain(value);
      }
    }
  });

  it('an officer cannot decide an alert about their own account', async () => {
    const alertId = await alertFixture(officer.account);
    for (const action of ['reinstate', 'confirm']) {
      const response = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/${action}`, {
        note: NOTE,
      });
      expect(response.statusCode, action).toBe(404);
      expect(response.json().code).toBe('not_found');
    }
    const [row] = await owner<{ status: string }>('SELECT status FROM guard_alerts WHERE id = $1', [alertId]);
    expect(row!.status).toBe('open');
  });

  it('deciding needs a second factor verified in the last minutes', async () => {
    const account = await w.account({ role: 'partner_counselor', organisationId: w.partner });
    const alertId = await alertFixture(account);
    w.clock.advance(6 * 60_000);
    const stale = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/reinstate`, {
      note: NOTE,
    });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('step_up_required');
    const stepped = await officer.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(officer.secret, w.clock.now()),
    });
    expect(stepped.statusCode, stepped.body).toBe(200);
    const fresh = await officer.client.request('POST', `/api/v1/guard/alerts/${alertId}/reinstate`, {
      note: NOTE,
    });
    expect(fresh.statusCode, fresh.body).toBe(200);
    // Not suspended, so nothing to bring back: only the guard's pending responses ended.
    expect(fresh.json().accountStatus).toBe(account.status);
  });

  it('the listing refuses a status it does not know, naming the field', async () => {
    const response = await officer.client.request('GET', '/api/v1/guard/alerts?status=closed');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'validation_failed', field: 'status' });
  });

  describe('other roles', () => {
    let alertId: string;
    let incidentId: string;
    beforeAll(async () => {
      const target = await w.account({ role: 'partner_counselor', organisationId: w.partner });
      alertId = await alertFixture(target);
      incidentId = await w.t.db.tx(systemCtx('test').actor, async (tx) =>
        openIncident(tx, {
          openedAt: w.clock.now(),
          openedBy: officer.account.id,
          kind: 'compromised_account',
          scope: await breachScope(tx, {
            accounts: [target.id],
            from: new Date(w.clock.now().getTime() - DAY_MS),
            to: w.clock.now(),
          }),
          note: null,
        }),
      );
    });

    const cases: [Role, () => string][] = [
      ['counselor', () => w.agency],
      ['partner_counselor', () => w.partner],
      ['org_manager', () => w.partner],
      ['helpdesk', () => w.national],
      ['administrator', () => w.national],
      ['dpo', () => w.national],
    ];
    it.each(cases)('%s: no queue, no evidence, no decision', async (role, organisation) => {
      const { client } = await w.staff(role, organisation());
      for (const url of ['/api/v1/guard/alerts', '/api/v1/guard/suspended']) {
        const listed = await client.request('GET', url);
        expect(listed.statusCode, url).toBe(403);
        expect(listed.json().code).toBe('forbidden');
      }
      expect((await client.request('GET', `/api/v1/guard/alerts/${alertId}`)).statusCode).toBe(404);
      for (const action of ['reinstate', 'confirm']) {
        const decided = await client.request('POST', `/api/v1/guard/alerts/${alertId}/${action}`, {
          note: NOTE,
        });
        expect(decided.statusCode, action).toBe(404);
      }
      const incident = await client.request('GET', `/api/v1/incidents/${incidentId}`);
      // The DPO reads incidents (notification comes with the incidents issue); nobody else does.
      expect(incident.statusCode).toBe(role === 'dpo' ? 200 : 404);
      const [row] = await owner<{ status: string }>('SELECT status FROM guard_alerts WHERE id = $1', [
        alertId,
      ]);
      expect(row!.status).toBe('open');
    });
  });
});
