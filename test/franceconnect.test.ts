/**
 * FranceConnect v2 login to the person's portal (docs/PORTAL.md, "FranceConnect") against a real
 * identity provider started here (oidc-provider, test/helpers/oidc-provider.ts, ES256 as
 * FranceConnect recommends): PKCE, state, nonce, acr_values eidas1 asked and the acr checked
 * whatever the provider answers, userinfo accepted only signed by the provider's published key, the
 * pivot identity matched to exactly one person on file or refused, with the same answer for no
 * person and for several. The routes get a recording `openSession` (the portal's own session comes
 * from the portal's code); they run inside the real app (its cross-site check, cookies, errors).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { buildApp } from '../src/http/app.ts';
import { FRANCECONNECT_FLOW_COOKIE, franceconnectRoutes } from '../src/http/routes/franceconnect.routes.ts';
import type { Identity, PersonEntry } from '../src/registry/person.ts';
import { insertPersonBatch, sealPersons } from '../src/registry/persons.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';
import { type LocalOidcProvider, startOidcProvider } from './helpers/oidc-provider.ts';

const PUBLIC_URL = loadConfig({ LOG_LEVEL: 'silent' }).publicUrl;
const CALLBACK = `${PUBLIC_URL}/api/v1/portal/franceconnect/callback`;
const system = systemCtx('test').actor;

/** FranceConnect's pivot identity scopes: one claim each. */
const PIVOT_SCOPES = {
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
  gender: ['gender'],
};

type Pivot = {
  family_name: string;
  given_name: string;
  birthdate: string;
  gender: 'male' | 'female';
  birthplace: string;
  birthcountry: string;
};

let nirCounter = 0;
function person(id: string, agency: string, identity: Partial<Identity>): PersonEntry {
  nirCounter++;
  return {
    id,
    status: 'registered',
    agencyOrganisationId: agency,
    registrationPeriods: [],
    caseloads: [],
    identity: {
      agencyId: `${String(1_000_000 + nirCounter)}A`,
      nir: `1850475${String(100_000 + nirCounter)}00`,
      lastName: 'X',
      birthName: null,
      firstNames: 'X',
      sex: 'M',
      birthDate: '1980-01-01',
      birthPlace: { communeCode: '75056', commune: 'Paris', department: '75' },
      email: null,
      phone: null,
      address: null,
      ...identity,
    },
  };
}

