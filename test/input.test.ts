/**
 * Control characters in any string of any request (src/control-characters.ts, plugins/input.ts):
 * every operation of the OpenAPI document is called, one string input at a time (path parameter,
 * query parameter, body property at any depth), with a control character in it. Each answer is 400
 * `validation_failed` naming that field, never a 500 (PostgreSQL refuses NUL with error 22021),
 * and no table of the database gains or loses a row: nothing is stored, not even a login failure.
 * A route added later with a string input is walked too.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findControlCharacter, hasControlCharacter } from '../src/control-characters.ts';
import { engine } from './helpers/db.ts';
import { enrolled, type StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  minLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema: Schema;
}
/** One string input of one operation, and where it goes. */
interface Slot {
  method: 'GET' | 'POST' | 'PATCH';
  route: string;
  where: 'path' | 'query' | 'body';
  /** The field the problem must name: `login`, `address.line`, `id`. */
  field: string;
  parameters: Parameter[];
  body: Schema | undefined;
}

// C0 (NUL, tab, LF, CR, ESC), DEL, C1 (NEL, CSI) and the Unicode line separator, in turn.
const CONTROLS = ['\u0000', '\u001b', '\n', '\t', '\r', '\u007f', '\u0085', '\u009b', '\u2028'];

/** The schema a value is built from: the first non-null alternative of an anyOf / oneOf. */
function concrete(schema: Schema): Schema {
  const choices = schema.anyOf ?? schema.oneOf;
  if (!choices) return schema;
  return concrete(choices.find((c) => c.type !== 'null') ?? choices[0]!);
}

function typeOf(schema: Schema): string | undefined {
  const s = concrete(schema);
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}

/** A valid-looking value for a schema: required properties only. */
function sample(input: Schema): unknown {
  const schema = concrete(input);
  const type = typeOf(schema);
  if (schema.enum) return schema.enum[0];
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') {
    const out: Record<string, unknown> = {};
    for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name] ?? {});
    return out;
  }
  if (schema.format === 'uuid') return randomUUID();
  if (schema.format === 'date') return '1990-01-01';
  if (schema.format === 'date-time') return new Date().toISOString();
  return 'x'.padEnd(schema.minLength ?? 1, 'x');
}

/** The paths of every string in a body schema: properties at any depth, the first item of arrays. */
function stringPaths(input: Schema, prefix: string[] = []): string[][] {
  const schema = concrete(input);
  const type = typeOf(schema);
  if (type === 'string') return [prefix];
  if (type === 'array' && schema.items) return stringPaths(schema.items, [...prefix, '0']);
  if (type === 'object' || schema.properties) {
    return Object.entries(schema.properties ?? {}).flatMap(([name, p]) => stringPaths(p, [...prefix, name]));
  }
  return [];
}

/** A body with the string at `path` set to `value`, and what it needs around it to get there. */
function bodyWith(schema: Schema, path: string[], value: string): unknown {
  if (path.length === 0) return value;
  const s = concrete(schema);
  const [head, ...rest] = path as [string, ...string[]];
  if (typeOf(s) === 'array') return [bodyWith(s.items ?? {}, rest, value)];
  const out = sample(s) as Record<string, unknown>;
  out[head] = bodyWith(s.properties?.[head] ?? {}, rest, value);
  return out;
}

function slotsOf(document: { paths: Record<string, Record<string, Record<string, unknown>>> }): Slot[] {
  const slots: Slot[] = [];
  for (const [route, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const upper = method.toUpperCase() as Slot['method'];
      if (!['GET', 'POST', 'PATCH'].includes(upper)) throw new Error(`teach the walker ${upper} ${route}`);
      const parameters = (op.parameters ?? []) as Parameter[];
      const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content?.['application/json']?.schema;
      const base = { method: upper, route, parameters, body };
      for (const p of parameters) {
        if ((p.in === 'path' || p.in === 'query') && typeOf(p.schema) === 'string')
          slots.push({ ...base, where: p.in, field: p.name });
      }
      for (const path of body ? stringPaths(body) : [])
        slots.push({ ...base, where: 'body', field: path.join('.') });
    }
  }
  return slots;
}

