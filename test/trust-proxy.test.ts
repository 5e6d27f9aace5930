/**
 * TRUST_PROXY: the X-Forwarded-For client address is what the server records (sessions, throttles,
 * the guard's address signals) only when the request comes from a listed proxy; by default no one
 * is trusted and the header is ignored, so a client cannot choose the address it is seen from.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { buildApp } from '../src/http/app.ts';
import { createAccount } from '../src/identity/accounts.ts';
import { SESSION_COOKIE } from '../src/identity/sessions.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';
import { PASSWORD, TestClock, totpAt } from './helpers/staff.ts';

const FORWARDED = '198.51.100.23';

describe(`TRUST_PROXY (${engine})`, () => {
  let t: TestDb;
  let keys: TestKeys;
  let organisationId: string;
  const clock = new TestClock();
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    [t, keys] = await Promise.all([freshDb(), freshKeys()]);
    organisationId = randomUUID();
    await t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query(`INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'cap_emploi', $2, $2)`, [
        organisationId,
        `ORG-${organisationId.slice(0, 8)}`,
      ]),
    );
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await t.close();
    await keys.cleanup();
  });

  /** An app with TRUST_PROXY = `trust`, and the session list of an account that logged in through it. */
  async function sessionsSeenThrough(
    trust: string | undefined,
    peer: string,
  ): Promise<{ sourceAddress: string | null }[]> {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      ...(trust === undefined ? {} : { TRUST_PROXY: trust }),
    });
    const app = await buildApp(config, {
      db: t.db,
      kms: keys.kms,
      registry: keys.registry,
      clock,
    });
    apps.push(app);
    await app.ready();
    const login = `proxy.${randomUUID().slice(0, 8)}`;
    await t.db.tx(systemCtx('test').actor, (tx) =>
      createAccount(
        tx,
        {
          organisationId,
          login,
          displayName: 'Proxy Agent',
          email: `${login}@partner.example`,
          role: 'partner_counselor',
          password: PASSWORD,
        },
        clock.now(),
        null,
      ),
    );
    let cookie: string | undefined;
    let csrf: string | undefined;
    const send = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => {
      const response = await app.inject({
        method,
        url,
        remoteAddress: peer,
        headers: {
          'x-forwarded-for': FORWARDED,
          ...(cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}),
          ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        },
        ...(payload ? { payload } : {}),
      });
      const set = response.cookies.find((c) => c.name === SESSION_COOKIE);
      if (set) cookie = set.value;
      const json = response.json();
      if (typeof json.csrfToken === 'string') csrf = json.csrfToken;
      return { status: response.statusCode, json };
    };
    expect((await send('POST', '/api/v1/auth/login', { login, password: PASSWORD })).status).toBe(200);
    const started = await send('POST', '/api/v1/me/factors/totp', {});
    expect(started.status).toBe(200);
    const confirmed = await send('POST', '/api/v1/me/factors/totp/confirm', {
      factorId: started.json.factorId,
      code: await totpAt(started.json.secret, clock.now()),
    });
    expect(confirmed.status).toBe(200);
    const sessions = await send('GET', '/api/v1/me/sessions');
    expect(sessions.status).toBe(200);
    return sessions.json.sessions;
  }

  it('believes X-Forwarded-For from a listed proxy', async () => {
    const sessions = await sessionsSeenThrough('127.0.0.1', '127.0.0.1');
    expect(sessions.map((s) => s.sourceAddress)).toEqual([FORWARDED]);
  });

  it('believes it from a proxy inside a listed CIDR range', async () => {
    const sessions = await sessionsSeenThrough('10.0.0.0/8, 192.0.2.1', '10.1.2.3');
    expect(sessions.map((s) => s.sourceAddress)).toEqual([FORWARDED]);
  });

  it('ignores it by default: the peer address is recorded', async () => {
    const sessions = await sessionsSeenThrough(undefined, '127.0.0.1');
    expect(sessions.map((s) => s.sourceAddress)).toEqual(['127.0.0.1']);
  });

  it('ignores it from a peer that is not a listed proxy', async () => {
    const sessions = await sessionsSeenThrough('10.0.0.1', '203.0.113.9');
    expect(sessions.map((s) => s.sourceAddress)).toEqual(['203.0.113.9']);
  });
});