describe(`FranceConnect login to the portal on ${engine}`, () => {
  let idp: LocalOidcProvider;
  let t: TestDb;
  let keys: TestKeys;
  let app: FastifyInstance;
  /** The person ids the routes asked the portal to open a session for, in order. */
  const opened: string[] = [];
  const identities = new Map<string, Pivot>();
  const ids = {
    married: randomUUID(),
    abroad: randomUUID(),
    twinA: randomUUID(),
    twinB: randomUUID(),
    archived: randomUUID(),
  };

  beforeAll(async () => {
    idp = await startOidcProvider({
      redirectUri: CALLBACK,
      signingAlg: 'ES256',
      acr: 'eidas1',
      acrLevels: ['eidas0', 'eidas1', 'eidas2', 'eidas3'],
      claims: { scopes: PIVOT_SCOPES, of: (sub) => ({ ...identities.get(sub) }) },
      tamper: { birthdate: '1961-06-30' },
    });
    [t, keys] = await Promise.all([freshDb(), freshKeys()]);
    const agency = randomUUID();
    await t.db.tx(system, async (tx) => {
      await tx.query(
        "INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', 'AG-FC', 'Agence')",
        [agency],
      );
      const persons = [
        // Married: known by her usage name, matched on her birth name; the agency holds both given names.
        person(ids.married, agency, {
          lastName: 'Martin',
          birthName: 'Dupont',
          firstNames: 'Marie-Claire, Louise',
          sex: 'F',
          birthDate: '1985-04-12',
          birthPlace: { communeCode: '69123', commune: 'Lyon', department: '69' },
        }),
        // Born abroad; the agency holds only the first given name.
        person(ids.abroad, agency, {
          lastName: 'Nguyễn',
          firstNames: 'Thi',
          sex: 'F',
          birthDate: '1992-11-03',
          birthPlace: { countryCode: '99243', country: 'Viêt Nam' },
        }),
        // Two records with one pivot identity (a duplicate in the registry).
        ...[ids.twinA, ids.twinB].map((id) =>
          person(id, agency, {
            lastName: 'Durand',
            firstNames: 'Paul',
            birthDate: '1990-01-01',
            birthPlace: { communeCode: '33063', commune: 'Bordeaux', department: '33' },
          }),
        ),
      ];
      persons.push({
        ...person(ids.archived, agency, {
          lastName: 'Lefèvre',
          firstNames: 'Jean',
          birthDate: '1950-02-02',
          birthPlace: { communeCode: '2A004', commune: 'Ajaccio', department: '2A' },
        }),
        status: 'archived',
      });
      await insertPersonBatch(
        tx,
        keys.registry.kms,
        sealPersons(keys.registry.blindIndexKeyId, keys.registry.blindIndex, persons),
      );
    });
    identities.set('fc-married', {
      family_name: 'DUPONT',
      given_name: 'Marie-Claire Louise',
      birthdate: '1985-04-12',
      gender: 'female',
      birthplace: '69123',
      birthcountry: '99100',
    });
    identities.set('fc-abroad', {
      family_name: 'NGUYEN',
      given_name: 'Thi Lan',
      birthdate: '1992-11-03',
      gender: 'female',
      birthplace: '',
      birthcountry: '99243',
    });
    identities.set('fc-twin', {
      family_name: 'Durand',
      given_name: 'Paul',
      birthdate: '1990-01-01',
      gender: 'male',
      birthplace: '33063',
      birthcountry: '99100',
    });
    identities.set('fc-archived', {
      family_name: 'Lefevre',
      given_name: 'Jean',
      birthdate: '1950-02-02',
      gender: 'male',
      birthplace: '2A004',
      birthcountry: '99100',
    });
    // Nobody on file.
    identities.set('fc-unknown', {
      family_name: 'Inconnu',
      given_name: 'Pierre',
      birthdate: '1970-07-07',
      gender: 'male',
      birthplace: '75056',
      birthcountry: '99100',
    });
    // The married person's name, given names and birth date, but another birthplace: the blind
    // index finds her, the decrypted record does not confirm her.
    identities.set('fc-lookalike', { ...identities.get('fc-married')!, birthplace: '75056' });
    // Her identity but a given name she does not have first.
    identities.set('fc-other-given', { ...identities.get('fc-married')!, given_name: 'Louise Marie-Claire' });
    // An answer without the birth country.
    const { birthcountry: _, ...incomplete } = identities.get('fc-married')!;
    identities.set('fc-incomplete', incomplete as Pivot);

    const config = loadConfig({ LOG_LEVEL: 'silent', ...idp.franceconnectEnv });
    app = await buildApp(config, { db: t.db, kms: keys.kms, registry: keys.registry });
    await app.register(franceconnectRoutes, {
      db: t.db,
      config,
      clock: app.clock,
      keys: keys.registry,
      openSession: async (reply, personId) => {
        opened.push(personId);
        reply.setCookie('test_portal_session', personId, { path: '/', httpOnly: true, secure: true });
      },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
    await keys?.cleanup();
    await idp?.close();
  });

  const cookieOf = (response: LightMyRequestResponse, name: string) =>
    response.cookies.find((c) => c.name === name);

  /** The portal's "S'identifier avec FranceConnect" button: a same-origin navigation to the start route. */
  const start = async (): Promise<{ url: string; flow: string }> => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/portal/franceconnect/login',
      headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
    });
    expect(response.statusCode).toBe(302);
    const flow = cookieOf(response, FRANCECONNECT_FLOW_COOKIE);
    expect(flow).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/api/v1/portal/franceconnect/callback',
    });
    return { url: String(response.headers.location), flow: flow!.value };
  };

  /** FranceConnect's redirect back: a cross-site top-level navigation carrying the flow cookie. */
  const callback = async (at: URL, flow: string | undefined) => {
    const before = opened.length;
    const response = await app.inject({
      method: 'GET',
      url: `${at.pathname}${at.search}`,
      headers: {
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'navigate',
        ...(flow ? { cookie: `${FRANCECONNECT_FLOW_COOKIE}=${flow}` } : {}),
      },
    });
    expect(response.statusCode).toBe(302);
    const location = new URL(String(response.headers.location), PUBLIC_URL);
    const newSessions = opened.slice(before);
    if (location.pathname === '/mon-espace') {
      expect(location.search).toBe('');
      expect(newSessions).toHaveLength(1);
      return { result: 'ok', personId: newSessions[0], response };
    }
    expect(location.pathname).toBe('/mon-espace/connexion');
    expect([...location.searchParams.keys()]).toEqual(['franceconnect']); // nothing personal in the URL
    expect(newSessions).toEqual([]);
    expect(cookieOf(response, 'test_portal_session')).toBeUndefined();
    return { result: location.searchParams.get('franceconnect'), personId: undefined, response };
  };

  const loginAs = async (sub: string, acr?: string) => {
    const { url, flow } = await start();
    return callback(await idp.login(url, { sub, ...(acr ? { acr } : {}) }), flow);
  };

  const lastEvent = async () => {
    const [row] = await t.db.tx(system, (tx) =>
      tx.query<{ action: string; details: Record<string, unknown> }>(
        "SELECT action, details FROM security_events WHERE action LIKE 'portal.franceconnect%' ORDER BY id DESC LIMIT 1",
      ),
    );
    return row!;
  };

  it('is off without REMPART_FRANCECONNECT_*: every route answers 404 franceconnect_disabled', async () => {
    const off = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), {
      db: t.db,
      kms: keys.kms,
      registry: keys.registry,
    });
    await off.register(franceconnectRoutes, {
      db: t.db,
      config: { franceconnect: undefined },
      clock: off.clock,
      keys: keys.registry,
      openSession: async () => {
        throw new Error('never');
      },
    });
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
    expect((await app.inject({ method: 'GET', url: '/api/v1/portal/franceconnect' })).json()).toEqual({
      enabled: true,
    });
  });

  it('sends the browser to FranceConnect with PKCE S256, state, nonce, acr_values eidas1 and the pivot scopes', async () => {
    const { url } = await start();
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
    expect(q.get('acr_values')).toBe('eidas1');
    expect(q.get('scope')?.split(' ').sort()).toEqual(
      ['openid', 'given_name', 'family_name', 'birthdate', 'birthplace', 'birthcountry', 'gender'].sort(),
    );
  });

  it('refuses to start from another site, but takes FranceConnect’s cross-site redirect back', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/portal/franceconnect/login',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('cross_site_refused');
    expect((await callback(new URL(`${CALLBACK}?code=abc&state=def`), undefined)).result).toBe('failed');
    expect((await lastEvent()).details.reason).toBe('no flow cookie');
  });

  it('opens the session of the one person with this pivot identity (birth name, all given names)', async () => {
    const { result, personId } = await loginAs('fc-married');
    expect({ result, personId }).toEqual({ result: 'ok', personId: ids.married });
    expect(await lastEvent()).toEqual({
      action: 'portal.franceconnect_ok',
      details: { issuer: idp.issuer, acr: 'eidas1' },
    });
  });

  it.each([
    ['born abroad, with more given names than the registry holds', 'fc-abroad', 'abroad'],
    ['archived (the right of access outlives the registration), born in Corsica', 'fc-archived', 'archived'],
  ] as const)('opens the session of a person %s', async (_what, sub, which) => {
    const { result, personId } = await loginAs(sub);
    expect({ result, personId }).toEqual({ result: 'ok', personId: ids[which] });
  });

  it('refuses alike an identity no one has, one the index finds but the record denies, and one two records share', async () => {
    const outcomes = [];
    for (const sub of ['fc-unknown', 'fc-lookalike', 'fc-other-given', 'fc-twin']) {
      const { result, response } = await loginAs(sub);
      outcomes.push({
        result,
        location: response.headers.location,
        cookies: response.cookies.map((c) => `${c.name}=${c.value}`),
        event: await lastEvent(),
      });
    }
    // One answer for all four: same redirect, same cookies (the flow cookie cleared), same event.
    for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
    expect(outcomes[0]).toMatchObject({
      result: 'refused',
      event: {
        action: 'portal.franceconnect_failed',
        details: { reason: 'no single person on file', issuer: idp.issuer, acr: 'eidas1' },
      },
    });
  });

  it('refuses an acr below eidas1 for a person on file, before any match (level_refused)', async () => {
    const { result } = await loginAs('fc-married', 'eidas0');
    expect(result).toBe('level_refused');
    expect((await lastEvent()).details).toEqual({ reason: 'acr not accepted', acr: 'eidas0' });
    expect((await loginAs('fc-married', 'eidas2')).personId).toBe(ids.married);
  });

  it.each([
    ['unsigned (plain JSON)', 'unsigned', /^userinfo: OAUTH_JWT_USERINFO_EXPECTED/],
    ['tampered after signing', 'tampered', /^userinfo: .*\(signature\)$/],
    ['signed by a key the provider never published', 'foreign-key', /^userinfo: .*\(signature\)$/],
    ['"signed" with alg none', 'alg-none', /^userinfo: /],
  ] as const)('refuses a userinfo answer %s', async (_what, mode, reason) => {
    idp.userinfo = mode;
    try {
      const { result } = await loginAs('fc-married');
      expect(result).toBe('failed');
      expect((await lastEvent()).details.reason).toMatch(reason);
    } finally {
      idp.userinfo = 'signed';
    }
    expect((await loginAs('fc-married')).personId).toBe(ids.married);
  });

  it('refuses tokens signed with another algorithm than the one registered (RS256 for ES256)', async () => {
    const rs = await startOidcProvider({
      redirectUri: CALLBACK,
      signingAlg: 'RS256',
      acr: 'eidas1',
      claims: { scopes: PIVOT_SCOPES, of: (sub) => ({ ...identities.get(sub) }) },
    });
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      ...rs.franceconnectEnv,
      REMPART_FRANCECONNECT_SIGNING_ALG: 'ES256',
    });
    const other = await buildApp(config, { db: t.db, kms: keys.kms, registry: keys.registry });
    const sessions: string[] = [];
    await other.register(franceconnectRoutes, {
      db: t.db,
      config,
      clock: other.clock,
      keys: keys.registry,
      openSession: async (_reply, personId) => {
        sessions.push(personId);
      },
    });
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
      expect((await lastEvent()).details.reason).toMatch(/^code exchange: /);
    } finally {
      await other.close();
      await rs.close();
    }
  });

  it('refuses an answer without the whole pivot identity, naming the claim only', async () => {
    const { result } = await loginAs('fc-incomplete');
    expect(result).toBe('failed');
    expect((await lastEvent()).details.reason).toBe('pivot identity: birthcountry');
  });

  it('refuses an answer that belongs to another flow (state mismatch) or to no flow', async () => {
    const mine = await start();
    const theirs = await start();
    const back = await idp.login(theirs.url, { sub: 'fc-married' });
    expect((await callback(back, mine.flow)).result).toBe('failed');
    expect((await lastEvent()).details.reason).toMatch(/state/);
    expect((await callback(back, undefined)).result).toBe('failed');
  });

  it('takes an answer once: the replayed callback, or its code in a new flow, opens nothing', async () => {
    const { url, flow } = await start();
    const back = await idp.login(url, { sub: 'fc-married' });
    expect((await callback(back, flow)).personId).toBe(ids.married);
    expect((await callback(back, flow)).result).toBe('failed');
    expect((await lastEvent()).details.reason).toBe('unknown, expired or used flow');
    const again = await start();
    expect((await callback(back, again.flow)).result).toBe('failed');
  });

  it('refuses an ID token with another nonce', async () => {
    const { url, flow } = await start();
    const altered = new URL(url);
    altered.searchParams.set('nonce', 'a-nonce-this-flow-never-made-0123456789abcdef');
    expect((await callback(await idp.login(altered.href, { sub: 'fc-married' }), flow)).result).toBe(
      'failed',
    );
    expect((await lastEvent()).details.reason).toMatch(/nonce/);
  });

  it('refuses an expired flow', async () => {
    const { url, flow } = await start();
    const back = await idp.login(url, { sub: 'fc-married' });
    await t.db.tx(system, (tx) =>
      tx.query(
        "UPDATE franceconnect_flows SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
      ),
    );
    expect((await callback(back, flow)).result).toBe('failed');
    expect((await lastEvent()).details.reason).toBe('unknown, expired or used flow');
  });

  it('reports a cancellation at FranceConnect as cancelled', async () => {
    const { url, flow } = await start();
    const back = await idp.login(url, { sub: 'fc-married', cancel: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect((await callback(back, flow)).result).toBe('cancelled');
  });

  it('keeps no personal data: flows hold none, events none', async () => {
    const flows = await t.db.tx(system, (tx) => tx.query('SELECT * FROM franceconnect_flows'));
    expect(flows.length).toBeGreaterThan(0);
    expect(Object.keys(flows[0]!).sort()).toEqual(
      ['code_verifier', 'created_at', 'expires_at', 'flow_hash', 'nonce', 'state', 'used_at'].sort(),
    );
    const events = await t.db.tx(system, (tx) =>
      tx.query<{ details: unknown }>(
        "SELECT details FROM security_events WHERE action LIKE 'portal.franceconnect%'",
      ),
    );
    const text = JSON.stringify(events);
    for (const word of ['Dupont', 'DUPONT', 'Marie', '1985-04-12', '69123', 'Durand', ids.married, ids.twinA])
      expect(text).not.toContain(word);
  });
});
