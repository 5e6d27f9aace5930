/**
 * Walking the API as an attacker maps it: every GET and POST operation of the server's own OpenAPI
 * document (GET /api/openapi.json), path parameters replaced by random UUIDs, bodies filled from the
 * declared schema with values aimed at the victim. A route added later is walked without any change
 * here; that is the point (issue "staff identity": "every route in the OpenAPI document").
 */
import { randomUUID } from 'node:crypto';
import type { DrillClient, Exchange } from './client.ts';

/** The slice of JSON Schema the walker reads. */
export interface Schema {
  type?: string | string[];
  format?: string;
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
}

/** One operation of the document. */
export interface Operation {
  method: 'GET' | 'POST';
  /** The path as the document writes it, `/api/v1/recovery-cases/{id}/approve`. */
  route: string;
  /** The JSON body schema, if the operation declares one. */
  body: Schema | undefined;
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
}

/** The GET and POST operations of a document, logouts last (they would end the walking session). */
export function operationsOf(document: unknown): Operation[] {
  const paths = (document as OpenApiDocument | undefined)?.paths ?? {};
  const operations: Operation[] = [];
  for (const [route, methods] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const upper = method.toUpperCase();
      if (upper !== 'GET' && upper !== 'POST') continue;
      operations.push({
        method: upper,
        route,
        body: operation?.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  const ends = (op: Operation): number =>
    op.route.endsWith('/logout') ? 2 : op.route.endsWith('/logout-everywhere') ? 1 : 0;
  return operations.sort((a, b) => ends(a) - ends(b));
}

/** Fetches the document through `client` and lists its operations. */
export async function listOperations(client: DrillClient): Promise<Operation[]> {
  const answer = await client.get('/api/openapi.json');
  if (answer.status !== 200) throw new Error(`GET /api/openapi.json answered ${answer.status}`);
  return operationsOf(answer.body);
}

/** The route with each `{param}` replaced by a random UUID. */
export function pathFor(route: string): string {
  return route.replace(/\{[^}]+\}/g, () => randomUUID());
}

/** A string cut or padded to the schema's lengths, so that validation lets the request reach authorisation. */
function withinLengths(value: unknown, schema: Schema): unknown {
  if (typeof value !== 'string') return value;
  let text = value;
  if (schema.maxLength !== undefined && text.length > schema.maxLength)
    text = text.slice(0, schema.maxLength);
  if (schema.minLength !== undefined && text.length < schema.minLength)
    text = text.padEnd(schema.minLength, '0');
  return text;
}

function sample(name: string, schema: Schema, values: Record<string, unknown>): unknown {
  if (schema.const !== undefined) return schema.const;
  const wanted = values[name];
  if (schema.enum) return schema.enum.includes(wanted) ? wanted : schema.enum[0];
  if (wanted !== undefined) return withinLengths(wanted, schema);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        sample(`${name}[]`, schema.items ?? {}, values),
      );
    case 'object':
      return objectOf(schema, values);
    default:
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'email') return 'attacker@evil.example';
      if (schema.format === 'date') return '2026-01-01';
      if (schema.format === 'date-time') return new Date().toISOString();
      return withinLengths('x', schema);
  }
}

/** An object with every declared property filled (nested objects too). */
function objectOf(schema: Schema, values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => [name, sample(name, property, values)]),
  );
}

/**
 * The bodies to try for an operation: one per `oneOf`/`anyOf` branch, every declared property
 * filled from `values` by name (an enum keeps a listed value or takes its first), others by type.
 * An operation without a body schema gets `{}`.
 */
export function bodiesFor(operation: Operation, values: Record<string, unknown>): unknown[] {
  const schema = operation.body;
  if (!schema) return [{}];
  const variants = schema.oneOf ?? schema.anyOf ?? [schema];
  return variants.map((variant) => objectOf(variant, values));
}

/** Calls every operation (each body variant) with the client; returns the exchanges. */
export async function walkOperations(
  client: DrillClient,
  operations: Operation[],
  values: Record<string, unknown>,
): Promise<Exchange[]> {
  const calls: Exchange[] = [];
  for (const operation of operations) {
    const bodies = operation.method === 'GET' ? [undefined] : bodiesFor(operation, values);
    for (const body of bodies) {
      calls.push(
        await client.request(operation.method, pathFor(operation.route), body, { route: operation.route }),
      );
    }
  }
  return calls;
}

/** Routes that anyone may read: they carry no personal data and no account data. */
export const PUBLIC_ROUTES = new Set(['GET /api/health', 'GET /api/openapi.json']);

/** Keys of an answer that are about the caller's own session, not data (login, second factor, enrolment). */
const SESSION_KEYS = new Set([
  'next',
  'factors',
  'csrfToken',
  'expiresAt',
  'assurance',
  'account',
  'challenge',
  'allowCredentials',
  'rpId',
  'timeout',
  'userVerification',
  'extensions',
  'hints',
]);

/**
 * True if a successful answer gave the caller more than its own session's mechanics and its own
 * account summary (`ownLogin`; a stranger has none). Public routes and ending one's own session do
 * not count; anything else that succeeded does, an empty 204 included (an action went through).
 */
export function reachedBeyondOwnSummary(exchange: Exchange, ownLogin: string | undefined): boolean {
  if (exchange.status < 200 || exchange.status >= 300) return false;
  const key = `${exchange.method} ${exchange.route}`;
  if (PUBLIC_ROUTES.has(key)) return false;
  if (ownLogin !== undefined && key === 'POST /api/v1/auth/logout') return false;
  const body = exchange.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return true;
  for (const [name, value] of Object.entries(body)) {
    if (!SESSION_KEYS.has(name)) return true;
    if (name === 'account') {
      const login = (value as { login?: unknown } | null)?.login;
      if (ownLogin === undefined || typeof login !== 'string') return true;
      if (login.toLowerCase() !== ownLogin.toLowerCase()) return true;
    }
  }
  return false;
}
