/**
 * The guard through the real app (docs/DESIGN.md section 6), with the built-in thresholds: a canary
 * touched suspends in the same request; sequential-id and name sweeps are throttled within 20
 * requests and hammering on suspends; reading beyond the usual day asks for a step-up, then
 * suspends; off-hours reads, refused attempts, a session used from another address and probation
 * each get their graded response; an honest week is left alone. Every response is an audit event
 * naming its signals.
 *
 * One world and one simulated clock for the whole file: each test takes its own day (Paris time,
 * before the change to summer time) and its own accounts and organisations, and the clock only
 * moves forward, so the tests run in the order they are written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { type Actor, systemCtx } from '../src/context.ts';
import { wire } from '../src/db/postgres.ts';
import type { GuardState } from '../src/guard/state.ts';
import { BUILT_IN, type GuardResponse, type SignalName, thresholdsFor } from '../src/guard/thresholds.ts';
import { buildApp } from '../src/http/app.ts';
import type { Account, Role } from '../src/identity/accounts.ts';
import { SESSION_COOKIE } from '../src/identity/sessions.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { ownCandidates } from '../src/registry/person-reads.ts';
import { indexLookup } from '../src/registry/persons.ts';
import { engine } from './helpers/db.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, PASSWORD, StaffClient, totpAt } from './helpers/staff.ts';

interface Agent {
  account: Account;
  client: StaffClient;
  secret: string;
}

interface AuditRow {
  action: string;
  decision: string;
  reason: string | null;
  query: Record<string, unknown> & { guard?: GuardAudit };
  result_count: number;
  source_address: string | null;
  links: number;
}

interface GuardAudit {
  response: GuardResponse;
  signals: { name: SignalName; value: number; limit: number; response: GuardResponse }[];
  retryAfter?: number;
}

const MINUTE = 60_000;
const PARTNER = thresholdsFor(BUILT_IN, 'partner_counselor', 'any');

/**
 * A browser behind a reverse proxy: the proxy (127.0.0.1) connects, the client's own address is in
 * X-Forwarded-For. Keeps the cookie and CSRF token as StaffClient does.
 */
class ProxiedClient {
  cookie: string | undefined;
  csrf: string | undefined;
  readonly app: FastifyInstance;
  readonly forwardedFor: string;
  readonly remoteAddress: string;
  constructor(app: FastifyInstance, forwardedFor: string, remoteAddress = '127.0.0.1') {
    this.app = app;
    this.forwardedFor = forwardedFor;
    this.remoteAddress = remoteAddress;
  }

  async request(
    method: 'GET' | 'POST',
    url: string,
    body?: Record<string, unknown>,
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.forwardedFor };
    if (this.cookie) headers.cookie = `${SESSION_COOKIE}=${this.cookie}`;
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const response = await this.app.inject({
      method,
      url,
      headers,
      remoteAddress: this.remoteAddress,
      ...(body === undefined ? {} : { payload: body }),
    });
    const set = response.cookies.find((c) => c.name === SESSION_COOKIE);
    if (set) this.cookie = set.value === '' ? undefined : set.value;
    const json = response.headers['content-type']?.toString().includes('json') ? response.json() : undefined;
    if (json && typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    return response;
  }

  adopt(other: { cookie: string | undefined; csrf: string | undefined }): this {
    this.cookie = other.cookie;
    this.csrf = other.csrf;
    return this;
  }
}

