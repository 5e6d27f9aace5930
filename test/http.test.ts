/**
 * The HTTP skeleton on a real PGlite database: health, OpenAPI, the one error mapping, the security
 * headers, the refusal of cross-site API requests (docs/DESIGN.md section 13) and logs without personal
 * data (docs/DESIGN.md section 12).
 */
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/open.ts';
import { openPglite } from '../src/db/pglite.ts';
import type { Db } from '../src/db/types.ts';
import { buildApp } from '../src/http/app.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';

const NIR = '185057800604822';
const EMAIL = 'jeanne.martin@example.fr';

let db: Db;
let app: FastifyInstance;
let logs = '';

function logStream(): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      logs += chunk.toString();
      callback();
    },
  });
}

function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: `https://rempart.invalid/problems/${code}` });
  expect(body.requestId).toEqual(expect.any(String));
  expect(body.requestId).toBe(response.headers['x-request-id']);
  return body;
}

let keys: TestKeys;

beforeAll(async () => {
  keys = await freshKeys();
  const driver = await openPglite(undefined);
  await migrate(driver);
  db = createDb(driver);
  const config = { ...loadConfig({}), logLevel: 'info' as const };
  app = await buildApp(config, {
    db,
    kms: keys.kms,
    registry: keys.registry,
    logStream: logStream(),
  });
  // Throwaway routes standing in for the personal-data routes of later modules.
  app.get('/api/v1/echo', async () => ({ ok: true }));
  app.post(
    '/api/v1/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['email'],
          additionalProperties: false,
          properties: { email: { type: 'string', maxLength: 10 }, age: { type: 'integer' } },
        },
      },
    },
    async () => ({ ok: true }),
  );
  app.get('/api/v1/boom', async () => {
    throw new Error(`lookup failed for ${NIR}`);
  });
  await app.ready();
});

afterAll(async () => {
  await keys?.cleanup();
  await app?.close();
  await db?.close();
});

describe('GET /api/health', () => {
  it('answers 200 {status: ok} and the audit sequencer lag when the database answers', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      audit: { pendingEvents: 0, oldestPendingSeconds: 0, lagAlertSeconds: 60 },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['returns false', async (): Promise<boolean> => false],
    [
      'throws',
      async (): Promise<boolean> => {
        throw new Error('connection refused');
      },
    ],
  ])('answers 503 database_unavailable when ping %s', async (_case, ping) => {
    const down = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), {
      db: { ...db, ping },
      kms: keys.kms,
      registry: keys.registry,
    });
    try {
      const response = await down.inject({ method: 'GET', url: '/api/health' });
      const body = expectProblem(response, 503, 'database_unavailable');
      expect(JSON.stringify(body)).not.toContain('connection refused');
    } finally {
      await down.close();
    }
  });

  it('has no implicit HEAD route (a HEAD would bypass the audit of a GET)', async () => {
    const response = await app.inject({ method: 'HEAD', url: '/api/health' });
    expect(response.statusCode).toBe(404);
  });
});

describe('GET /api/openapi.json', () => {
  it('serves an OpenAPI 3.x document listing /api/health', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = JSON.parse(response.body) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, unknown>;
    };
    expect(document.openapi.startsWith('3.')).toBe(true);
    expect(document.info.title).toBe('Rempart API');
    expect(document.paths['/api/health']).toBeDefined();
  });
});

