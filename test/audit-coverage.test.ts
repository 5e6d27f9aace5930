/**
 * "No personal data leaves by any other path" (docs/DESIGN.md section 3), proved from the outside: every
 * operation of the OpenAPI document is called by staff of every role that reads persons, with
 * bodies aimed at persons they can and cannot reach, and every person found in any answer — by id
 * or by an identifying value (NIR, agency id, email, phone) — must appear in the audit log under
 * that request's id, with exactly the fields returned. A route added later without the gate fails
 * this test; the last case adds one and checks that it is caught.
 */

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSE_IDS } from '../src/access/purposes.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { buildApp } from '../src/http/app.ts';
import type { Role } from '../src/identity/accounts.ts';
import { openIdentity } from '../src/registry/persons.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { caseloadOf, type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, StaffClient } from './helpers/staff.ts';

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  minLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
}
interface Operation {
  method: 'GET' | 'POST' | 'PATCH';
  route: string;
  query: { name: string; required: boolean; schema: Schema }[];
  body: Schema | undefined;
}
/** A person found in one answer: by which request, and which of their fields it held. */
interface Sighting {
  requestId: string;
  route: string;
  personId: string;
  fields: Set<string>;
}

const JUSTIFICATION = 'Vérification demandée par la personne à l’accueil ce matin';

function operationsOf(document: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Operation[] {
  const out: Operation[] = [];
  for (const [route, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const upper = method.toUpperCase();
      if (upper !== 'GET' && upper !== 'POST' && upper !== 'PATCH') {
        throw new Error(`the walker does not know method ${upper} (${route}): teach it`);
      }
      const parameters = (op.parameters ?? []) as {
        in: string;
        name: string;
        required?: boolean;
        schema: Schema;
      }[];
      out.push({
        method: upper,
        route,
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ ...p, required: !!p.required })),
        body: (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.[
          'application/json'
        ]?.schema,
      });
    }
  }
  // Ending one's own session last.
  const last = (op: Operation): number => (op.route.includes('logout') ? 1 : 0);
  return out.sort((a, b) => last(a) - last(b));
}

function sample(schema: Schema): unknown {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.enum) return schema.enum[0];
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return objectFrom(schema, {});
  if (schema.format === 'uuid') return randomUUID();
  if (schema.format === 'date') return '1990-01-01';
  if (schema.format === 'date-time') return new Date().toISOString();
  return 'x'.padEnd(schema.minLength ?? 1, 'x');
}

/** Required properties always (from `values` or sampled), optional ones only when `values` has them. */
function objectFrom(schema: Schema, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (name in values) out[name] = values[name];
    else if (schema.required?.includes(name)) out[name] = sample(property);
  }
  return out;
}

/** Value sets aimed at one person: each search kind, each purpose, with and without a national read. */
function valueSets(person: KnownPerson, declaresPurpose: boolean): Record<string, unknown>[] {
  const { nir, agencyId, lastName, firstNames, birthDate } = person.identity;
  const queries = [
    { by: 'nir', nir },
    { by: 'agencyId', agencyId },
    { by: 'nameBirth', lastName, firstName: firstNames, birthDate },
    { email: 'changement@exemple.fr' },
  ];
  if (!declaresPurpose) return [{}];
  const sets: Record<string, unknown>[] = [];
  for (const purpose of PURPOSE_IDS) {
    for (const query of queries) {
      sets.push({ purpose, ...query });
      sets.push({ purpose, ...query, national: true, justification: JUSTIFICATION });
    }
  }
  return sets;
}

/** Where each known person shows in an answer: objects carrying their id, and identifying values anywhere. */
function sightings(
  body: unknown,
  byId: Map<string, KnownPerson>,
  byValue: Map<string, { personId: string; field: string }>,
): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (personId: string, fields: Iterable<string>): void => {
    const set = found.get(personId) ?? new Set<string>();
    for (const f of fields) set.add(f);
    found.set(personId, set);
  };
  const walk = (value: unknown, key: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const idKey of ['id', 'personId']) {
        const id = record[idKey];
        if (typeof id === 'string' && byId.has(id))
          add(
            id,
            Object.keys(record).filter((k) => k !== idKey),
          );
      }
      for (const [k, v] of Object.entries(record)) walk(v, k);
    } else if (typeof value === 'string') {
      const hit = byValue.get(value);
      if (hit) add(hit.personId, [key]);
    }
  };
  walk(body, '');
  return found;
}

