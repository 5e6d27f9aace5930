/**
 * The drill harness (issue "staff identity", item 9; issue 5): `rempart drill T1 T6 --json`
 * (one throwaway server for both: setup costs more than the scenarios; T2-scope and T7 run in
 * test/drill-guard.test.ts, after T2 and T5 whose incidents T7 notifies) run as an operator runs
 * them — a child process that starts its
 * own throwaway server on a simulated clock (PGlite, or a new database on the PostgreSQL server
 * under test) and attacks it through the HTTP API only — a small honest month before T1, and the
 * harness's parts: the client's cookie jar, CSRF header, address and browser headers and counting,
 * the guard's answers it records, the persons and fields it records, the OpenAPI walker's paths,
 * queries and bodies, the report, and T7's comparison of a breach scope with what the attacker
 * received.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, isWorkingDay, mondayMorning } from '../drill/calendar.ts';
import { DrillClient, guardResponseOf, personFieldsIn, personIdsIn, Tally } from '../drill/client.ts';
import { SCENARIO_IDS } from '../drill/defaults.ts';
import { parisDate } from '../drill/honest.ts';
import { parseMessage } from '../drill/mailbox.ts';
import {
  bodiesFor,
  type Operation,
  operationsOf,
  pathFor,
  queryFor,
  reachedBeyondOwnSummary,
} from '../drill/openapi.ts';
import { beyondBaseline, type DrillReport, formatReport, NO_HONEST, toJson } from '../drill/report.ts';
import { START_AFTER_MS, selectScenarios } from '../drill/run.ts';
import { SCENARIOS } from '../drill/scenarios/index.ts';
import { compareScope, scopePersonsOf } from '../drill/scope-compare.ts';
import { apiFacts, searchBy } from '../drill/steps/scope-probe.ts';
import { cliEnv, lastJsonLine, rempart } from './helpers/cli.ts';
import { engine, serverUrl } from './helpers/db.ts';
import { SCENARIO_KEYS } from './helpers/drill-keys.ts';

/** The scenarios `rempart drill` knows, as its error message lists them. */
// The scenarios' ids, then the groups' names (COLLUDE runs COLLUDE-2 and COLLUDE-5).
const KNOWN = [...SCENARIOS.map((s) => s.id), 'COLLUDE'].join(', ');

