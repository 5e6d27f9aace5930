/**
 * FranceConnect v2 login to the portal (docs/FRANCECONNECT.md): nothing of FranceConnect's answer is
 * taken on trust. A userinfo answer unsigned, tampered, signed by another key or with alg none;
 * tokens signed with another algorithm than the registered one; an answer for another flow,
 * replayed, with another nonce, or after the flow expired: each is refused with no session, and
 * recorded. The match itself is in franceconnect.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { FRANCECONNECT_FLOW_COOKIE } from '../src/http/routes/franceconnect.routes.ts';
import { engine } from './helpers/db.ts';
import {
  CALLBACK,
  cookieOf,
  type FranceConnectWorld,
  franceconnectWorld,
  PIVOT_SCOPES,
} from './helpers/franceconnect.ts';
import { startOidcProvider } from './helpers/oidc-provider.ts';

const system = systemCtx('test').actor;

describe(`FranceConnect's answer checked on ${engine}`, () => {
  let w: FranceConnectWorld;
  beforeAll(async () => {
    w = await franceconnectWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it.each([
    ['unsigned (plain JSON)', 'unsigned', /^userinfo: OAUTH_JWT_USERINFO_EXPECTED/],
    ['tampered after signing', 'tampered', /^userinfo: .*\(signature\)$/],
    ['signed by a key the provider never published', 'foreign-key', /^userinfo: .*\(signature\)$/],
    ['"signed" with alg none', 'alg-none', /^userinfo: /],
  ] as const)('refuses a userinfo answer %s', async (_what, mode, reason) => {
    w.idp.userinfo = mode;
    try {
      const { result } = await w.loginAs('fc-married');
      expect(result).toBe('failed');
      expect((await w.lastEvent()).details.reason).toMatch(reason);
    } finally {
      w.idp.userinfo = 'signed';
    }
    expect((await w.loginAs('fc-married')).personId).toBe(w.ids.married);
  });

  it('refuses tokens signed with another algorithm than the one registered (RS256 for ES256)', async () => {
    const rs = await startOidcProvider({
      redirectUri: CALLBACK,
      signingAlg: 'RS256',
      acr: 'eidas1',
      claims: { scopes: PIVOT_SCOPES, of: (sub) => ({ ...w.identities.get(sub) }) },
    });
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      ...rs.franceconnectEnv,
      REMPART_FRANCECONNECT_SIGNING_ALG: 'ES256',
    });
    const sessions: string[] = [];
    const other = await w.appWith(config, sessions);
    try {
      const started = await other.inject({
        method: 'GET',
        url: '/api/v1/portal/franceconnect/login',
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      const back = await rs.login(String(started.headers.location), { sub: 'fc-married' });
      const done = await other.inject({
        method: 'GET',
        url: `${back.pathname}${back.search}`,
        headers: {
          cookie: `${FRANCECONNECT_FLOW_COOKIE}=${cookieOf(started, FRANCECONNECT_FLOW_COOKIE)!.value}`,
        },
      });
      expect(done.headers.location).toBe('/mon-espace/connexion?franceconnect=failed');
      expect(sessions).toEqual([]);
      expect((await w.lastEvent()).details.reason).toMatch(/^code exchange: /);
    } finally {
      await other.close();
      await rs.close();
    }
  });

  it('refuses an answer that belongs to another flow (state mismatch) or to no flow', async () => {
    const mine = await w.start();
    const theirs = await w.start();
    const back = await w.idp.login(theirs.url, { sub: 'fc-married' });
    expect((await w.callback(back, mine.flow)).result).toBe('failed');
    expect((await w.lastEvent()).details.reason).toMatch(/state/);
    expect((await w.callback(back, undefined)).result).toBe('failed');
  });

  it('takes an answer once: the replayed callback, or its code in a new flow, opens nothing', async () => {
    const { url, flow } = await w.start();
    const back = await w.idp.login(url, { sub: 'fc-married' });
    expect((await w.callback(back, flow)).personId).toBe(w.ids.married);
    expect((await w.callback(back, flow)).result).toBe('failed');
    expect((await w.lastEvent()).details.reason).toBe('unknown, expired or used flow');
    const again = await w.start();
    expect((await w.callback(back, again.flow)).result).toBe('failed');
  });

  it('refuses an ID token with another nonce', async () => {
    const { url, flow } = await w.start();
    const altered = new URL(url);
    altered.searchParams.set('nonce', 'a-nonce-this-flow-never-made-0123456789abcdef');
    expect((await w.callback(await w.idp.login(altered.href, { sub: 'fc-married' }), flow)).result).toBe(
      'failed',
    );
    expect((await w.lastEvent()).details.reason).toMatch(/nonce/);
  });

  it('refuses an expired flow', async () => {
    const { url, flow } = await w.start();
    const back = await w.idp.login(url, { sub: 'fc-married' });
    await w.t.db.tx(system, (tx) =>
      tx.query(
        "UPDATE franceconnect_flows SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
      ),
    );
    expect((await w.callback(back, flow)).result).toBe('failed');
    expect((await w.lastEvent()).details.reason).toBe('unknown, expired or used flow');
  });

  it('reports a cancellation at FranceConnect as cancelled', async () => {
    const { url, flow } = await w.start();
    const back = await w.idp.login(url, { sub: 'fc-married', cancel: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect((await w.callback(back, flow)).result).toBe('cancelled');
  });
});
