/**
 * The FranceConnect tests' world (docs/FRANCECONNECT.md): a local FranceConnect stand-in
 * (oidc-provider, ES256, acr eidas1 by default, the pivot identity scopes), a registry holding a few
 * persons chosen for the match (a married person known by her usage name, a birth abroad, two records
 * sharing one identity, an archived person born in Corsica), and the real app with the FranceConnect
 * routes as the server registers them (the portal's own person session; each one opened is recorded).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config.ts';
import { systemCtx } from '../../src/context.ts';
import { buildApp } from '../../src/http/app.ts';
import { FRANCECONNECT_FLOW_COOKIE } from '../../src/http/routes/franceconnect.routes.ts';
import { PERSON_SESSION_COOKIE } from '../../src/portal/sessions.ts';
import type { Identity, PersonEntry } from '../../src/registry/person.ts';
import { insertPersonBatch, sealPersons } from '../../src/registry/persons.ts';
import { freshDb, type TestDb } from './db.ts';
import { freshKeys, type TestKeys } from './keys.ts';
import { type LocalOidcProvider, startOidcProvider } from './oidc-provider.ts';

export const PUBLIC_URL = loadConfig({ LOG_LEVEL: 'silent' }).publicUrl;
export const CALLBACK = `${PUBLIC_URL}/api/v1/portal/franceconnect/callback`;
const system = systemCtx('test').actor;

/** FranceConnect's pivot identity scopes: one claim each. */
export const PIVOT_SCOPES = {
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
  gender: ['gender'],
};

/** The pivot identity FranceConnect sends for one of the stand-in's identifiers. */
export type Pivot = {
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

/** What a callback led to: a session for a person, or the refusal code shown to the login page. */
export interface CallbackOutcome {
  result: string | null;
  personId: string | undefined;
  response: LightMyRequestResponse;
}

export interface FranceConnectWorld {
  idp: LocalOidcProvider;
  t: TestDb;
  keys: TestKeys;
  app: FastifyInstance;
  ids: { married: string; abroad: string; twinA: string; twinB: string; archived: string };
  /** The stand-in's identities by identifier (sub). */
  identities: Map<string, Pivot>;
  /** Another app on the same database with these FranceConnect settings; its sessions recorded in `opened`. */
  appWith(config: Config, opened: string[]): Promise<FastifyInstance>;
  /** The button's link: a same-origin navigation to the start route; the provider URL and flow cookie. */
  start(): Promise<{ url: string; flow: string }>;
  /** FranceConnect's redirect back: a cross-site top-level navigation carrying the flow cookie. */
  callback(at: URL, flow: string | undefined): Promise<CallbackOutcome>;
  loginAs(sub: string, acr?: string): Promise<CallbackOutcome>;
  /** The last FranceConnect security event. */
  lastEvent(): Promise<{ action: string; details: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A response's cookie by name. */
export const cookieOf = (response: LightMyRequestResponse, name: string) =>
  response.cookies.find((c) => c.name === name);

/** Starts the stand-in, fills the registry and builds the app with the FranceConnect routes. */
export async function franceconnectWorld(): Promise<FranceConnectWorld> {
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
  const idp = await startOidcProvider({
    redirectUri: CALLBACK,
    signingAlg: 'ES256',
    acr: 'eidas1',
    acrLevels: ['eidas0', 'eidas1', 'eidas2', 'eidas3'],
    claims: { scopes: PIVOT_SCOPES, of: (sub) => ({ ...identities.get(sub) }) },
    tamper: { birthdate: '1961-06-30' },
  });
  const [t, keys] = await Promise.all([freshDb(), freshKeys()]);
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

  const appWith = async (config: Config, sessions: string[]): Promise<FastifyInstance> => {
    // The app registers the FranceConnect routes with the portal's real session: a new person
    // session cookie on an answer is recorded as the session opened for its person.
    const other = await buildApp(config, { db: t.db, kms: keys.kms, registry: keys.registry });
    other.addHook('onSend', async (_request, reply, payload) => {
      const header = reply.getHeader('set-cookie');
      const cookies = Array.isArray(header) ? header : header ? [String(header)] : [];
      for (const cookie of cookies) {
        const value = new RegExp(`^${PERSON_SESSION_COOKIE}=([^;]+)`).exec(cookie)?.[1];
        if (!value) continue;
        // Read as stored, not through usePersonSession, which would end an archived person's session.
        const [row] = await t.db.tx(system, (tx) =>
          tx.query<{ person_id: string }>('SELECT person_id FROM person_sessions WHERE id_hash = $1', [
            createHash('sha256').update(value).digest(),
          ]),
        );
        if (row) sessions.push(row.person_id);
      }
      return payload;
    });
    await other.ready();
    return other;
  };
  const app = await appWith(loadConfig({ LOG_LEVEL: 'silent', ...idp.franceconnectEnv }), opened);

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

  const callback = async (at: URL, flow: string | undefined): Promise<CallbackOutcome> => {
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
    expect(cookieOf(response, PERSON_SESSION_COOKIE)).toBeUndefined();
    return { result: location.searchParams.get('franceconnect'), personId: undefined, response };
  };

  return {
    idp,
    t,
    keys,
    app,
    ids,
    identities,
    appWith,
    start,
    callback,
    async loginAs(sub, acr) {
      const { url, flow } = await start();
      return callback(await idp.login(url, { sub, ...(acr ? { acr } : {}) }), flow);
    },
    async lastEvent() {
      const [row] = await t.db.tx(system, (tx) =>
        tx.query<{ action: string; details: Record<string, unknown> }>(
          "SELECT action, details FROM security_events WHERE action LIKE 'portal.franceconnect%' ORDER BY id DESC LIMIT 1",
        ),
      );
      return row!;
    },
    async close() {
      await app.close();
      await t.close();
      await keys.cleanup();
      await idp.close();
    },
  };
}