/** The request of a slot, its string input holding `bad`. */
function requestOf(slot: Slot, bad: string): { url: string; body: unknown } {
  let url = slot.route;
  const query = new URLSearchParams();
  for (const p of slot.parameters) {
    const mine = p.in === slot.where && p.name === slot.field;
    const value = mine ? bad : String(sample(p.schema));
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(value));
    else if (p.in === 'query' && (mine || p.required)) query.set(p.name, value);
  }
  const search = query.toString();
  const body =
    slot.where === 'body'
      ? bodyWith(slot.body!, slot.field.split('.'), bad)
      : slot.body
        ? sample(slot.body)
        : undefined;
  return { url: search ? `${url}?${search}` : url, body };
}

let world: StaffWorld;
let client: StaffClient;
let slots: Slot[];

/** Rows per table, every table of the schema (read as the owner: no row-level security). */
async function rowCounts(): Promise<Record<string, number>> {
  return world.t.driver.transaction(async (tx) => {
    const tables = await tx.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const out: Record<string, number> = {};
    for (const { name } of tables) {
      const [row] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}"`);
      out[name] = row!.n;
    }
    return out;
  });
}

beforeAll(async () => {
  world = await staffWorld();
  const organisationId = await world.organisation({ kind: 'agency' });
  ({ client } = await enrolled(world, await world.account({ organisationId, role: 'counselor' })));
  const document = (await client.request('GET', '/api/openapi.json')).json();
  slots = slotsOf(document);
});
afterAll(async () => {
  await world?.close();
});

describe(`control characters in requests, on ${engine}`, () => {
  it('finds the string inputs of the routes named in the issue', () => {
    const named = slots.map((s) => `${s.method} ${s.route} ${s.field}`);
    expect(named).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/login login',
        'POST /api/v1/auth/login password',
        'PATCH /api/v1/persons/{id}/contact address.line',
        'PATCH /api/v1/persons/{id}/contact address.city',
        'GET /api/v1/persons/{id} id',
      ]),
    );
    expect(named.some((n) => n.endsWith(' justification'))).toBe(true);
    expect(named.some((n) => n.endsWith(' lastName'))).toBe(true);
  });

  it('answers 400 validation_failed naming the field for every string input, and writes nothing', async () => {
    const before = await rowCounts();
    const wrong: string[] = [];
    for (const [i, slot] of slots.entries()) {
      const control = CONTROLS[i % CONTROLS.length]!;
      const { url, body } = requestOf(slot, `ab${control}cd`);
      const response = await client.request(slot.method, url, body);
      const problem = response.headers['content-type']?.toString().includes('json') ? response.json() : {};
      if (response.statusCode !== 400 || problem.code !== 'validation_failed' || problem.field !== slot.field)
        wrong.push(
          `${slot.method} ${slot.route} ${slot.field}: ${response.statusCode} ${problem.code} ${problem.field}`,
        );
    }
    expect(wrong).toEqual([]);
    expect(slots.length).toBeGreaterThan(20);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses them before the login is looked up: no failure is recorded, with or without a session', async () => {
    const before = await rowCounts();
    for (const body of [
      { login: 'agent\u0000', password: 'granite lantern orchard 57' },
      { login: 'agent', password: 'granite\u0000lantern' },
    ]) {
      const response = await world.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'validation_failed' });
      expect(response.body).not.toContain('agent');
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('leaves ordinary text alone: accents, no-break spaces, apostrophes and emoji are not controls', () => {
    for (const text of ['Élodie Ñúñez', 'd’Artagnan', '12\u00a0rue', 'Zoë 🙂', 'Ærøskøbing']) {
      expect(hasControlCharacter(text)).toBe(false);
    }
    expect(findControlCharacter({ address: { line: 'ok', city: 'a\u001bb' } }, 'body')).toBe('address.city');
    expect(findControlCharacter({ ids: ['a', 'b\u0000'] }, 'body')).toBe('ids.1');
    expect(findControlCharacter({ 'bad\nkey': 'x' }, 'body')).toBe('body');
  });
});
