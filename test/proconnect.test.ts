/**
 * ProConnect (docs/SECURITY.md, "Federation") against a real identity provider started here
 * (oidc-provider, test/helpers/oidc-provider.ts): multi-factor logins only (acr checked by Rempart,
 * whatever the provider answers), a link made only from the owner's fresh second factor, no account
 * ever created, state / PKCE / nonce / one use / signed userinfo all checked, every outcome recorded.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { buildApp } from '../src/http/app.ts';
import type { Account } from '../src/identity/accounts.ts';
import { SESSION_COOKIE } from '../src/identity/sessions.ts';
import { engine } from './helpers/db.ts';
import { type LocalOidcProvider, startOidcProvider } from './helpers/oidc-provider.ts';
import { enrolled, StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

const PUBLIC_URL = loadConfig({ LOG_LEVEL: 'silent' }).publicUrl;
const CALLBACK = `${PUBLIC_URL}/api/v1/auth/proconnect/callback`;
const FLOW_COOKIE = 'rempart_proconnect';
const CSRF_HANDOFF_COOKIE = 'rempart_csrf_handoff';
const system = systemCtx('test').actor;

describe(`ProConnect on ${engine}`, () => {
  let idp: LocalOidcProvider;
  let world: StaffWorld;
  beforeAll(async () => {
    idp = await startOidcProvider({ redirectUri: CALLBACK });
    world = await staffWorld({ env: idp.env });
  });
  afterAll(async () => {
    await world?.close();
    await idp?.close();
  });

  const cookieOf = (response: LightMyRequestResponse, name: string) =>
    response.cookies.find((c) => c.name === name);

  /** The console's "Se connecter avec ProConnect" button: a same-origin navigation to the start route. */
  const startLogin = async (): Promise<{ url: string; flow: string }> => {
    const response = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/proconnect/login',
      headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
    });
    expect(response.statusCode).toBe(302);
    const flow = cookieOf(response, FLOW_COOKIE);
    expect(flow).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/api/v1/auth/proconnect/callback',
    });
    return { url: String(response.headers.location), flow: flow!.value };
  };

  /** The identity provider's redirect back: a cross-site top-level navigation carrying the flow cookie. */
  const callback = async (
    at: URL,
    flow: string | undefined,
  ): Promise<{ result: string | null; session: string | undefined; response: LightMyRequestResponse }> => {
    const response = await world.app.inject({
      method: 'GET',
      url: `${at.pathname}${at.search}`,
      headers: {
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        ...(flow ? { cookie: `${FLOW_COOKIE}=${flow}` } : {}),
      },
    });
    expect(response.statusCode).toBe(302);
    const location = new URL(String(response.headers.location), PUBLIC_URL);
    expect(location.pathname).toBe('/connexion/proconnect');
    expect([...location.searchParams.keys()]).toEqual(['result']); // nothing personal in the URL
    const session = cookieOf(response, SESSION_COOKIE)?.value;
    return { result: location.searchParams.get('result'), session: session || undefined, response };
  };

  const loginAs = async (sub: string, acr?: string) => {
    const { url, flow } = await startLogin();
    return callback(await idp.login(url, { sub, ...(acr ? { acr } : {}) }), flow);
  };

  const events = (action: string) =>
    world.t.db.tx(system, (tx) =>
      tx.query<{ target_account_id: string | null; details: Record<string, unknown> }>(
        'SELECT target_account_id, details FROM security_events WHERE action = $1 ORDER BY id',
        [action],
      ),
    );
  const accountCount = async () =>
    (
      await world.t.db.tx(system, (tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts'))
    )[0]!.n;

  /** Links `sub` to a new account through the owner's fresh mfa session; returns the account. */
  const linkedAccount = async (sub: string): Promise<{ account: Account; client: StaffClient }> => {
    const account = await world.account();
    const { client } = await enrolled(world, account);
    const started = await client.request('POST', '/api/v1/auth/proconnect/link');
    expect(started.statusCode).toBe(200);
    const flow = cookieOf(started, FLOW_COOKIE)!.value;
    const back = await idp.login(started.json().authorizationUrl, { sub });
    expect((await callback(back, flow)).result).toBe('linked');
    return { account, client };
  };

  /** Who the session cookie belongs to, and its assurance. */
  const me = async (session: string) => {
    const response = await world.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: `${SESSION_COOKIE}=${session}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(response.statusCode).toBe(200);
    return response.json() as { account: { id: string }; assurance: string };
  };

  it('says whether it is on, and answers proconnect_disabled where it is not configured', async () => {
    const status = await world.app.inject({ method: 'GET', url: '/api/v1/auth/proconnect' });
    expect(status.json()).toEqual({ enabled: true });
    const document = (await world.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const operations = Object.entries(
      document.paths as Record<string, Record<string, { operationId?: string }>>,
    )
      .filter(([path]) => path.startsWith('/api/v1/auth/proconnect'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([m, op]) => `${m} ${path} ${op.operationId}`),
      );
    expect(operations.sort()).toEqual([
      'get /api/v1/auth/proconnect getProConnectStatus',
      'get /api/v1/auth/proconnect/callback finishProConnectLogin',
      'get /api/v1/auth/proconnect/link getProConnectLink',
      'get /api/v1/auth/proconnect/login startProConnectLogin',
      'get /api/v1/auth/proconnect/session takeProConnectSession',
      'post /api/v1/auth/proconnect/link startProConnectLink',
      'post /api/v1/auth/proconnect/unlink unlinkProConnect',
    ]);
    const off = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), {
      db: world.t.db,
      kms: world.keys.kms,
      registry: world.keys.registry,
      clock: world.clock,
    });
    try {
      expect((await off.inject({ method: 'GET', url: '/api/v1/auth/proconnect' })).json()).toEqual({
        enabled: false,
      });
      for (const url of [
        '/api/v1/auth/proconnect/login',
        '/api/v1/auth/proconnect/callback?code=x&state=y',
      ]) {
        const response = await off.inject({ method: 'GET', url });
        expect(response.statusCode).toBe(404);
        expect(response.json().code).toBe('proconnect_disabled');
      }
    } finally {
      await off.close();
    }
  });

  it('sends the browser to the provider with PKCE S256, state, nonce and an essential multi-factor acr', async () => {
    const { url } = await startLogin();
    const request = new URL(url);
    expect(request.origin).toBe(idp.issuer);
    const q = request.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(idp.clientId);
    expect(q.get('redirect_uri')).toBe(CALLBACK);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(JSON.parse(q.get('claims')!).id_token.acr).toEqual({
      essential: true,
      values: ['eidas1-mfa', 'eidas2', 'eidas3'],
    });
  });

  it('refuses to start a login from another site, but takes the provider’s cross-site redirect back', async () => {
    const response = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/proconnect/login',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('cross_site_refused');
    // A cross-site request to the callback is answered (not cross_site_refused), and without its flow
    // cookie it does nothing: no session.
    const forged = await callback(new URL(`${CALLBACK}?code=abc&state=def`), undefined);
    expect(forged).toMatchObject({ result: 'failed', session: undefined });
  });

  it('links an identity only from the owner’s fresh second factor', async () => {
    const account = await world.account();
    const anonymous = await new StaffClient(world.app).request('POST', '/api/v1/auth/proconnect/link');
    expect(anonymous.json().code).toBe('unauthenticated');
    const passwordOnly = new StaffClient(world.app);
    await passwordOnly.login(account.login);
    expect((await passwordOnly.request('POST', '/api/v1/auth/proconnect/link')).json().code).toBe(
      'second_factor_required',
    );
    const { client } = await enrolled(world, account);
    expect(
      (await client.request('POST', '/api/v1/auth/proconnect/link', undefined, { csrf: null })).json().code,
    ).toBe('csrf_failed');
    world.clock.advance(6 * 60_000); // the second factor is no longer fresh
    expect((await client.request('POST', '/api/v1/auth/proconnect/link')).json().code).toBe(
      'step_up_required',
    );
    expect(await events('proconnect.linked')).not.toContainEqual(
      expect.objectContaining({ target_account_id: account.id }),
    );
  });

  it('logs a linked identity into its account at mfa with acr eidas1-mfa, and records it', async () => {
    const { account } = await linkedAccount('agent-mfa');
    expect(await events('proconnect.linked')).toContainEqual(
      expect.objectContaining({ target_account_id: account.id }),
    );
    // A new way into the account: its owner is told.
    const notices = await world.t.db.tx(system, (tx) =>
      tx.query<{ kind: string }>('SELECT kind FROM staff_notices WHERE account_id = $1', [account.id]),
    );
    expect(notices.map((n) => n.kind)).toContain('proconnect_linked');
    const { result, session } = await loginAs('agent-mfa', 'eidas1-mfa');
    expect(result).toBe('ok');
    expect(await me(session!)).toMatchObject({ account: { id: account.id }, assurance: 'mfa' });
    expect(await events('login.proconnect_ok')).toContainEqual({
      target_account_id: account.id,
      details: { issuer: idp.issuer, acr: 'eidas1-mfa' },
    });
  });

  it("hands the new session's CSRF token to the console once, through a cookie limited to one route", async () => {
    await linkedAccount('agent-handoff');
    const { result, session, response } = await loginAs('agent-handoff', 'eidas1-mfa');
    expect(result).toBe('ok');
    const handoff = cookieOf(response, CSRF_HANDOFF_COOKIE);
    expect(handoff).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/api/v1/auth/proconnect/session',
    });
    const take = (token: string | undefined, sessionId = session!) =>
      world.app.inject({
        method: 'GET',
        url: '/api/v1/auth/proconnect/session',
        headers: {
          cookie: `${SESSION_COOKIE}=${sessionId}${token ? `; ${CSRF_HANDOFF_COOKIE}=${token}` : ''}`,
          'sec-fetch-site': 'same-origin',
        },
      });
    // Another session's token is not handed over, and neither is a missing one.
    const other = await loginAs('agent-handoff', 'eidas1-mfa');
    expect((await take(cookieOf(other.response, CSRF_HANDOFF_COOKIE)!.value)).statusCode).toBe(404);
    expect((await take(undefined)).statusCode).toBe(404);
    const taken = await take(handoff!.value);
    expect(taken.statusCode).toBe(200);
    expect(cookieOf(taken, CSRF_HANDOFF_COOKIE)?.value).toBe('');
    // The token is the session's: it authorises a state-changing request (here, the logout).
    const logout = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { cookie: `${SESSION_COOKIE}=${session}`, 'x-csrf-token': taken.json().csrfToken },
    });
    expect(logout.statusCode).toBeLessThan(300);
  });

  it.each(['eidas2', 'eidas3'])('accepts acr %s', async (acr) => {
    const { account } = await linkedAccount(`agent-${acr}`);
    const { result, session } = await loginAs(`agent-${acr}`, acr);
    expect(result).toBe('ok');
    expect((await me(session!)).account.id).toBe(account.id);
  });

  it('refuses acr eidas1 (a password alone) even when the provider grants it: no session, recorded', async () => {
    const { account } = await linkedAccount('agent-weak');
    const { result, session } = await loginAs('agent-weak', 'eidas1');
    expect(result).toBe('mfa_required');
    expect(session).toBeUndefined();
    expect(await events('login.proconnect_failed')).toContainEqual({
      target_account_id: null,
      details: { reason: 'acr not accepted', acr: 'eidas1' },
    });
    expect(account.id).toBeDefined();
  });

  it('gives an unlinked identity no session and creates no account', async () => {
    const before = await accountCount();
    const { result, session } = await loginAs('nobody-linked', 'eidas2');
    expect(result).toBe('not_linked');
    expect(session).toBeUndefined();
    expect(await accountCount()).toBe(before);
    expect(await events('login.proconnect_failed')).toContainEqual({
      target_account_id: null,
      details: { reason: 'identity not linked', issuer: idp.issuer, acr: 'eidas2' },
    });
  });

  it('keeps a suspended account out', async () => {
    const { account } = await linkedAccount('agent-suspended');
    await world.t.db.tx(system, (tx) =>
      tx.query("UPDATE accounts SET status = 'suspended' WHERE id = $1", [account.id]),
    );
    const { result, session } = await loginAs('agent-suspended');
    expect(result).toBe('refused');
    expect(session).toBeUndefined();
    expect(await events('login.proconnect_failed')).toContainEqual(
      expect.objectContaining({
        target_account_id: account.id,
        details: expect.objectContaining({ reason: 'account suspended' }),
      }),
    );
  });

  it('links only with a multi-factor acr, and only while the session that asked is live', async () => {
    const account = await world.account();
    const { client } = await enrolled(world, account);
    const weak = await client.request('POST', '/api/v1/auth/proconnect/link');
    const weakBack = await idp.login(weak.json().authorizationUrl, { sub: 'agent-link-weak', acr: 'eidas1' });
    expect((await callback(weakBack, cookieOf(weak, FLOW_COOKIE)!.value)).result).toBe('mfa_required');
    const started = await client.request('POST', '/api/v1/auth/proconnect/link');
    expect((await client.request('POST', '/api/v1/auth/logout')).statusCode).toBe(204);
    const back = await idp.login(started.json().authorizationUrl, { sub: 'agent-link-weak' });
    expect((await callback(back, cookieOf(started, FLOW_COOKIE)!.value)).result).toBe('refused');
    expect(await events('proconnect.link_failed')).toContainEqual(
      expect.objectContaining({
        target_account_id: account.id,
        details: expect.objectContaining({ reason: 'session ended' }),
      }),
    );
    expect((await loginAs('agent-link-weak')).result).toBe('not_linked');
  });

  it('links an identity to one account only', async () => {
    await linkedAccount('agent-once');
    const other = await world.account();
    const { client } = await enrolled(world, other);
    const started = await client.request('POST', '/api/v1/auth/proconnect/link');
    const back = await idp.login(started.json().authorizationUrl, { sub: 'agent-once' });
    expect((await callback(back, cookieOf(started, FLOW_COOKIE)!.value)).result).toBe('already_linked');
  });

  it('refuses an answer that belongs to another flow (state mismatch) or to no flow', async () => {
    await linkedAccount('agent-state');
    const mine = await startLogin();
    const theirs = await startLogin();
    const back = await idp.login(theirs.url, { sub: 'agent-state' });
    expect(await callback(back, mine.flow)).toMatchObject({ result: 'failed', session: undefined });
    expect(await callback(back, undefined)).toMatchObject({ result: 'failed', session: undefined });
    const reasons = (await events('login.proconnect_failed')).map((e) => e.details.reason);
    expect(reasons.some((r) => String(r).includes('state'))).toBe(true);
    expect(reasons).toContain('no flow cookie');
  });

  it('takes an answer once: the replayed callback gets no second session', async () => {
    await linkedAccount('agent-replay');
    const { url, flow } = await startLogin();
    const back = await idp.login(url, { sub: 'agent-replay' });
    expect((await callback(back, flow)).result).toBe('ok');
    expect(await callback(back, flow)).toMatchObject({ result: 'failed', session: undefined });
    // The code alone, in a new flow of the same browser, is refused too (its state is not this flow's).
    const again = await startLogin();
    expect(await callback(back, again.flow)).toMatchObject({ result: 'failed', session: undefined });
  });

  it('refuses an ID token with another nonce', async () => {
    await linkedAccount('agent-nonce');
    const { url, flow } = await startLogin();
    const altered = new URL(url);
    altered.searchParams.set('nonce', 'a-nonce-this-flow-never-made-0123456789abcdef');
    const { result, session } = await callback(await idp.login(altered.href, { sub: 'agent-nonce' }), flow);
    expect({ result, session }).toEqual({ result: 'failed', session: undefined });
    expect((await events('login.proconnect_failed')).at(-1)!.details.reason).toMatch(/nonce/);
  });

  it.each([
    ['unsigned', /^userinfo: OAUTH_JWT_USERINFO_EXPECTED/],
    ['tampered', /^userinfo: .*\(signature\)$/],
  ] as const)('refuses a %s userinfo answer', async (mode, reason) => {
    await linkedAccount(`agent-userinfo-${mode}`);
    idp.userinfo = mode;
    try {
      const { result, session } = await loginAs(`agent-userinfo-${mode}`);
      expect({ result, session }).toEqual({ result: 'failed', session: undefined });
      expect((await events('login.proconnect_failed')).at(-1)!.details.reason).toMatch(reason);
    } finally {
      idp.userinfo = 'signed';
    }
    expect((await loginAs(`agent-userinfo-${mode}`)).result).toBe('ok');
  });

  it('reports a cancellation at the provider as cancelled', async () => {
    const { url, flow } = await startLogin();
    const back = await idp.login(url, { sub: 'agent-cancel', cancel: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(await callback(back, flow)).toMatchObject({ result: 'cancelled', session: undefined });
  });

  it('shows and removes the link (fresh second factor), after which the identity logs in no more', async () => {
    const { account, client } = await linkedAccount('agent-unlink');
    const shown = await client.request('GET', '/api/v1/auth/proconnect/link');
    expect(shown.json()).toMatchObject({ linked: true, issuer: idp.issuer });
    const removed = await client.request('POST', '/api/v1/auth/proconnect/unlink');
    expect(removed.json()).toEqual({ removed: 1 });
    expect((await client.request('GET', '/api/v1/auth/proconnect/link')).json()).toEqual({ linked: false });
    expect(await events('proconnect.unlinked')).toContainEqual(
      expect.objectContaining({ target_account_id: account.id }),
    );
    expect((await loginAs('agent-unlink')).result).toBe('not_linked');
  });
});