describe('errors', () => {
  it('answers an unknown route with 404 problem+json not_found', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expectProblem(response, 404, 'not_found');
  });

  it('refuses a text/plain body with 415 unsupported_media_type', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ email: 'a@b.fr' }),
    });
    expectProblem(response, 415, 'unsupported_media_type');
  });

  it('accepts a valid JSON body', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { email: 'a@b.fr' } });
    expect(response.statusCode).toBe(200);
  });

  it.each([
    ['an unknown property', { email: 'a@b.fr', nir: NIR }, 'nir', NIR],
    ['a value too long', { email: EMAIL }, 'email', EMAIL],
    ['a value of the wrong type', { email: 'a@b.fr', age: NIR }, 'age', NIR],
    ['a missing property', { age: 1957 }, 'email', '1957'],
  ])('names the field and does not echo the value for %s', async (_case, payload, field, value) => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/echo', payload });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.field).toBe(field);
    expect(body.detail).toContain(field);
    const { requestId: _requestId, ...rest } = body;
    expect(JSON.stringify(rest)).not.toContain(value);
  });

  it('answers malformed JSON with 400 validation_failed on field body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: `{"email": "${NIR}"`,
    });
    const body = expectProblem(response, 400, 'validation_failed');
    expect(body.field).toBe('body');
    expect(response.body).not.toContain(NIR);
  });

  it('answers an unknown error with 500 internal and none of its message', async () => {
    logs = '';
    const response = await app.inject({ method: 'GET', url: '/api/v1/boom' });
    const body = expectProblem(response, 500, 'internal');
    expect(response.body).not.toContain(NIR);
    expect(response.body).not.toContain('lookup failed');
    expect(body.detail).toEqual(expect.any(String));
    // Logged at error level with the request id and the error's name, not its message.
    const failure = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'request failed');
    expect(failure).toMatchObject({ level: 50, requestId: body.requestId, error: { name: 'Error' } });
    expect(logs).not.toContain(NIR);
    expect(logs).not.toContain('lookup failed');
  });
});

describe('security headers', () => {
  it.each(['/api/health', '/api/v1/nothing-here'])('are set on %s', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(response.headers['permissions-policy']).toBe('camera=(), microphone=(), geolocation=()');
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('cross-site requests to the API', () => {
  it.each([
    ['cross-site', 'GET', '/api/v1/echo'],
    ['same-site', 'GET', '/api/v1/echo'],
    ['cross-site', 'POST', '/api/v1/echo'],
    // Refused before routing: a 404 would otherwise tell the other site which paths exist.
    ['cross-site', 'GET', '/api/v1/nothing-here'],
    ['cross-site', 'GET', '/api/health/'],
    ['cross-site', 'GET', '/%61pi/v1/echo'],
  ])('refuses Sec-Fetch-Site: %s on %s %s with 403 cross_site_refused', async (site, method, url) => {
    const response = await app.inject({
      method: method as 'GET' | 'POST',
      url,
      headers: { 'sec-fetch-site': site },
      ...(method === 'POST' ? { payload: { email: 'a@b.fr' } } : {}),
    });
    expectProblem(response, 403, 'cross_site_refused');
    expect(response.headers['content-security-policy']).toBeDefined();
  });

  it.each([
    ['same-origin', '/api/v1/echo'],
    ['none', '/api/v1/echo'],
    [undefined, '/api/v1/echo'],
    ['cross-site', '/api/health'],
    ['cross-site', '/api/openapi.json'],
  ])('allows Sec-Fetch-Site: %s on %s', async (site, url) => {
    const response = await app.inject({
      method: 'GET',
      url,
      headers: site === undefined ? {} : { 'sec-fetch-site': site },
    });
    expect(response.statusCode).toBe(200);
  });

  it('leaves pages outside /api alone (a link to the web UI is a normal navigation)', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expectProblem(response, 404, 'not_found');
  });
});

describe('logs', () => {
  it('carry no query string, path data, header or body', async () => {
    logs = '';
    await app.inject({
      method: 'GET',
      url: `/api/health?nir=${NIR}`,
      headers: { cookie: `session=${EMAIL}`, 'user-agent': NIR },
    });
    await app.inject({ method: 'GET', url: `/api/v1/persons/${NIR}?email=${EMAIL}` });
    await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { email: EMAIL, nir: NIR } });
    expect(logs).not.toBe('');
    expect(logs).not.toContain(NIR);
    expect(logs).not.toContain(EMAIL);
    const lines = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'incoming request',
        req: { method: 'GET', url: '/api/health', requestId: expect.any(String) },
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request completed',
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    );
  });
});