describe(`the guard (${engine})`, () => {
  let w: RegistryWorld;
  /** Persons no test makes a canary: caseloads are built from them. */
  let pool: KnownPerson[];
  /** Two persons of the main agency the operator made canaries. */
  let canaries: KnownPerson[];
  const extraApps: FastifyInstance[] = [];
  const folder = mkdtempSync(path.join(tmpdir(), 'rempart-guard-http-'));

  const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
    w.t.driver.transaction((tx) => tx.query<R>(sql, params));
  const sent = (): Mail[] => (w.mailer as unknown as { sent: Mail[] }).sent;

  /** Moves the clock forward to `hhmm` Paris time (CET, UTC+1) on `day`. */
  function setParis(day: string, hhmm: string): void {
    if (day >= '2026-03-29') throw new Error('the helper assumes winter time');
    const target = Date.parse(`${day}T${hhmm}:00+01:00`);
    const now = w.clock.now().getTime();
    if (target < now) throw new Error(`the clock only moves forward (now ${w.clock.now().toISOString()})`);
    w.clock.advance(target - now);
  }

  /** An organisation of `kind` (its code given, or made up) holding `persons` in its current caseload. */
  async function organisation(
    kind: string,
    persons: KnownPerson[],
    code = `G-${randomUUID().slice(0, 8)}`,
  ): Promise<string> {
    const id = randomUUID();
    await owner('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [id, kind, code]);
    if (persons.length > 0) {
      await owner(
        `INSERT INTO caseloads (person_id, organisation_id, since) SELECT p, $2, '2020-01-01' FROM unnest($1::uuid[]) AS p`,
        [persons.map((p) => p.id), id],
      );
    }
    return id;
  }

  /** An enrolled agent; 'active' unless asked for on probation (a new account is on probation). */
  async function agent(
    role: Role,
    organisationId: string,
    status: 'active' | 'probation' = 'active',
  ): Promise<Agent> {
    const account = await w.account({ role, organisationId });
    const { client, secret } = await enrolled(w, account);
    if (status === 'active') await setStatus(account.id, 'active');
    return { account, client, secret };
  }

  async function setStatus(accountId: string, status: 'active' | 'probation'): Promise<void> {
    await owner(
      `UPDATE accounts SET status = $2, probation_until = CASE WHEN $2 = 'probation' THEN probation_until END WHERE id = $1`,
      [accountId, status],
    );
  }

  /** A fresh second factor on the agent's session (the session id changes; the client takes the new cookie). */
  async function stepUp(a: { secret: string; client: { request: StaffClient['request'] } }): Promise<void> {
    w.clock.advance(31_000); // a new TOTP time step: a code is accepted once
    const response = await a.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(a.secret, w.clock.now()),
    });
    expect(response.statusCode, response.body).toBe(200);
  }

  /** A new session for the agent (password, then TOTP), from the same desk. */
  async function logIn(a: Agent): Promise<void> {
    a.client = new StaffClient(w.app);
    expect((await a.client.login(a.account.login)).statusCode).toBe(200);
    await stepUp(a);
  }

  const view = (
    client: { request: StaffClient['request'] },
    person: { id: string },
  ): Promise<LightMyRequestResponse> =>
    client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);

  const searchById = (client: StaffClient, agencyId: string): Promise<LightMyRequestResponse> =>
    client.request('POST', '/api/v1/persons/search', { purpose: 'accompaniment', by: 'agencyId', agencyId });

  const searchByName = (
    client: StaffClient,
    lastName: string,
    firstName: string,
    birthDate: string,
  ): Promise<LightMyRequestResponse> =>
    client.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      lastName,
      firstName,
      birthDate,
    });

  const requestId = (response: LightMyRequestResponse): string => String(response.headers['x-request-id']);

  /** The audit event of one request, as a DBA reads it, with its number of person links. */
  async function auditOf(response: LightMyRequestResponse): Promise<AuditRow> {
    const [row] = await owner<AuditRow>(
      `SELECT e.action, e.decision, e.reason, e.query, e.result_count, e.source_address,
         (SELECT count(*)::int FROM audit_event_persons l WHERE l.event_id = e.id) AS links
       FROM audit_events e WHERE e.request_id = $1`,
      [requestId(response)],
    );
    if (!row) throw new Error(`no audit event for request ${requestId(response)}`);
    return row;
  }

  /**
   * The request was refused by the guard, on record: a deny event with the reason, nothing linked,
   * and query.guard naming the response and every signal behind it ({name, value, limit, response}),
   * one of them `signal`.
   */
  async function expectGuarded(
    response: LightMyRequestResponse,
    expected: { response: GuardResponse; signal: SignalName; reason?: string },
  ): Promise<GuardAudit> {
    const status = { throttle: 429, step_up: 403, suspend: 403 }[expected.response];
    const code = { throttle: 'throttled', step_up: 'step_up_required', suspend: 'account_suspended' }[
      expected.response
    ];
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().code).toBe(code);
    const audit = await auditOf(response);
    expect(audit.decision).toBe('deny');
    expect(audit.reason).toBe(expected.reason ?? `guard.${expected.response}`);
    expect(audit.result_count).toBe(0);
    expect(audit.links).toBe(0);
    const guard = audit.query.guard!;
    expect(guard.response).toBe(expected.response);
    expect(guard.signals.length).toBeGreaterThan(0);
    for (const s of guard.signals) {
      // Names and numbers only (an escalated step-up says so).
      expect(
        Object.keys(s)
          .filter((k) => k !== 'escalated')
          .sort(),
      ).toEqual(['limit', 'name', 'response', 'value']);
      expect(s.value).toBeGreaterThanOrEqual(s.limit);
    }
    expect(guard.signals[0]!.response).toBe(expected.response);
    expect(guard.signals.map((s) => s.name)).toContain(expected.signal);
    if (expected.response === 'throttle') {
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(guard.retryAfter).toBeGreaterThan(0);
    }
    return guard;
  }

  async function expectAllowed(response: LightMyRequestResponse): Promise<void> {
    expect(response.statusCode, response.body).toBe(200);
    const audit = await auditOf(response);
    expect(audit.decision).toBe('allow');
    expect(audit.query.guard).toBeUndefined();
  }

  const statusOf = async (accountId: string): Promise<string> =>
    (await owner<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [accountId]))[0]!.status;

  const alertsOf = (
    accountId: string,
  ): Promise<{ response: string; signals: GuardAudit['signals']; context: Record<string, unknown> }[]> =>
    owner(
      'SELECT response, signals, context FROM guard_alerts WHERE account_id = $1 ORDER BY raised_at, id',
      [accountId],
    );

  const stateOf = async (accountId: string): Promise<GuardState> =>
    (
      await owner<{ state: GuardState }>('SELECT state FROM guard_accounts WHERE account_id = $1', [
        accountId,
      ])
    )[0]!.state;

  /** The account is suspended, every session revoked, and the security event names the guard. */
  async function expectSuspended(a: Agent, signal: SignalName): Promise<void> {
    expect(await statusOf(a.account.id)).toBe('suspended');
    const live = await owner<{ n: number }>(
      'SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND revoked_at IS NULL',
      [a.account.id],
    );
    expect(live[0]!.n).toBe(0);
    const events = await owner<{ details: { by: string; signals: string[] } }>(
      `SELECT details FROM security_events WHERE target_account_id = $1 AND action = 'account.suspend'`,
      [a.account.id],
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.details.by).toBe('guard');
    expect(events[0]!.details.signals).toContain(signal);
    const alerts = await alertsOf(a.account.id);
    expect(alerts.filter((x) => x.response === 'suspend')).toHaveLength(1);
    expect(alerts.find((x) => x.response === 'suspend')!.signals.map((s) => s.name)).toContain(signal);
    // The session is gone: the next request is not even authenticated.
    expect((await view(a.client, pool[0]!)).statusCode).toBe(401);
  }

  beforeAll(async () => {
    w = await registryWorld(120);
    canaries = w.persons.filter((p) => p.agencyOrganisationId === w.agency).slice(0, 2);
    pool = w.persons.filter((p) => !canaries.includes(p));
    for (const canary of canaries) {
      await owner('INSERT INTO guard_canaries (person_id) VALUES ($1)', [canary.id]);
    }
  }, 120_000);

  afterAll(async () => {
    for (const app of extraApps) await app.close();
    await w?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  describe('a canary touched suspends within the same request', () => {
    let officer: Account;
    let manager: Account;
    let otherManager: Account;

    beforeAll(async () => {
      setParis('2026-03-02', '10:00');
      officer = await w.account({
        role: 'security_officer',
        organisationId: w.national,
        email: `so.${randomUUID().slice(0, 6)}@rempart.example`,
      });
      manager = await w.account({
        role: 'org_manager',
        organisationId: w.agency,
        email: `mgr.${randomUUID().slice(0, 6)}@agence.example`,
      });
      otherManager = await w.account({
        role: 'org_manager',
        organisationId: w.partner,
        email: `mgr.${randomUUID().slice(0, 6)}@partner.example`,
      });
      for (const a of [officer, manager, otherManager]) await setStatus(a.id, 'active');
    });

    /** Mails to the officer and the agency's manager about `suspended`; none to another organisation's manager. */
    async function expectAnnounced(suspended: Account, canary: KnownPerson): Promise<void> {
      await w.drainMail();
      for (const to of [officer.email, manager.email]) {
        const mails = sent().filter((m) => m.to === to && m.text.includes(suspended.login));
        expect(mails, to).toHaveLength(1);
        const mail = mails[0]!;
        expect(mail.text).toContain('canary');
        // Nothing of the person: the mail names the account and the signals only.
        const identity = canary.identity;
        for (const value of [
          canary.id,
          identity.nir,
          identity.agencyId,
          identity.lastName,
          identity.firstNames,
          identity.birthDate,
          identity.email,
          identity.phone,
          identity.address?.line,
        ]) {
          if (value) expect(`${mail.subject}\n${mail.text}`).not.toContain(value);
        }
      }
      expect(sent().filter((m) => m.to === otherManager.email)).toHaveLength(0);
    }

    it('a counselor viewing a canary of its agency: 403 account_suspended, nothing returned, all on record, officers and manager told', async () => {
      const counselor = await agent('counselor', w.agency);
      const ordinary = pool.find((p) => p.agencyOrganisationId === w.agency)!;
      await expectAllowed(await view(counselor.client, ordinary));

      const canary = canaries[0]!;
      const response = await view(counselor.client, canary);
      const guard = await expectGuarded(response, { response: 'suspend', signal: 'canary' });
      expect(guard.signals).toContainEqual({ name: 'canary', value: 1, limit: 1, response: 'suspend' });
      // Not a single field of the person in the answer.
      const body = response.json();
      expect(body.person).toBeUndefined();
      for (const value of [canary.identity.nir, canary.identity.lastName, canary.identity.agencyId]) {
        expect(response.body).not.toContain(value);
      }
      await expectSuspended(counselor, 'canary');
      await expectAnnounced(counselor.account, canary);
    });

    it('a search that would return a canary suspends the same way, and returns no result', async () => {
      const counselor = await agent('counselor', w.agency);
      const canary = canaries[1]!;
      const response = await searchById(counselor.client, canary.identity.agencyId);
      await expectGuarded(response, { response: 'suspend', signal: 'canary' });
      expect(response.json().results).toBeUndefined();
      expect(response.body).not.toContain(canary.identity.lastName);
      await expectSuspended(counselor, 'canary');
      await expectAnnounced(counselor.account, canary);
    });
  });

  describe('enumeration', () => {
    /** An agency id with the population's check letter (as an attacker who knows the format computes it). */
    const agencyId = (n: number): string => {
      const digits = String(n).padStart(7, '0');
      let sum = 0;
      for (let i = 0; i < 7; i++) sum += Number(digits[i]) * (i + 2);
      return `${digits}${String.fromCharCode(65 + (sum % 26))}`;
    };

    /** Searches consecutive ids until the first 429; returns how many requests that took. */
    async function sweepUntilThrottled(
      client: StaffClient,
      from: number,
    ): Promise<{ requests: number; throttled: LightMyRequestResponse }> {
      for (let i = 0; i < 20; i++) {
        w.clock.advance(5_000);
        const response = await searchById(client, agencyId(from + i));
        if (response.statusCode === 429) return { requests: i + 1, throttled: response };
        expect(response.statusCode, response.body).toBe(200);
      }
      throw new Error('not throttled within 20 requests');
    }

    it('sequential agency ids: throttled within 20 requests; while throttled every request is refused on record; hammering on suspends (blocked_per_hour)', async () => {
      setParis('2026-03-03', '10:00');
      const partner = await agent('partner_counselor', await organisation('cap_emploi', pool.slice(0, 3)));
      const { requests, throttled } = await sweepUntilThrottled(partner.client, 4_200_000);
      expect(requests).toBeLessThanOrEqual(20);
      const guard = await expectGuarded(throttled, { response: 'throttle', signal: 'sequential_sweep' });
      expect(Number(throttled.headers['retry-after'])).toBe(guard.retryAfter);

      // Going on with the sweep while throttled: 429, each on record as a guard.throttle refusal.
      for (let i = 0; i < 3; i++) {
        w.clock.advance(5_000);
        const again = await searchById(partner.client, agencyId(4_200_000 + requests + i));
        await expectGuarded(again, { response: 'throttle', signal: 'sequential_sweep' });
      }
      // Even an ordinary read of its caseload is refused while the throttle lasts.
      w.clock.advance(5_000);
      const blockedView = await view(partner.client, pool[0]!);
      expect(blockedView.statusCode).toBe(429);
      expect((await auditOf(blockedView)).reason).toBe('guard.throttle');

      // A script that keeps pushing: each refused request counts; at blocked_per_hour it is suspended.
      let last: LightMyRequestResponse = blockedView;
      let pushes = 0;
      while (last.statusCode === 429 && pushes < 30) {
        w.clock.advance(2_000);
        last = await view(partner.client, pool[0]!);
        pushes += 1;
      }
      const suspended = await expectGuarded(last, {
        response: 'suspend',
        signal: 'blocked_per_hour',
        reason: 'guard.throttle',
      });
      expect(suspended.signals.find((s) => s.name === 'blocked_per_hour')!.value).toBe(
        PARTNER.levels.blocked_per_hour.suspend,
      );
      await expectSuspended(partner, 'blocked_per_hour');
      const alerts = await alertsOf(partner.account.id);
      expect(alerts.map((a) => a.response)).toEqual(['throttle', 'suspend']);
    });

    it('a sweep that goes on through the throttle is suspended by the sweep itself', async () => {
      const partner = await agent('partner_counselor', await organisation('cap_emploi', pool.slice(0, 3)));
      const { requests } = await sweepUntilThrottled(partner.client, 6_500_000);
      let last: LightMyRequestResponse | undefined;
      for (let i = requests; i < 40; i++) {
        w.clock.advance(5_000);
        last = await searchById(partner.client, agencyId(6_500_000 - i)); // and downwards, for a change
        if (last.statusCode !== 429) break;
      }
      await expectGuarded(last!, {
        response: 'suspend',
        signal: 'sequential_sweep',
        reason: 'guard.throttle',
      });
      await expectSuspended(partner, 'sequential_sweep');
    });

    it('a name sweep in alphabetical order: throttled within 20 requests', async () => {
      const partner = await agent('partner_counselor', await organisation('cap_emploi', pool.slice(0, 3)));
      const names = [
        'Aubert',
        'Barbier',
        'Bertrand',
        'Blanc',
        'Boyer',
        'Brun',
        'Caron',
        'Chevalier',
        'Clement',
        'Colin',
        'David',
        'Denis',
        'Dumas',
        'Dupont',
        'Durand',
        'Faure',
        'Fontaine',
        'Fournier',
        'Gaillard',
        'Garnier',
      ];
      let throttled: LightMyRequestResponse | undefined;
      let requests = 0;
      for (const name of names) {
        w.clock.advance(5_000);
        requests += 1;
        const response = await searchByName(partner.client, name.toUpperCase(), 'Jean', '1980-01-01');
        if (response.statusCode === 429) {
          throttled = response;
          break;
        }
        expect(response.statusCode, response.body).toBe(200);
      }
      expect(throttled, 'not throttled within 20 requests').toBeDefined();
      expect(requests).toBeLessThanOrEqual(20);
      await expectGuarded(throttled!, { response: 'throttle', signal: 'alphabetical_sweep' });
    });

    it('a request refused during a throttle is told to wait what remains of it, not the full throttle again', async () => {
      const partner = await agent('partner_counselor', await organisation('cap_emploi', pool.slice(0, 3)));
      const { requests, throttled } = await sweepUntilThrottled(partner.client, 7_700_000);
      const until = w.clock.now().getTime() + Number(throttled.headers['retry-after']) * 1000;
      w.clock.advance(5 * MINUTE);
      const blocked = await searchById(partner.client, agencyId(7_700_000 + requests));
      expect(blocked.statusCode).toBe(429);
      const remaining = Math.ceil((until - w.clock.now().getTime()) / 1000);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(remaining);
    });
  });

  describe('volume beyond the usual day', () => {
    it('a partner with no history: step-up at floor + 25 distinct persons, the same request goes through after a fresh TOTP, suspended at floor + 40', async () => {
      setParis('2026-03-04', '10:00');
      const floor = PARTNER.parameters.baselineFloor;
      const stepUpAt = floor + PARTNER.levels.beyond_baseline.step_up!;
      const suspendAt = floor + PARTNER.levels.beyond_baseline.suspend!;
      const caseload = pool.slice(0, suspendAt + 5);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', caseload));
      const received = new Set<string>();
      for (let i = 0; i < caseload.length; i++) {
        w.clock.advance(5 * MINUTE); // 12 persons an hour: under every per-minute and per-hour quota
        const person = caseload[i]!;
        const response = await view(partner.client, person);
        const nth = i + 1;
        if (nth < stepUpAt || (nth > stepUpAt && nth < suspendAt)) {
          await expectAllowed(response);
          received.add(response.json().person.id);
        } else if (nth === stepUpAt) {
          const guard = await expectGuarded(response, { response: 'step_up', signal: 'beyond_baseline' });
          expect(guard.signals).toContainEqual({
            name: 'beyond_baseline',
            value: PARTNER.levels.beyond_baseline.step_up,
            limit: PARTNER.levels.beyond_baseline.step_up,
            response: 'step_up',
          });
          expect(response.json().person).toBeUndefined();
          // Until the owner proves themselves, nothing else goes through either.
          expect((await view(partner.client, caseload[0]!)).statusCode).toBe(403);
          const sessionBefore = partner.client.cookie;
          await stepUp(partner);
          expect(partner.client.cookie).not.toBe(sessionBefore);
          const retried = await view(partner.client, person);
          await expectAllowed(retried);
          received.add(retried.json().person.id);
        } else {
          expect(nth).toBe(suspendAt);
          const guard = await expectGuarded(response, { response: 'suspend', signal: 'beyond_baseline' });
          expect(guard.signals).toContainEqual({
            name: 'beyond_baseline',
            value: PARTNER.levels.beyond_baseline.suspend,
            limit: PARTNER.levels.beyond_baseline.suspend,
            response: 'suspend',
          });
          break;
        }
      }
      await expectSuspended(partner, 'beyond_baseline');
      // The goal of issue 5: suspended before 50 distinct persons beyond its usual day.
      expect(received.size - floor).toBeLessThan(50);
      expect(received.size).toBe(suspendAt - 1);
      expect((await alertsOf(partner.account.id)).map((a) => a.response)).toEqual(['step_up', 'suspend']);
    });
  });

  describe('probation', () => {
    it('a partner on probation has its volume levels × 0.25: asked for a step-up long before an active one', async () => {
      setParis('2026-03-05', '10:00');
      const floor = PARTNER.parameters.baselineFloor;
      const factor = PARTNER.parameters.probationFactor;
      const stepUpAt = floor + Math.round(PARTNER.levels.beyond_baseline.step_up! * factor);
      expect(stepUpAt).toBeLessThan(floor + PARTNER.levels.beyond_baseline.step_up!);
      const caseload = pool.slice(0, stepUpAt + 2);
      const partner = await agent(
        'partner_counselor',
        await organisation('cap_emploi', caseload),
        'probation',
      );
      expect(await statusOf(partner.account.id)).toBe('probation');
      for (let i = 0; i < stepUpAt; i++) {
        w.clock.advance(6 * MINUTE); // 10 an hour: under the probation's per-hour quota as well
        const response = await view(partner.client, caseload[i]!);
        if (i + 1 < stepUpAt) await expectAllowed(response);
        else {
          const guard = await expectGuarded(response, { response: 'step_up', signal: 'beyond_baseline' });
          expect(guard.signals.find((s) => s.name === 'beyond_baseline')!.limit).toBe(stepUpAt - floor);
        }
      }
    });
  });

  describe('configurable per organisation, from a JSON file, with no code change', () => {
    it('an organisation with lower levels in REMPART_GUARD_CONFIG: its partners are stopped sooner; others are not', async () => {
      setParis('2026-03-05', '15:00');
      const file = path.join(folder, 'guard.json');
      writeFileSync(
        file,
        JSON.stringify({
          organisations: {
            'CAP-STRICT-01': {
              levels: { beyond_baseline: { step_up: 2, suspend: 4 } },
              parameters: { baselineFloor: 3 },
            },
          },
        }),
      );
      const config = loadConfig({ LOG_LEVEL: 'silent', REMPART_GUARD_CONFIG: file });
      const app = await buildApp(config, {
        db: w.t.db,
        kms: w.keys.kms,
        registry: w.keys.registry,
        clock: w.clock,
      });
      extraApps.push(app);
      await app.ready();
      const caseload = pool.slice(0, 8);
      const strict = await agent(
        'partner_counselor',
        await organisation('cap_emploi', caseload, 'CAP-STRICT-01'),
      );
      const usual = await agent('partner_counselor', await organisation('cap_emploi', caseload));
      const through = (a: Agent): Agent => ({ ...a, client: new StaffClient(app).adopt(a.client) });
      const strictHere = through(strict);
      const usualHere = through(usual);

      const codes: number[] = [];
      for (let i = 0; i < 7; i++) {
        w.clock.advance(5 * MINUTE);
        await expectAllowed(await view(usualHere.client, caseload[i]!));
        const response = await view(strictHere.client, caseload[i]!);
        codes.push(response.statusCode);
        if (i === 4) {
          await expectGuarded(response, { response: 'step_up', signal: 'beyond_baseline' }); // 5 = 3 + 2
          await stepUp(strictHere);
          await expectAllowed(await view(strictHere.client, caseload[i]!));
        }
        if (i === 6) await expectGuarded(response, { response: 'suspend', signal: 'beyond_baseline' }); // 7 = 3 + 4
      }
      expect(codes).toEqual([200, 200, 200, 200, 403, 200, 403]);
      expect(await statusOf(strict.account.id)).toBe('suspended');
      expect(await statusOf(usual.account.id)).toBe('active');
    });
  });

  describe('off-hours', () => {
    it('reads at 23:00 Paris count in off_hours_persons, reads at 10:00 do not; at the level, a step-up', async () => {
      setParis('2026-03-06', '10:00');
      const caseload = pool.slice(0, 20);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', caseload));
      for (const person of caseload.slice(0, 3)) {
        w.clock.advance(2 * MINUTE);
        await expectAllowed(await view(partner.client, person));
      }
      let state = await stateOf(partner.account.id);
      expect(state.d.persons).toBe(3);
      expect(state.d.offHours).toBe(0);

      setParis('2026-03-06', '23:00');
      await logIn(partner);
      const level = PARTNER.levels.off_hours_persons.step_up!;
      const night = caseload.slice(3, 3 + level);
      for (let i = 0; i < night.length; i++) {
        w.clock.advance(2 * MINUTE);
        const response = await view(partner.client, night[i]!);
        if (i + 1 < level) await expectAllowed(response);
        else await expectGuarded(response, { response: 'step_up', signal: 'off_hours_persons' });
      }
      state = await stateOf(partner.account.id);
      expect(state.day).toBe('2026-03-06');
      expect(state.d.offHours).toBe(level);
      expect(state.d.persons).toBe(3 + level);
    });
  });

  describe('refused attempts', () => {
    it("a step-up given on the owner's new session does not free a cookie copied from the old one", async () => {
      // T2b in the drill: malware copies the morning session; the guard asks for a step-up; the
      // owner logs in afresh after an idle spell. The copied session, whose second factor is older
      // than the step-up asked, stays refused until it proves itself, which the thief cannot.
      setParis('2026-03-09', '08:30');
      const mine = pool.slice(0, 3);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', mine));
      const copied = new StaffClient(w.app).adopt(partner.client);
      const outside = pool.slice(40, 40 + PARTNER.levels.refused_per_day.step_up!);
      let last: LightMyRequestResponse | undefined;
      for (const person of outside) {
        w.clock.advance(MINUTE);
        last = await view(copied, person);
      }
      await expectGuarded(last!, { response: 'step_up', signal: 'refused_per_day' });
      // The owner logs in again (a fresh second factor after the step-up was asked) and works.
      w.clock.advance(MINUTE);
      await logIn(partner);
      await expectAllowed(await view(partner.client, mine[0]!));
      // The copy of the old session is still asked, and its refusal names what was asked.
      w.clock.advance(MINUTE);
      const again = await view(copied, mine[1]!);
      expect(again.json().code).toBe('step_up_required');
      await expectGuarded(again, { response: 'step_up', signal: 'refused_per_day' });
    });

    it('a partner opening persons outside its caseload: 404s, then a step-up; the owner gives it, and the next level suspends (escalation)', async () => {
      setParis('2026-03-09', '10:00');
      const mine = pool.slice(0, 2);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', mine));
      // Out of scope and absent look alike, and count alike.
      const outside = pool.slice(10, 30);
      const targets = outside.map((p, i) => (i % 3 === 2 ? { id: randomUUID() } : p));
      const { step_up: stepUpLevel } = PARTNER.levels.refused_per_day;
      const outcomes: string[] = [];
      for (let i = 0; i < 2 * stepUpLevel!; i++) {
        w.clock.advance(MINUTE);
        const nth = i + 1;
        const response = await view(partner.client, targets[i]!);
        if (nth === 2 * stepUpLevel!) {
          // A step-up the owner already gave for this signal is not asked again: the account goes to review.
          const guard = await expectGuarded(response, { response: 'suspend', signal: 'refused_per_day' });
          expect(guard.signals.find((s) => s.name === 'refused_per_day')).toMatchObject({ escalated: true });
          outcomes.push('suspend');
        } else if (nth === stepUpLevel) {
          const guard = await expectGuarded(response, { response: 'step_up', signal: 'refused_per_day' });
          expect(guard.signals.find((s) => s.name === 'refused_per_day')!.value).toBe(nth);
          outcomes.push('step_up');
          await stepUp(partner);
          // Its own caseload still answers once it proved itself.
          await expectAllowed(await view(partner.client, mine[0]!));
        } else {
          expect(response.statusCode, response.body).toBe(404);
          const audit = await auditOf(response);
          expect(audit).toMatchObject({ decision: 'deny', reason: 'not_found_or_out_of_scope', links: 0 });
          outcomes.push('404');
        }
      }
      expect(outcomes).toEqual([...['404', '404', '404', 'step_up'], ...['404', '404', '404', 'suspend']]);
      await expectSuspended(partner, 'refused_per_day');
      expect((await alertsOf(partner.account.id)).map((a) => a.response)).toEqual(['step_up', 'suspend']);
    });
  });

  describe('a session used from another address', () => {
    let proxied: FastifyInstance;
    const OWNER = '198.51.100.23';
    const THIEF = '203.0.113.50';

    beforeAll(async () => {
      proxied = await buildApp(loadConfig({ LOG_LEVEL: 'silent', TRUST_PROXY: '127.0.0.1' }), {
        db: w.t.db,
        kms: w.keys.kms,
        registry: w.keys.registry,
        clock: w.clock,
      });
      extraApps.push(proxied);
      await proxied.ready();
    });

    /** A partner that enrolled and works through the trusted proxy, from `address`. */
    async function proxiedPartner(
      address: string,
      caseload: KnownPerson[],
    ): Promise<{ account: Account; client: ProxiedClient; secret: string }> {
      const account = await w.account({
        role: 'partner_counselor',
        organisationId: await organisation('cap_emploi', caseload),
      });
      const client = new ProxiedClient(proxied, address);
      expect(
        (await client.request('POST', '/api/v1/auth/login', { login: account.login, password: PASSWORD }))
          .statusCode,
      ).toBe(200);
      const started = (await client.request('POST', '/api/v1/me/factors/totp')).json();
      const confirmed = await client.request('POST', '/api/v1/me/factors/totp/confirm', {
        factorId: started.factorId,
        code: await totpAt(started.secret, w.clock.now()),
      });
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      await setStatus(account.id, 'active');
      return { account, client, secret: started.secret };
    }

    it('another address than the session’s: step_up_required (X-Forwarded-For believed from the trusted proxy only); after a fresh TOTP the owner goes on, the stolen cookie is dead', async () => {
      setParis('2026-03-10', '10:00');
      const caseload = pool.slice(0, 5);
      const victim = await proxiedPartner(OWNER, caseload);
      await expectAllowed(await view(victim.client, caseload[0]!));
      // Another machine of the same network (/24) is the same place.
      const sameOffice = new ProxiedClient(proxied, '198.51.100.99').adopt(victim.client);
      w.clock.advance(MINUTE);
      await expectAllowed(await view(sameOffice, caseload[1]!));

      // The cookie, stolen, used from elsewhere through the proxy.
      const thief = new ProxiedClient(proxied, THIEF).adopt(victim.client);
      w.clock.advance(MINUTE);
      const stolen = await view(thief, caseload[2]!);
      await expectGuarded(stolen, { response: 'step_up', signal: 'session_address_changed' });
      expect(stolen.json().person).toBeUndefined();
      const [alert] = await alertsOf(victim.account.id);
      expect(alert!.context).toMatchObject({ sourceAddress: THIEF, sessionAddress: OWNER });

      // Straight to the app (no trusted proxy), claiming the owner's address in the header: not believed.
      const spoofer = new ProxiedClient(w.app, OWNER, THIEF).adopt(victim.client);
      w.clock.advance(MINUTE);
      const spoofed = await view(spoofer, caseload[2]!);
      expect(spoofed.json().code).toBe('step_up_required');
      expect((await auditOf(spoofed)).source_address).toBe(THIEF);

      // The owner is asked too (the account is under question), proves itself, and goes on.
      w.clock.advance(MINUTE);
      expect((await view(victim.client, caseload[3]!)).json().code).toBe('step_up_required');
      await stepUp(victim);
      await expectAllowed(await view(victim.client, caseload[3]!));
      // The thief still holds the session id of before the step-up: revoked.
      expect((await view(thief, caseload[4]!)).statusCode).toBe(401);
    });

    it('two live sessions of one account from two addresses: the second is asked for a step-up', async () => {
      setParis('2026-03-10', '14:00');
      const caseload = pool.slice(0, 3);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', caseload));
      await expectAllowed(await view(partner.client, caseload[0]!));
      const elsewhere = new StaffClient(w.app, '10.20.30.40');
      expect((await elsewhere.login(partner.account.login)).statusCode).toBe(200);
      const second = { secret: partner.secret, client: elsewhere };
      await stepUp(second);
      const response = await view(elsewhere, caseload[1]!);
      await expectGuarded(response, { response: 'step_up', signal: 'concurrent_addresses' });
      await stepUp(second);
      await expectAllowed(await view(elsewhere, caseload[1]!));
    });

    it('once the owner stepped up for an address change, a re-stolen cookie used from a third address the same day is asked again', async () => {
      // An infostealer takes the cookie again after the step-up (it did in 2024). The elevated session
      // is bound to the address the owner proved themselves from; another address is asked again.
      setParis('2026-03-11', '10:00');
      const caseload = pool.slice(0, 4);
      const victim = await proxiedPartner(OWNER, caseload);
      await expectAllowed(await view(victim.client, caseload[0]!));
      w.clock.advance(MINUTE);
      expect(
        (await view(new ProxiedClient(proxied, THIEF).adopt(victim.client), caseload[1]!)).json().code,
      ).toBe('step_up_required');
      await stepUp(victim);
      await expectAllowed(await view(victim.client, caseload[1]!));
      const again = new ProxiedClient(proxied, '192.0.2.77').adopt(victim.client);
      w.clock.advance(MINUTE);
      expect((await view(again, caseload[2]!)).json().code).toBe('step_up_required');
    });

    it('a request refused because a step-up is pending is on record with the signals behind it', async () => {
      setParis('2026-03-11', '11:00');
      const caseload = pool.slice(0, 3);
      const victim = await proxiedPartner(OWNER, caseload);
      w.clock.advance(MINUTE);
      await view(new ProxiedClient(proxied, THIEF).adopt(victim.client), caseload[0]!);
      // The owner's own request, from its own address: refused for the pending step-up…
      w.clock.advance(MINUTE);
      const refused = await view(victim.client, caseload[1]!);
      expect(refused.json().code).toBe('step_up_required');
      // …and its audit event should say why (session_address_changed), as every guard decision does.
      await expectGuarded(refused, { response: 'step_up', signal: 'session_address_changed' });
    });
  });

  describe('concurrent requests', () => {
    it('parallel requests of one account are all counted: no update of the state is lost', async () => {
      setParis('2026-03-12', '10:00');
      const caseload = pool.slice(0, 10);
      const partner = await agent('partner_counselor', await organisation('cap_emploi', caseload));
      const responses = await Promise.all(caseload.map((person) => view(partner.client, person)));
      expect(responses.map((r) => r.statusCode)).toEqual(caseload.map(() => 200));
      const state = await stateOf(partner.account.id);
      expect(state.d.views).toBe(caseload.length);
      expect(state.d.persons).toBe(caseload.length);
      expect(state.m.views).toBe(caseload.length);
      // Each answer has its audit event, once: a request redone after the state moved left nothing of
      // its first attempt (the audit event went to the server with COMMIT and was rolled back).
      const events = await owner<{ n: number; persons: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT p.person_id)::int AS persons
         FROM audit_events e JOIN audit_event_persons p ON p.event_id = e.id
         WHERE e.account_id = $1 AND e.action = 'person.view' AND e.decision = 'allow'`,
        [partner.account.id],
      );
      expect(events).toEqual([{ n: caseload.length, persons: caseload.length }]);
    });
  });

  describe('the organisation’s day in stripes', () => {
    // Two connections at once: PGlite has one session.
    it.runIf(engine !== 'pglite')(
      'a request never waits for a stripe another transaction holds: it adds to a new one, and the day adds them up',
      async () => {
        setParis('2026-03-12', '15:00');
        const caseload = pool.slice(14, 17);
        const org = await organisation('cap_emploi', caseload);
        const partner = await agent('partner_counselor', org);
        await expectAllowed(await view(partner.client, caseload[0]!));
        const stripes = () =>
          owner<{ stripe: number; persons: number }>(
            `SELECT stripe, persons FROM guard_organisation_days
             WHERE organisation_id = $1 AND day = '2026-03-12' ORDER BY stripe`,
            [org],
          );
        const [held] = await stripes();
        expect(held).toMatchObject({ persons: 1 });
        // Another transaction holds the day's only stripe (as a request between its write and its
        // commit does); the next read goes through meanwhile, on a stripe of its own.
        let release: () => void = () => undefined;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        let locked: () => void = () => undefined;
        const isLocked = new Promise<void>((resolve) => {
          locked = resolve;
        });
        const holder = w.t.driver.transaction(async (tx) => {
          await tx.query(
            'SELECT 1 FROM guard_organisation_days WHERE organisation_id = $1 AND stripe = $2 FOR UPDATE',
            [org, held!.stripe],
          );
          locked();
          await released;
        });
        await isLocked;
        try {
          await expectAllowed(await view(partner.client, caseload[1]!));
        } finally {
          release();
          await holder;
        }
        const after = await stripes();
        expect(after).toHaveLength(2);
        expect(after.find((s) => s.stripe === held!.stripe)).toEqual(held);
        expect(after.find((s) => s.stripe !== held!.stripe)).toMatchObject({ persons: 1 });
        const [total] = await owner<{ persons: number; accounts: number }>(
          `SELECT persons, accounts FROM guard_organisation_day_totals WHERE organisation_id = $1 AND day = '2026-03-12'`,
          [org],
        );
        expect(total).toEqual({ persons: 2, accounts: 1 });
      },
    );
  });

  describe('round trips', () => {
    // Counted by the PostgreSQL driver (src/db/postgres.ts `wire`); PGlite has no wire.
    it.runIf(engine !== 'pglite')(
      'a gated read as deployed, guard on: the session read, the read in scope, then the audit event, the guard and COMMIT in one write',
      async () => {
        setParis('2026-03-12', '16:00');
        const caseload = pool.slice(10, 14);
        const partner = await agent('partner_counselor', await organisation('cap_emploi', caseload));
        // The first read of the account's day also reads its history (the usual day): not counted.
        await expectAllowed(await view(partner.client, caseload[0]!));
        const counted = async (read: () => Promise<LightMyRequestResponse>): Promise<number> => {
          const before = wire.roundTrips;
          const response = await read();
          const used = wire.roundTrips - before;
          await expectAllowed(response);
          return used;
        };
        // The session and the persons in one write (access/gate-session.ts), then the audit event,
        // the guard and COMMIT.
        expect(await counted(() => view(partner.client, caseload[1]!))).toBe(2);
        expect(await counted(() => searchById(partner.client, caseload[2]!.identity.agencyId))).toBe(2);
        // A person outside the caseload: 404, on record as such, in the same two.
        const before = wire.roundTrips;
        const outside = await view(partner.client, pool[90]!);
        expect(wire.roundTrips - before).toBe(2);
        expect(outside.statusCode).toBe(404);
        expect(await auditOf(outside)).toMatchObject({
          decision: 'deny',
          reason: 'not_found_or_out_of_scope',
        });
      },
    );

    it.runIf(engine !== 'pglite')(
      'the persons read with the session are read as its staff member or not at all: under the operator’s context, the statement finds no one',
      async () => {
        const person = pool[95]!;
        const lookup = indexLookup(w.keys.registry, { by: 'agencyId', agencyId: person.identity.agencyId });
        const staff: Actor = {
          kind: 'staff',
          accountId: randomUUID(),
          organisationId: person.agencyOrganisationId,
          role: 'counselor',
        };
        const as = (actor: Actor) => w.t.db.tx(actor, (tx) => ownCandidates(tx, lookup, 5));
        expect((await as(staff)).map((r) => [r.id, r.in_agency])).toEqual([[person.id, true]]);
        expect(await as(systemCtx('test').actor)).toEqual([]);
        expect(await as({ ...staff, organisationId: randomUUID() })).toEqual([]);
      },
    );
  });

  describe('honest use is left alone', () => {
    it('a counselor reading 15 persons a day over working days, with searches in no order, for 5 days: no guard response, no alert', async () => {
      const caseload = pool.slice(40, 60);
      const counselor = await agent('counselor', await organisation('agency', caseload));
      const days = ['2026-03-16', '2026-03-17', '2026-03-18', '2026-03-19', '2026-03-20'];
      const statuses = new Map<number, number>();
      const count = (response: LightMyRequestResponse): void => {
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, response.body).toBe(200);
      };
      for (const [d, day] of days.entries()) {
        // 15 of the 20, a different set each day, in an order that is not alphabetical.
        const today = Array.from({ length: 15 }, (_, i) => caseload[(d * 7 + i * 3) % caseload.length]!);
        for (const [half, start, reads] of [
          [0, '09:00', today.slice(0, 8)],
          [1, '14:00', today.slice(8)],
        ] as const) {
          setParis(day, start);
          await logIn(counselor);
          for (const [i, person] of reads.entries()) {
            w.clock.advance(10 * MINUTE + i * 7_000);
            if (i % 3 === half) {
              const { lastName, firstNames, birthDate } = person.identity;
              const found = await searchByName(
                counselor.client,
                lastName,
                firstNames.split(',')[0]!,
                birthDate,
              );
              count(found);
              expect(found.json().results.map((r: { id: string }) => r.id)).toContain(person.id);
              w.clock.advance(MINUTE);
            } else if (i === 4) {
              count(await searchById(counselor.client, person.identity.agencyId));
              w.clock.advance(MINUTE);
            }
            count(await view(counselor.client, person));
          }
        }
      }
      expect([...statuses.keys()]).toEqual([200]);
      expect(statuses.get(200)).toBeGreaterThanOrEqual(75);
      expect(await alertsOf(counselor.account.id)).toEqual([]);
      const guarded = await owner<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events
         WHERE account_id = $1 AND (decision <> 'allow' OR query ? 'guard')`,
        [counselor.account.id],
      );
      expect(guarded[0]!.n).toBe(0);
      const state = await stateOf(counselor.account.id);
      expect(state.stepUp).toBeNull();
      expect(state.throttledUntil).toBeNull();
      // Four finished days folded into its usual day of 15 persons.
      expect(state.days).toBe(4);
      expect(state.baseline).toBeCloseTo(15, 5);
      expect(await statusOf(counselor.account.id)).toBe('active');
    });
  });

  describe('the organisation as a whole', () => {
    it('every request adds to its organisation’s day by hour; an account reading far ahead of its day while the organisation is far beyond its usual is suspended, its colleague left alone', async () => {
      const caseload = pool.slice(60, 92);
      const org = await organisation('mission_locale', caseload);
      // Five past working days of 4 persons: 2 in the 9 o'clock hour, 2 in the 14 o'clock one.
      for (const day of ['2026-03-20', '2026-03-23', '2026-03-24', '2026-03-25', '2026-03-26']) {
        await owner(
          `INSERT INTO guard_organisation_days (organisation_id, day, persons, by_hour)
           VALUES ($1, $2, 4, (SELECT array_agg(CASE WHEN h IN (9, 14) THEN 2 ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h))`,
          [org, day],
        );
      }
      const a = await agent('partner_counselor', org);
      const b = await agent('partner_counselor', org);
      setParis('2026-03-27', '10:00');
      await logIn(b);
      await expectAllowed(await view(b.client, caseload[31]!));
      const [today] = await owner<{ persons: number; by_hour: number[]; accounts: number; alerted: boolean }>(
        `SELECT persons, by_hour, accounts, alerted FROM guard_organisation_day_totals WHERE organisation_id = $1 AND day = '2026-03-27'`,
        [org],
      );
      expect(today).toMatchObject({ persons: 1, accounts: 1, alerted: false });
      expect(today!.by_hour[10]).toBe(1);
      // A has no usual day of its own yet (the floor, 25); half the organisation's day is done by the
      // end of this hour: A drives the rise once 12.5 persons ahead of 12.5, at its 25th person, when
      // the organisation (26) is 22 beyond twice its usual by now (2 × 2).
      await logIn(a);
      const answers: number[] = [];
      let last: LightMyRequestResponse | undefined;
      for (const person of caseload.slice(0, 30)) {
        w.clock.advance(40_000);
        last = await view(a.client, person);
        answers.push(last.statusCode);
        if (last.statusCode !== 200) break;
      }
      expect(answers).toEqual([...Array.from({ length: 24 }, () => 200), 403]);
      const guard = await expectGuarded(last!, { response: 'suspend', signal: 'org_beyond_usual' });
      expect(guard.signals.find((x) => x.name === 'org_beyond_usual')).toMatchObject({
        value: 22,
        limit: 10,
      });
      await expectSuspended(a, 'org_beyond_usual');
      // The day is left out of the organisation's usual from now on; B goes on.
      const [after] = await owner<{ persons: number; alerted: boolean }>(
        `SELECT persons, alerted FROM guard_organisation_day_totals WHERE organisation_id = $1 AND day = '2026-03-27'`,
        [org],
      );
      expect(after).toEqual({ persons: 26, alerted: true });
      // One request at a time: every request added to the same stripe of the day (migration 0028).
      expect(
        await owner(
          `SELECT persons, alerted FROM guard_organisation_days WHERE organisation_id = $1 AND day = '2026-03-27'`,
          [org],
        ),
      ).toEqual([{ persons: 26, alerted: true }]);
      // B, idle past the timeout meanwhile, logs in again and reads on.
      w.clock.advance(MINUTE);
      await logIn(b);
      await expectAllowed(await view(b.client, caseload[30]!));
      expect(await statusOf(b.account.id)).toBe('active');
    });
  });
});
