/**
 * The drill harness (issue "staff identity", item 9): `rempart drill T1 --json` run as an operator
 * runs it — a child process that starts its own throwaway server (PGlite, or a new database on the
 * PostgreSQL server under test) and attacks it through the HTTP API only — and the harness's parts:
 * the client's cookie jar, CSRF header and counting, the OpenAPI walker's bodies, the report.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient, personIdsIn, Tally } from '../drill/client.ts';
import { parseMessage } from '../drill/mailbox.ts';
import { bodiesFor, operationsOf, reachedBeyondOwnSummary } from '../drill/openapi.ts';
import { type DrillReport, formatReport, toJson } from '../drill/report.ts';
import { selectScenarios } from '../drill/run.ts';
import { cliEnv, lastJsonLine, rempart } from './helpers/cli.ts';
import { engine, serverUrl } from './helpers/db.ts';

describe(`rempart drill T1 on ${engine}`, () => {
  it('the stolen password, guesses, the attacker’s own authenticator, a stranger and the helpdesk: nothing gets in, nothing leaks', async () => {
    const started = Date.now();
    const result = await rempart(
      ['drill', 'T1', '--json', '--persons', '300'],
      cliEnv({ DATABASE_URL: serverUrl }),
      170_000,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = lastJsonLine(result.stdout) as ReturnType<typeof toJson>;
    expect(Object.keys(report)).toEqual(['scenarios']);
    expect(report.scenarios).toHaveLength(1);
    const t1 = report.scenarios[0]!;
    expect(Object.keys(t1)).toEqual([
      'id',
      'passed',
      'recordsExposed',
      'outsideCaseload',
      'requests',
      'requestsToSuspension',
      'notes',
    ]);
    expect(t1).toMatchObject({ id: 'T1', passed: true, recordsExposed: 0, outsideCaseload: 0 });
    expect(t1.requests).toBeGreaterThan(20);
    for (const label of ['(a)', '(b)', '(c)', '(d)', '(e)']) expect(t1.notes).toContain(label);
    expect(t1.notes).not.toContain('FAILED');
    expect(t1.notes).not.toContain('skipped');
    expect(t1.notes).toContain('the owner received the notice by mail');
    expect(t1.notes).toContain('the owner still logs in');
    expect(Date.now() - started).toBeLessThan(170_000);
  }, 180_000);

  it('an unknown scenario is refused before any setup, naming the known ones', async () => {
    const result = await rempart(['drill', 'T1', 'T42'], cliEnv({ DATABASE_URL: serverUrl }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown scenario T42; known scenarios: T1');
  });
});

describe('drill harness parts', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; cookie?: string; csrf?: string; body: string }[] = [];

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
        });
        response.setHeader('content-type', 'application/json');
        if (request.url === '/login') {
          response.setHeader('set-cookie', ['sid=abc; Path=/; HttpOnly; Secure; SameSite=Strict', 'other=1']);
          response.end(JSON.stringify({ csrfToken: 'token-1', assurance: 'password' }));
        } else if (request.url === '/logout') {
          response.setHeader('set-cookie', 'sid=; Path=/; Max-Age=0');
          response.statusCode = 204;
          response.end();
        } else if (request.url === '/api/v1/persons') {
          response.end(JSON.stringify({ persons: [{ id: 'p1' }, { id: 'p2', caseload: { id: 'c9' } }] }));
        } else if (request.url === '/api/v1/persons/p3/history') {
          response.end(JSON.stringify({ events: [{ personId: 'p3' }, { personId: 'p1' }] }));
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
  });

  it('the tally counts distinct persons in any answer of a route under /persons', async () => {
    const tally = new Tally();
    const client = new DrillClient(base, tally);
    await client.get('/api/v1/persons');
    await client.get('/api/v1/persons/p3/history', { route: '/api/v1/persons/{id}/history' });
    expect([...tally.persons].sort()).toEqual(['c9', 'p1', 'p2', 'p3']);
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
      'POST /api/v1/requests',
      'POST /api/v1/auth/logout',
    ]);
    const [grant, widen] = bodiesFor(operations[1]!, {
      accountId: 'victim-id',
      role: 'administrator',
      code: 'ABCD-EFGH-JKMN-PQRS',
    }) as Record<string, unknown>[];
    expect(grant).toEqual({ kind: 'grant_role', accountId: 'victim-id', role: 'administrator' });
    expect(widen!.kind).toBe('widen');
    expect(widen!.personIds).toHaveLength(2);
    expect(widen!.code).toBe('ABCD-E');
    expect(widen!.nested).toEqual({ n: 1 });
    expect(bodiesFor(operations[2]!, {})).toEqual([{}]);
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
      scenarios: [
        {
          id: 'T1',
          title: 'stolen password',
          passed: false,
          recordsExposed: 3,
          outsideCaseload: 3,
          requests: 120,
          requestsToSuspension: 40,
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
      '{"scenarios":[{"id":"T1","passed":false,"recordsExposed":3,"outsideCaseload":3,"requests":120,' +
        '"requestsToSuspension":40,"notes":"(a) password: FAILED, 1 reached; (e) helpdesk: skipped, not there yet; ' +
        'the owner still logs in"}]}',
    );
    const text = formatReport(report);
    expect(text).toMatch(/^scenario\s+result\s+records exposed/);
    expect(text).toMatch(/T1\s+FAILED\s+3\s+3\s+120\s+40\s+1\.5/);
    expect(text).toContain('[FAIL] (a) password: 1 reached');
    expect(text).toContain('[skip] (e) helpdesk: not there yet');
    expect(text).toContain('0 of 1 scenarios passed (2,000 persons on pglite)');
  });

  it('selects scenarios case-insensitively, all by default, and names the known ones for an unknown id', () => {
    expect(selectScenarios([]).map((s) => s.id)).toContain('T1');
    expect(selectScenarios(['t1', 'T1']).map((s) => s.id)).toEqual(['T1']);
    expect(() => selectScenarios(['T1', 'X'])).toThrow('unknown scenario X; known scenarios: T1');
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