describe(`rempart drill T1 T6 after an honest month, on ${engine}`, () => {
  // One drill for the honest month and the two scenarios, in the order asked, on one throwaway
  // server (as `rempart drill` runs all of them by default): the honest accounts' days, then T1's
  // claims, then T6's. (Two drills here cost a second server, population and keyring.)
  let result: Awaited<ReturnType<typeof rempart>>;
  let report: ReturnType<typeof toJson>;
  let elapsed = 0;
  // The simulated month starts on the first Monday 08:00 (Paris) 8 days after the real now: the
  // working days among its 5 days are known from the calendar (a public holiday may fall in them).
  const workingDays = (): number => {
    const start = parisDate(mondayMorning(new Date(Date.now() + START_AFTER_MS)));
    return Array.from({ length: 5 }, (_, d) => addDays(start, d)).filter(isWorkingDay).length;
  };
  let workingDaysBefore = 0;
  let workingDaysAfter = 0;
  beforeAll(async () => {
    const started = Date.now();
    workingDaysBefore = workingDays();
    result = await rempart(
      ['drill', 'T1', 'T6', '--json', '--persons', '2000', '--honest-accounts', '12', '--honest-days', '5'],
      cliEnv({ DATABASE_URL: serverUrl }),
      290_000,
    );
    workingDaysAfter = workingDays();
    elapsed = Date.now() - started;
    report = lastJsonLine(result.stdout) as ReturnType<typeof toJson>;
  }, 300_000);

  it('runs the scenarios asked, in their order, and each passes', () => {
    // On failure, the scenarios' notes say which step failed and why (the drill's own words).
    const notes = report?.scenarios?.map((s) => `${s.id}: ${s.notes}`).join('\n');
    expect(Object.keys(report), result.stderr).toEqual(['honest', 'scenarios']);
    expect(report.scenarios.map((s) => s.id)).toEqual(['T1', 'T6']);
    expect(
      report.scenarios.map((s) => [s.id, s.passed]),
      notes,
    ).toEqual([
      ['T1', true],
      ['T6', true],
    ]);
    // Exit 0 when the scenarios passed and the honest month met its goal (honestPassed: the guard's
    // tests judge that), else 1; never a crash.
    expect([0, 1], result.stderr || notes).toContain(result.code);
    expect(elapsed).toBeLessThan(170_000);
  });

  it('12 honest accounts work through 5 simulated days (passkeys, worklists, national searches); the report counts them', () => {
    // The guard's outcomes (suspensions, step-ups, throttles) are the guard's tests; here the shape
    // and the counts' consistency.
    expect(Object.keys(report.honest)).toEqual([
      'accounts',
      'accountDays',
      'suspensions',
      'stepUps',
      'throttles',
    ]);
    expect(report.honest.accounts).toBe(12);
    expect([12 * workingDaysBefore, 12 * workingDaysAfter]).toContain(report.honest.accountDays);
    for (const count of [report.honest.suspensions, report.honest.stepUps, report.honest.throttles]) {
      expect(Number.isInteger(count) && count >= 0).toBe(true);
    }
    expect(report.honest.suspensions).toBeLessThanOrEqual(report.honest.accounts);
  });

  it('T1: the stolen password, guesses, the attacker’s own authenticator, a stranger and the helpdesk: nothing gets in, nothing leaks', () => {
    const t1 = report.scenarios[0]!;
    expect(Object.keys(t1)).toEqual([...SCENARIO_KEYS, 'notes']);
    expect(t1).toMatchObject({
      id: 'T1',
      passed: true,
      recordsExposed: 0,
      outsideCaseload: 0,
      beyondBaseline: null,
    });
    // Whether the guard answered is the guard's business; the figures agree with each other.
    expect(t1.suspended).toBe(t1.requestsToSuspension !== null);
    expect(t1.requests).toBeGreaterThan(20);
    for (const label of ['(a)', '(b)', '(c)', '(d)', '(e)']) expect(t1.notes).toContain(label);
    expect(t1.notes).not.toContain('FAILED');
    expect(t1.notes).not.toContain('skipped');
    expect(t1.notes).toContain('the owner received the notice by mail');
    expect(t1.notes).toContain('the owner still logs in');
  });

  it('an unknown scenario is refused before any setup, naming the known ones', async () => {
    const refused = await rempart(['drill', 'T1', 'T42'], cliEnv({ DATABASE_URL: serverUrl }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`unknown scenario T42; known scenarios: ${KNOWN}`);
  });

  it('T6: a forged code fails, a real one reused is shown as what it is, a real notice verifies, an altered one fails, guessing is throttled', () => {
    const t6 = report.scenarios[1]!;
    expect(t6).toMatchObject({
      id: 'T6',
      passed: true,
      recordsExposed: 0,
      forgedCodeRejected: true,
      reusedCodeShownAsIs: true,
      noticeGenuine: true,
      alteredNoticeRejected: true,
      // The 11th check of one address within a minute is refused (VERIFY_PER_ADDRESS = 10).
      guessesToThrottle: 11,
      requestsToFirstResponse: 11,
      suspended: false,
    });
    // The code reused is a real one a staff member received earlier in the drill (a lock, recovery or
    // suspension notice), read from the mailbox; the check names its real kind and channel.
    expect(t6.notes).toContain('the newest coded staff mail in the mailbox carries a code');
    expect(t6.notes).toMatch(/the check shows [a-z_.]+ by email at /);
    // No notice was mailed in this drill (T7 mails them: test/drill-guard.test.ts runs T6 after it,
    // from the mailbox): the operator signs one with the server's notice key.
    expect(t6.noticeSource).toBe('operator');
    expect(t6.notes).not.toContain('FAILED');
  });
});

describe('drill harness parts', () => {
  let server: Server;
  let base: string;
  const seen: {
    url: string;
    cookie?: string;
    csrf?: string;
    body: string;
    forwarded?: string;
    userAgent?: string;
  }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const csrf = request.headers['x-csrf-token'];
        seen.push({
          url: request.url ?? '',
          ...(request.headers.cookie ? { cookie: request.headers.cookie } : {}),
          ...(typeof csrf === 'string' ? { csrf } : {}),
          body,
          ...(typeof request.headers['x-forwarded-for'] === 'string'
            ? { forwarded: request.headers['x-forwarded-for'] }
            : {}),
          ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}),
        });
        response.setHeader('content-type', 'application/json');
        const problem = (status: number, code: string): void => {
          response.statusCode = status;
          response.setHeader('content-type', 'application/problem+json');
          response.end(JSON.stringify({ status, code }));
        };
        if (request.url === '/login') {
          response.setHeader('set-cookie', ['sid=abc; Path=/; HttpOnly; Secure; SameSite=Strict', 'other=1']);
          response.end(JSON.stringify({ csrfToken: 'token-1', assurance: 'password' }));
        } else if (request.url === '/logout') {
          response.setHeader('set-cookie', 'sid=; Path=/; Max-Age=0');
          response.statusCode = 204;
          response.end();
        } else if (request.url === '/api/v1/persons') {
          response.end(JSON.stringify({ persons: [{ id: 'p1' }, { id: 'p2', caseload: { id: 'c9' } }] }));
        } else if (request.url === '/api/v1/other') {
          response.end(
            JSON.stringify({
              items: [
                { personId: 'p9', email: 'x@y.z' },
                { id: 'acc1', login: 'l' },
              ],
            }),
          );
        } else if (request.url === '/api/v1/persons/p3/history') {
          response.end(JSON.stringify({ events: [{ personId: 'p3' }, { personId: 'p1' }] }));
        } else if (request.url === '/api/v1/persons/throttled') {
          response.setHeader('retry-after', '90');
          problem(429, 'throttled');
        } else if (request.url === '/api/v1/me/factors/totp') {
          problem(403, 'step_up_required');
        } else if (request.url === '/api/v1/persons/step-up') {
          problem(403, 'step_up_required');
        } else if (request.url === '/api/v1/persons/suspended') {
          problem(403, 'account_suspended');
        } else {
          response.statusCode = 403;
          response.setHeader('content-type', 'application/problem+json');
          response.end(JSON.stringify({ status: 403, code: 'second_factor_required' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('the client keeps cookies and the CSRF token, sends them back, forgets deleted cookies, and counts', async () => {
    const tally = new Tally();
    const client = new DrillClient(base, tally);
    await client.post('/login', { login: 'x', password: 'y' });
    expect(client.csrf).toBe('token-1');
    const refused = await client.post('/anything');
    expect(refused).toMatchObject({ status: 403, code: 'second_factor_required' });
    expect(seen.at(-1)).toMatchObject({ cookie: 'sid=abc; other=1', csrf: 'token-1', body: '{}' });
    await client.get('/read');
    expect(seen.at(-1)!.csrf).toBeUndefined(); // GET carries no token
    await client.post('/logout');
    expect([...client.cookies.keys()]).toEqual(['other']);
    expect(tally.requests).toBe(4);
    expect(tally.mfaReached).toBe(false);
    expect(tally.persons.size).toBe(0);
    // A stolen session: another client takes the cookies and the CSRF token.
    await client.post('/login', { login: 'x', password: 'y' });
    const thief = new DrillClient(base).adopt(client);
    await thief.patch('/anything', { email: 'a@b.c' });
    expect(seen.at(-1)).toMatchObject({
      cookie: 'other=1; sid=abc',
      csrf: 'token-1',
      body: '{"email":"a@b.c"}',
    });
  });

  it('sends the address (X-Forwarded-For) and browser (User-Agent) of its workstation; an owner seats an unpinned client', async () => {
    await new DrillClient(base, new Tally(), 'bare').get('/read');
    expect(seen.at(-1)!.forwarded).toBeUndefined();
    expect(seen.at(-1)!.userAgent).toMatch(/^Mozilla\/5\.0/);
    const outside = new DrillClient(base, new Tally(), 'attacker', { address: '203.0.113.7' });
    await outside.get('/read');
    expect(seen.at(-1)).toMatchObject({ forwarded: '203.0.113.7' });
    outside.seat({ address: '10.20.3.4', userAgent: 'Office browser' });
    await outside.get('/read');
    expect(seen.at(-1)).toMatchObject({ forwarded: '10.20.3.4', userAgent: 'Office browser' });
    const pinned = new DrillClient(base, new Tally(), 'attacker', {
      address: '198.51.100.1',
      userAgent: 'curl/8.0',
      pinned: true,
    });
    pinned.seat({ address: '10.20.3.4', userAgent: 'Office browser' });
    await pinned.get('/read');
    expect(seen.at(-1)).toMatchObject({ forwarded: '198.51.100.1', userAgent: 'curl/8.0' });
  });

  it('the tally records the guard’s first answer other than allow and the suspension; step_up_required outside /persons is not the guard', async () => {
    const tally = new Tally();
    const client = new DrillClient(base, tally);
    await client.get('/api/v1/persons');
    await client.post('/api/v1/me/factors/totp', {});
    expect(tally.guardFigures()).toEqual({
      requestsToFirstResponse: null,
      requestsToSuspension: null,
      suspended: false,
    });
    const throttled = await client.get('/api/v1/persons/throttled');
    expect(throttled).toMatchObject({ status: 429, code: 'throttled', retryAfter: 90 });
    await client.get('/api/v1/persons/step-up');
    await client.get('/api/v1/persons/suspended');
    expect(tally.guardFigures()).toEqual({
      requestsToFirstResponse: 3,
      requestsToSuspension: 5,
      suspended: true,
    });
    expect(tally.firstResponse).toBe('throttle');
    expect(tally.guardResponses).toEqual({ throttle: 1, step_up: 1, suspend: 1 });
    expect(
      guardResponseOf({ status: 403, code: 'step_up_required', route: '/api/v1/persons/{id}', path: '/x' }),
    ).toBe('step_up');
    expect(
      guardResponseOf({
        status: 403,
        code: 'step_up_required',
        route: '/api/v1/accounts',
        path: '/api/v1/accounts',
      }),
    ).toBe(undefined);
    // Seen by the security officers rather than in an answer: both counts at the requests so far.
    const watched = new Tally();
    watched.requests = 7;
    watched.markSuspended();
    expect(watched.guardFigures()).toEqual({
      requestsToFirstResponse: 7,
      requestsToSuspension: 7,
      suspended: true,
    });
    // A tally that keeps no exchanges (the honest month) still counts.
    const light = new Tally({ keepExchanges: false });
    await new DrillClient(base, light).get('/api/v1/persons');
    expect([light.requests, light.exchanges.length, light.persons.size]).toEqual([1, 0, 3]);
  });

  it('beyond baseline: distinct persons read over the account’s usual day, null without a baseline', () => {
    expect(beyondBaseline(80, 20)).toBe(60);
    expect(beyondBaseline(12, 20)).toBe(0);
    expect(beyondBaseline(12, null)).toBeNull();
    expect(beyondBaseline(0, 20)).toBeNull();
  });

  it('the tally counts distinct persons in any answer of a route under /persons, with the fields received for each', async () => {
    const tally = new Tally();
    const client = new DrillClient(base, tally);
    await client.get('/api/v1/persons');
    // From now on each answer's persons are also logged with their time (T7's window of an attack).
    let now = 1000;
    tally.clock = () => now;
    tally.receivedLog = [];
    now = 2000;
    await client.get('/api/v1/persons/p3/history', { route: '/api/v1/persons/{id}/history' });
    expect(tally.receivedLog).toEqual([
      {
        at: 2000,
        got: new Map([
          ['p3', new Set()],
          ['p1', new Set()],
        ]),
      },
    ]);
    expect([...tally.persons].sort()).toEqual(['c9', 'p1', 'p2', 'p3']);
    expect(Object.fromEntries([...tally.received].map(([id, f]) => [id, [...f].sort()]))).toEqual({
      p1: [],
      p2: ['caseload'],
      c9: [],
      p3: [],
    });
    // Outside /persons, only ids the operator knows to be persons count.
    const other = new Tally();
    other.knownPersons = new Set(['p9']);
    const watcher = new DrillClient(base, other);
    await watcher.get('/api/v1/other');
    expect([...other.persons]).toEqual(['p9']);
    expect([...other.received]).toEqual([['p9', new Set(['email'])]]);
    expect([
      ...personFieldsIn({
        results: [{ id: 'p9', lastName: 'X', address: { city: 'Y' } }],
        fields: ['lastName'],
      }),
    ]).toEqual([['p9', new Set(['lastName', 'address'])]]);
    expect([
      ...personFieldsIn(
        { a: { id: 'acc' }, b: { personId: 'p9', fields: [] } },
        new Map(),
        (id) => id === 'p9',
      ),
    ]).toEqual([['p9', new Set(['fields'])]]);
    expect([...personIdsIn({ a: [{ personId: 7 }, { id: 'x', b: { id: 'y' } }] })].sort()).toEqual([
      '7',
      'x',
      'y',
    ]);
  });

  it('walks every GET and POST of a document, logouts last, bodies filled from the schema', () => {
    const operations = operationsOf({
      paths: {
        '/api/v1/auth/logout': { post: {} },
        '/api/v1/things/{id}': { get: {}, delete: {} },
        '/api/v1/requests': {
          post: {
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      {
                        properties: {
                          kind: { const: 'grant_role' },
                          accountId: { type: 'string', format: 'uuid' },
                          role: { type: 'string', enum: ['counselor', 'administrator'] },
                        },
                      },
                      {
                        properties: {
                          kind: { const: 'widen' },
                          personIds: {
                            type: 'array',
                            minItems: 2,
                            items: { type: 'string', format: 'uuid' },
                          },
                          code: { type: 'string', maxLength: 6 },
                          nested: { type: 'object', properties: { n: { type: 'integer' } } },
                        },
                      },
                    ],
                  },
                },
              },
            },
          },
        },
      },
    });
    expect(operations.map((o) => `${o.method} ${o.route}`)).toEqual([
      'GET /api/v1/things/{id}',
      'DELETE /api/v1/things/{id}',
      'POST /api/v1/requests',
      'POST /api/v1/auth/logout',
    ]);
    const [grant, widen] = bodiesFor(operations[2]!, {
      accountId: 'victim-id',
      role: 'administrator',
      code: 'ABCD-EFGH-JKMN-PQRS',
    }) as Record<string, unknown>[];
    expect(grant).toEqual({ kind: 'grant_role', accountId: 'victim-id', role: 'administrator' });
    expect(widen!.kind).toBe('widen');
    expect(widen!.personIds).toHaveLength(2);
    expect(widen!.code).toBe('ABCD-E');
    expect(widen!.nested).toEqual({ n: 1 });
    expect(bodiesFor(operations[3]!, {})).toEqual([{}]);
    expect(() => operationsOf({ paths: { '/x': { head: {} } } })).toThrow('does not know method HEAD');
  });

  it('fills path ids and query parameters from the attacker’s values, and bodies with only the given fields when asked', () => {
    const [view, search, contact] = operationsOf({
      paths: {
        '/api/v1/persons/{id}': {
          get: {
            parameters: [
              { in: 'path', name: 'id', required: true, schema: { type: 'string' } },
              { in: 'query', name: 'purpose', required: true, schema: { type: 'string', enum: ['a', 'b'] } },
              { in: 'query', name: 'verbose', schema: { type: 'boolean' } },
            ],
          },
        },
        '/api/v1/persons/search': {
          post: {
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['purpose', 'by'],
                    properties: {
                      purpose: { type: 'string', enum: ['a', 'b'] },
                      by: { type: 'string', enum: ['nir', 'agencyId'] },
                      nir: { type: 'string' },
                      agencyId: { type: 'string' },
                      cap: { type: 'integer', maximum: 10 },
                    },
                  },
                },
              },
            },
          },
        },
        '/api/v1/persons/{id}/contact': { patch: {} },
      },
    }) as [Operation, Operation, Operation];
    expect(contact.method).toBe('PATCH');
    expect(view.query.map((q) => [q.name, q.required])).toEqual([
      ['purpose', true],
      ['verbose', false],
    ]);
    expect(pathFor(view.route, { id: 'p 1' }) + queryFor(view, { purpose: 'b' })).toBe(
      '/api/v1/persons/p%201?purpose=b',
    );
    expect(pathFor(view.route, {})).toMatch(/^\/api\/v1\/persons\/[0-9a-f-]{36}$/);
    expect(queryFor(view, { purpose: 'zzz', verbose: false })).toBe('?purpose=a&verbose=false');
    const values = { purpose: 'b', by: 'agencyId', agencyId: '1234567A' };
    expect(bodiesFor(search, values, 'given')).toEqual([values]);
    expect(Object.keys(bodiesFor(search, values)[0] as object)).toEqual([
      'purpose',
      'by',
      'nir',
      'agencyId',
      'cap',
    ]);
    expect(apiFacts([search])).toEqual({ purposes: ['a', 'b'], searchKinds: ['nir', 'agencyId'], cap: 10 });
  });

  it('counts as reached any success beyond public routes and the caller’s own account summary', () => {
    const call = (route: string, status: number, body: unknown, method: 'GET' | 'POST' = 'GET') => ({
      method,
      path: route,
      route,
      status,
      code: undefined,
      body,
    });
    const own = { account: { login: 'Drill.Victim' }, assurance: 'password' };
    expect(reachedBeyondOwnSummary(call('/api/health', 200, { status: 'ok' }), 'drill.victim')).toBe(false);
    expect(reachedBeyondOwnSummary(call('/api/v1/auth/proconnect', 200, { enabled: false }), undefined)).toBe(
      false,
    );
    expect(
      reachedBeyondOwnSummary(call('/api/v1/portal/franceconnect', 200, { enabled: false }), undefined),
    ).toBe(false);
    expect(reachedBeyondOwnSummary(call('/api/v1/me', 200, own), 'drill.victim')).toBe(false);
    expect(reachedBeyondOwnSummary(call('/api/v1/me', 200, own), undefined)).toBe(true);
    expect(reachedBeyondOwnSummary(call('/api/v1/me', 200, own), 'someone.else')).toBe(true);
    expect(reachedBeyondOwnSummary(call('/api/v1/me/sessions', 200, { sessions: [] }), 'drill.victim')).toBe(
      true,
    );
    expect(reachedBeyondOwnSummary(call('/api/v1/accounts/x/disable', 204, undefined, 'POST'), 'v')).toBe(
      true,
    );
    expect(reachedBeyondOwnSummary(call('/api/v1/auth/logout', 204, undefined, 'POST'), 'v')).toBe(false);
    expect(reachedBeyondOwnSummary(call('/api/v1/persons', 403, { code: 'x' }), 'v')).toBe(false);
  });

  it('reports: the JSON contract with its exact fields, and a readable table', () => {
    const report: DrillReport = {
      passed: false,
      persons: 2000,
      database: 'pglite',
      honest: {
        ...NO_HONEST,
        accounts: 1000,
        accountDays: 21_000,
        suspensions: 0,
        stepUps: 3,
        throttles: 1,
        days: 30,
        workingDays: 21,
        requests: 1_234_567,
        reads: 400_000,
        searches: 120_000,
        nationalReads: 6_000,
        from: '2026-12-07T07:31:00.000Z',
        to: '2027-01-05T17:40:00.000Z',
        seconds: 1800,
      },
      scenarios: [
        {
          id: 'T1',
          title: 'stolen password',
          passed: false,
          recordsExposed: 3,
          outsideCaseload: 3,
          beyondBaseline: null,
          requestsToFirstResponse: 12,
          requestsToSuspension: 40,
          suspended: true,
          requests: 120,
          steps: [
            { label: '(a)', title: 'password', passed: false, skipped: false, note: '1 reached' },
            { label: '(e)', title: 'helpdesk', passed: true, skipped: true, note: 'not there yet' },
          ],
          remarks: ['the owner still logs in'],
          seconds: 1.5,
        },
      ],
    };
    expect(JSON.stringify(toJson(report))).toBe(
      '{"honest":{"accounts":1000,"accountDays":21000,"suspensions":0,"stepUps":3,"throttles":1},' +
        '"scenarios":[{"id":"T1","passed":false,"recordsExposed":3,"outsideCaseload":3,"beyondBaseline":null,' +
        '"requestsToFirstResponse":12,"requestsToSuspension":40,"suspended":true,"requests":120,' +
        '"notes":"(a) password: FAILED, 1 reached; (e) helpdesk: skipped, not there yet; ' +
        'the owner still logs in"}]}',
    );
    const text = formatReport(report);
    expect(text).toMatch(
      /^honest month: 1,000 accounts over 30 days \(21 working\): 21,000 account-days, 0 suspensions, 3 step-ups, 1 throttles — passed; 1,234,567 requests/,
    );
    expect(text).toMatch(
      /\nscenario\s+result\s+records exposed\s+outside caseload\s+beyond baseline\s+to first response/,
    );
    expect(text).toMatch(/T1\s+FAILED\s+3\s+3\s+-\s+12\s+40\s+yes\s+120\s+1\.5/);
    // Not run: said so.
    expect(formatReport({ ...report, honest: NO_HONEST })).toMatch(
      /^honest month: not run \(--honest-accounts 0\)/,
    );
    // The goal: no suspension and fewer than 1 step-up per 1,000 account-days.
    expect(formatReport({ ...report, honest: { ...report.honest, stepUps: 21 } })).toContain('— FAILED;');
    expect(text).toContain('[FAIL] (a) password: 1 reached');
    expect(text).toContain('[skip] (e) helpdesk: not there yet');
    expect(text).toContain('0 of 1 scenarios passed (2,000 persons on pglite)');

    // A scenario's own figures join its entry only, before the notes; T1's entry keeps its ten keys.
    const t7 = {
      ...report.scenarios[0]!,
      id: 'T7',
      steps: [],
      remarks: [],
      figures: {
        scopeExact: false,
        personsInScope: 2,
        personsReceived: 3,
        missing: 1,
        extra: 0,
        fieldMismatches: 0,
      },
    };
    const both = toJson({ ...report, scenarios: [report.scenarios[0]!, t7] });
    expect(Object.keys(both.scenarios[0]!)).toHaveLength(10);
    expect(Object.keys(both.scenarios[1]!)).toEqual([
      ...SCENARIO_KEYS,
      'scopeExact',
      'personsInScope',
      'personsReceived',
      'missing',
      'extra',
      'fieldMismatches',
      'notes',
    ]);
    expect(formatReport({ ...report, scenarios: [t7] })).toContain(
      '  figures: scopeExact false, personsInScope 2, personsReceived 3, missing 1, extra 0, fieldMismatches 0',
    );
  });

  it('T7’s comparison is exact only for the same persons with the same fields', () => {
    const scope = [
      { personId: 'A0000000-0000-4000-8000-000000000001', fields: ['agencyId', 'lastName'] },
      { personId: 'a0000000-0000-4000-8000-000000000002', fields: ['email', 'lastName'] },
    ];
    const received = (entries: [string, string[]][]): Map<string, Set<string>> =>
      new Map(entries.map(([id, fields]) => [id, new Set(fields)]));
    const same = received([
      ['a0000000-0000-4000-8000-000000000002', ['lastName', 'email']],
      ['a0000000-0000-4000-8000-000000000001', ['lastName', 'agencyId']],
    ]);
    expect(compareScope(scope, same)).toEqual({
      scopeExact: true,
      personsInScope: 2,
      personsReceived: 2,
      missing: [],
      extra: [],
      fieldMismatches: [],
    });
    // A person the attacker received that the scope misses.
    const more = new Map([...same, ['a0000000-0000-4000-8000-000000000003', new Set(['lastName'])]]);
    expect(compareScope(scope, more)).toMatchObject({
      scopeExact: false,
      missing: ['a0000000-0000-4000-8000-000000000003'],
      extra: [],
    });
    // Even an id received alone, with no field.
    const bare = new Map([...same, ['a0000000-0000-4000-8000-000000000003', new Set<string>()]]);
    expect(compareScope(scope, bare).scopeExact).toBe(false);
    // A person in the scope the attacker never received (announcing more than was taken).
    const fewer = received([['a0000000-0000-4000-8000-000000000001', ['agencyId', 'lastName']]]);
    expect(compareScope(scope, fewer)).toMatchObject({
      scopeExact: false,
      missing: [],
      extra: ['a0000000-0000-4000-8000-000000000002'],
    });
    // A field received that the scope does not name, and one it names that was not received.
    const fields = received([
      ['a0000000-0000-4000-8000-000000000001', ['agencyId', 'lastName', 'phone']],
      ['a0000000-0000-4000-8000-000000000002', ['lastName']],
    ]);
    expect(compareScope(scope, fields)).toMatchObject({
      scopeExact: false,
      missing: [],
      extra: [],
      fieldMismatches: [
        { personId: 'a0000000-0000-4000-8000-000000000001', missingFields: ['phone'], extraFields: [] },
        { personId: 'a0000000-0000-4000-8000-000000000002', missingFields: [], extraFields: ['email'] },
      ],
    });
    expect(compareScope([], new Map()).scopeExact).toBe(true);
    expect(scopePersonsOf({ persons: [{ personId: 'p', fields: ['x'], firstAt: 't', events: 1 }] })).toEqual([
      { personId: 'p', fields: ['x'] },
    ]);
    expect(() => scopePersonsOf({ personCount: 3 })).toThrow('no persons list');
    expect(() => scopePersonsOf({ persons: [{ personId: 'p' }] })).toThrow('without personId and fields');
  });

  it('searches for a leaked person by each kind of identifier', () => {
    const person = {
      id: 'p',
      agencyId: '1234567A',
      nir: '185057512345678',
      lastName: 'Martin',
      birthName: null,
      firstNames: 'Jean, Pierre',
      birthDate: '1985-05-01',
      kind: 'other partner' as const,
    };
    expect(searchBy(person, 'nir')).toEqual({ by: 'nir', nir: '185057512345678' });
    expect(searchBy(person, 'agencyId')).toEqual({ by: 'agencyId', agencyId: '1234567A' });
    expect(searchBy(person, 'nameBirth')).toEqual({
      by: 'nameBirth',
      lastName: 'Martin',
      firstName: 'Jean, Pierre',
      birthDate: '1985-05-01',
    });
  });

  it('selects scenarios case-insensitively, all by default, and names the known ones for an unknown id', () => {
    expect(selectScenarios([]).map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    expect(SCENARIOS.map((s) => s.id)).toEqual(expect.arrayContaining(['T1', 'T2-scope', 'T7']));
    expect(selectScenarios(['t1', 'T1']).map((s) => s.id)).toEqual(['T1']);
    expect(selectScenarios(['t7', 't2-SCOPE']).map((s) => s.id)).toEqual(['T7', 'T2-scope']);
    expect(selectScenarios(['collude', 'MIMIC']).map((s) => s.id)).toEqual([
      'COLLUDE-2',
      'COLLUDE-5',
      'MIMIC',
    ]);
    expect(selectScenarios(['COLLUDE-5']).map((s) => s.id)).toEqual(['COLLUDE-5']);
    expect(() => selectScenarios(['T1', 'X'])).toThrow(`unknown scenario X; known scenarios: ${KNOWN}`);
  });

  it('the command line lists the scenarios it knows in their order, without loading them', () => {
    expect(SCENARIO_IDS).toEqual(SCENARIOS.map((s) => s.id));
  });

  it('reads the mail a victim receives: quoted-printable body, encoded subject', () => {
    const source = Buffer.from(
      [
        'Subject: =?UTF-8?Q?Demande_de_r=C3=A9cup=C3=A9ration?= =?UTF-8?Q?_de_votre_compte?=',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'annulez-la avec ce code : ABCD-EFGH-JKMN-PQRS=',
        ' (r=C3=A9cup=C3=A9ration)',
        '',
      ].join('\r\n'),
    );
    expect(parseMessage(source)).toMatchObject({
      subject: 'Demande de récupération de votre compte',
      text: 'annulez-la avec ce code : ABCD-EFGH-JKMN-PQRS (récupération)\n',
    });
  });
});
