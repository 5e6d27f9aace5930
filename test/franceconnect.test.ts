/**
 * FranceConnect v2 login to the person's portal (docs/FRANCECONNECT.md) against a local stand-in
 * (oidc-provider, ES256 as FranceConnect recommends; test/helpers/franceconnect.ts): the request
 * (PKCE, state, nonce, acr_values eidas1, the pivot scopes), the acr checked whatever the provider
 * answers, and the pivot identity matched to exactly one person on file or refused, with the same
 * answer for no person and for several. The routes get a recording `openSession` (the portal's own
 * session is the portal's code) and run in the real app (its cross-site check, cookies, errors).
 * The protocol's refusals (signatures, state, nonce, replay) are in franceconnect-protocol.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { engine } from './helpers/db.ts';
import { CALLBACK, type FranceConnectWorld, franceconnectWorld } from './helpers/franceconnect.ts';

const system = systemCtx('test').actor;

describe(`FranceConnect login to the portal on ${engine}`, () => {
  let w: FranceConnectWorld;
  beforeAll(async () => {
    w = await franceconnectWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('is off without REMPART_FRANCECONNECT_*: every route answers 404 franceconnect_disabled', async () => {
    const sessions: string[] = [];
    const off = await w.appWith(loadConfig({ LOG_LEVEL: 'silent' }), sessions);
    try {
      expect((await off.inject({ method: 'GET', url: '/api/v1/portal/franceconnect' })).json()).toEqual({
        enabled: false,
      });
      for (const url of [
        '/api/v1/portal/franceconnect/login',
        '/api/v1/portal/franceconnect/callback?code=x&state=y',
      ]) {
        const response = await off.inject({ method: 'GET', url });
        expect(response.statusCode).toBe(404);
        expect(response.json().code).toBe('franceconnect_disabled');
      }
    } finally {
      await off.close();
    }
    expect(sessions).toEqual([]);
    expect((await w.app.inject({ method: 'GET', url: '/api/v1/portal/franceconnect' })).json()).toEqual({
      enabled: true,
    });
  });

  it('sends the browser to FranceConnect with PKCE S256, state, nonce, acr_values eidas1 and the pivot scopes', async () => {
    const { url } = await w.start();
    const request = new URL(url);
    expect(request.origin).toBe(w.idp.issuer);
    const q = request.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(w.idp.clientId);
    expect(q.get('redirect_uri')).toBe(CALLBACK);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(q.get('acr_values')).toBe('eidas1');
    expect(q.get('scope')?.split(' ').sort()).toEqual(
      ['openid', 'given_name', 'family_name', 'birthdate', 'birthplace', 'birthcountry', 'gender'].sort(),
    );
  });

  it('refuses to start from another site, but takes FranceConnect’s cross-site redirect back', async () => {
    const response = await w.app.inject({
      method: 'GET',
      url: '/api/v1/portal/franceconnect/login',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('cross_site_refused');
    expect((await w.callback(new URL(`${CALLBACK}?code=abc&state=def`), undefined)).result).toBe('failed');
    expect((await w.lastEvent()).details.reason).toBe('no flow cookie');
  });

  it('opens the session of the one person with this pivot identity (birth name, all given names)', async () => {
    const { result, personId } = await w.loginAs('fc-married');
    expect({ result, personId }).toEqual({ result: 'ok', personId: w.ids.married });
    expect(await w.lastEvent()).toEqual({
      action: 'portal.franceconnect_ok',
      details: { issuer: w.idp.issuer, acr: 'eidas1' },
    });
  });

  it.each([
    ['born abroad, with more given names than the registry holds', 'fc-abroad', 'abroad'],
    ['archived (the right of access outlives the registration), born in Corsica', 'fc-archived', 'archived'],
  ] as const)('opens the session of a person %s', async (_what, sub, which) => {
    const { result, personId } = await w.loginAs(sub);
    expect({ result, personId }).toEqual({ result: 'ok', personId: w.ids[which] });
  });

  it('refuses alike an identity no one has, one the index finds but the record denies, and one two records share', async () => {
    const outcomes = [];
    for (const sub of ['fc-unknown', 'fc-lookalike', 'fc-other-given', 'fc-twin']) {
      const { result, response } = await w.loginAs(sub);
      outcomes.push({
        result,
        location: response.headers.location,
        cookies: response.cookies.map((c) => `${c.name}=${c.value}`),
        event: await w.lastEvent(),
      });
    }
    // One answer for all four: same redirect, same cookies (the flow cookie cleared), same event.
    for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
    expect(outcomes[0]).toMatchObject({
      result: 'refused',
      event: {
        action: 'portal.franceconnect_failed',
        details: { reason: 'no single person on file', issuer: w.idp.issuer, acr: 'eidas1' },
      },
    });
  });

  it('refuses an acr below eidas1 for a person on file, before any match (level_refused)', async () => {
    const { result } = await w.loginAs('fc-married', 'eidas0');
    expect(result).toBe('level_refused');
    expect((await w.lastEvent()).details).toEqual({ reason: 'acr not accepted', acr: 'eidas0' });
    expect((await w.loginAs('fc-married', 'eidas2')).personId).toBe(w.ids.married);
  });

  it('refuses an answer without the whole pivot identity, naming the claim only', async () => {
    const { result } = await w.loginAs('fc-incomplete');
    expect(result).toBe('failed');
    expect((await w.lastEvent()).details.reason).toBe('pivot identity: birthcountry');
  });

  it('keeps no personal data: flows hold none, events none', async () => {
    const flows = await w.t.db.tx(system, (tx) => tx.query('SELECT * FROM franceconnect_flows'));
    expect(flows.length).toBeGreaterThan(0);
    expect(Object.keys(flows[0]!).sort()).toEqual(
      ['code_verifier', 'created_at', 'expires_at', 'flow_hash', 'nonce', 'state', 'used_at'].sort(),
    );
    const events = await w.t.db.tx(system, (tx) =>
      tx.query<{ details: unknown }>(
        "SELECT details FROM security_events WHERE action LIKE 'portal.franceconnect%'",
      ),
    );
    const text = JSON.stringify(events);
    for (const word of [
      'Dupont',
      'DUPONT',
      'Marie',
      '1985-04-12',
      '69123',
      'Durand',
      w.ids.married,
      w.ids.twinA,
    ])
      expect(text).not.toContain(word);
  });
});