describe(`every answer holding personal data is in the audit log (${engine})`, () => {
  let w: RegistryWorld;
  let byId: Map<string, KnownPerson>;
  let byValue: Map<string, { personId: string; field: string }>;
  const targets: { role: Role; organisation: () => string; aims: () => KnownPerson[] }[] = [
    {
      role: 'counselor',
      organisation: () => w.agency,
      aims: () => [
        w.persons.find((p) => p.agencyOrganisationId === w.agency)!,
        w.persons.find((p) => p.agencyOrganisationId !== w.agency && p.caseloads.length === 0)!,
      ],
    },
    {
      role: 'partner_counselor',
      organisation: () => w.partner,
      aims: () => [caseloadOf(w, w.partner)[0]!, w.persons.find((p) => !p.caseloads.includes(w.partner))!],
    },
    { role: 'security_officer', organisation: () => w.national, aims: () => [w.persons[0]!] },
    { role: 'dpo', organisation: () => w.national, aims: () => [w.persons[1]!] },
    { role: 'helpdesk', organisation: () => w.national, aims: () => [w.persons[2]!] },
  ];

  beforeAll(async () => {
    w = await registryWorld(80, { guard: LENIENT_GUARD });
    byId = new Map(w.persons.map((p) => [p.id, p]));
    byValue = new Map();
    for (const p of w.persons) {
      byValue.set(p.identity.nir, { personId: p.id, field: 'nir' });
      byValue.set(p.identity.agencyId, { personId: p.id, field: 'agencyId' });
      if (p.identity.email) byValue.set(p.identity.email, { personId: p.id, field: 'email' });
      if (p.identity.phone) byValue.set(p.identity.phone, { personId: p.id, field: 'phone' });
    }
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  /**
   * Walks the operations of `app`'s document (those `only` keeps, every one by default) as each role;
   * returns what was seen and what was called.
   */
  async function walk(
    app: FastifyInstance,
    only: (route: string) => boolean = () => true,
  ): Promise<{ seen: Sighting[]; calls: number; routes: Set<string> }> {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const operations = operationsOf(document).filter((o) => only(o.route));
    const seen: Sighting[] = [];
    let calls = 0;
    for (const target of targets) {
      const login = async (): Promise<StaffClient> => {
        const account = await w.account({ role: target.role, organisationId: target.organisation() });
        const { client } = await enrolled(w, account);
        return new StaffClient(app, '127.0.0.1').adopt(client);
      };
      let client = await login();
      for (const operation of operations) {
        for (const person of target.aims()) {
          const declaresPurpose =
            operation.query.some((q) => q.name === 'purpose') || !!operation.body?.properties?.purpose;
          for (const values of valueSets(person, declaresPurpose)) {
            const path = operation.route.replace(/\{[^}]+\}/g, person.id);
            const query = operation.query
              .filter((q) => q.name in values || q.required)
              .map(
                (q) =>
                  `${encodeURIComponent(q.name)}=${encodeURIComponent(String(values[q.name] ?? sample(q.schema)))}`,
              )
              .join('&');
            const url = query ? `${path}?${query}` : path;
            const body =
              operation.method === 'GET'
                ? undefined
                : operation.body
                  ? objectFrom(operation.body, values)
                  : {};
            const response = await client.request(operation.method, url, body);
            calls += 1;
            if (response.statusCode === 401) client = await login();
            const parsed = response.headers['content-type']?.toString().includes('json')
              ? response.json()
              : response.body;
            for (const [personId, fields] of sightings(parsed, byId, byValue)) {
              seen.push({
                requestId: String(response.headers['x-request-id']),
                route: `${operation.method} ${operation.route}`,
                personId,
                fields,
              });
            }
          }
        }
      }
    }
    return { seen, calls, routes: new Set(seen.map((s) => s.route)) };
  }

  /** The sightings the audit log does not account for, with why. */
  async function unaudited(seen: Sighting[]): Promise<string[]> {
    const problems: string[] = [];
    for (const sighting of seen) {
      const rows = await w.t.driver.transaction((tx) =>
        tx.query<{ fields: string[] }>(
          `SELECT l.fields FROM audit_events e JOIN audit_event_persons l ON l.event_id = e.id
           WHERE e.request_id = $1 AND e.decision = 'allow' AND l.person_id = $2`,
          [sighting.requestId, sighting.personId],
        ),
      );
      const logged = new Set(rows.flatMap((r) => r.fields));
      const missing = [...sighting.fields].filter((f) => !logged.has(f));
      if (rows.length === 0) problems.push(`${sighting.route}: person not in the audit log`);
      else if (missing.length > 0)
        problems.push(`${sighting.route}: fields ${missing.join(', ')} not in the audit log`);
      else if (logged.size !== sighting.fields.size) {
        problems.push(`${sighting.route}: the audit log lists fields the answer did not hold`);
      }
    }
    return problems;
  }

  it('walks every operation as every reading role; each person in an answer is audited with its exact fields', async () => {
    const { seen, calls, routes } = await walk(w.app);
    expect(calls).toBeGreaterThan(500);
    // The walk reached personal data through each read route (it would pass vacuously otherwise).
    expect([...routes].sort()).toEqual(
      [
        'GET /api/v1/persons/{id}',
        'POST /api/v1/persons/search',
        'POST /api/v1/persons/{id}/national-view',
        'POST /api/v1/persons/{id}/access-history',
      ].sort(),
    );
    expect(await unaudited(seen)).toEqual([]);
  }, 600_000);

  it('a route added without the gate is caught', async () => {
    const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), {
      db: w.t.db,
      kms: w.keys.kms,
      registry: w.keys.registry,
      clock: w.clock,
    });
    app.get(
      '/api/v1/shortcut/{id}'.replace('{id}', ':id'),
      {
        preHandler: app.requireStaff({ assurance: 'mfa' }),
        schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
      },
      async (request) => {
        const id = (request.params as { id: string }).id;
        const identity = await w.t.db.tx(systemCtx('shortcut').actor, (tx) =>
          openIdentity(tx, w.keys.registry, id, ['agencyId', 'lastName']),
        );
        return { id, ...identity };
      },
    );
    await app.ready();
    try {
      // The same walker as above, over the added route only: the walk of every other route is the
      // test above's (walking them again here doubled this file's time and proved nothing more).
      const { seen, calls } = await walk(app, (route) => route.startsWith('/api/v1/shortcut/'));
      expect(calls).toBeGreaterThan(0);
      const problems = await unaudited(seen);
      expect(
        problems.some((p) => p.startsWith('GET /api/v1/shortcut/{id}: person not in the audit log')),
      ).toBe(true);
      expect(problems.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  }, 600_000);
});
