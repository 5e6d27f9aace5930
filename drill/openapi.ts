/**
 * Walking the API as an attacker maps it: every operation of the server's own OpenAPI document
 * (GET /api/openapi.json), path parameters taken from the attacker's values by name (else random
 * UUIDs), query parameters and bodies filled from the declared schema with values aimed at the
 * victim. A route added later is walked without any change here; that is the point (issue "staff
 * identity": "every route in the OpenAPI document").
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
  required?: string[];
}

/** The methods the walker calls (any other method in the document is an error: teach it). */
export const WALKED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WalkedMethod = (typeof WALKED_METHODS)[number];

/** A query parameter of an operation. */
export interface QueryParameter {
  name: string;
  required: boolean;
  schema: Schema;
}

/** One operation of the document. */
export interface Operation {
  method: WalkedMethod;
  /** The path as the document writes it, `/api/v1/recovery-cases/{id}/approve`. */
  route: string;
  /** Its query parameters (`GET /api/v1/persons/{id}?purpose=`). */
  query: QueryParameter[];
  /** The JSON body schema, if the operation declares one. */
  body: Schema | undefined;
}

interface OpenApiOperation {
  parameters?: { in?: string; name?: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation | undefined>>;
}

/** Keys of a path item that are not methods (OpenAPI 3.1). */
const PATH_ITEM_KEYS = new Set(['parameters', 'summary', 'description', 'servers', '$ref']);

/**
 * The operations of a document, logouts last (they would end the walking session). A method the
 * walker does not know (HEAD, OPTIONS, TRACE) is an error, so a new kind of route cannot go unwalked.
 */
export function operationsOf(document: unknown): Operation[] {
  const paths = (document as OpenApiDocument | undefined)?.paths ?? {};
  const operations: Operation[] = [];
  for (const [route, methods] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (PATH_ITEM_KEYS.has(method)) continue;
      const upper = method.toUpperCase();
      if (!(WALKED_METHODS as readonly string[]).includes(upper)) {
        throw new Error(`the drill's walker does not know method ${upper} (${route}): teach it`);
      }
      operations.push({
        method: upper as WalkedMethod,
        route,
        query: (operation?.parameters ?? [])
          .filter((p) => p.in === 'query' && typeof p.name === 'string')
          .map((p) => ({ name: p.name!, required: p.required === true, schema: p.schema ?? {} })),
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

/**
 * The route with each `{param}` replaced by the value of that name in `values` (a string: a person's
 * real id, say), else by a random UUID; values are URL-encoded.
 */
export function pathFor(route: string, values: Record<string, unknown> = {}): string {
  return route.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    return typeof value === 'string' ? encodeURIComponent(value) : randomUUID();
  });
}

/** The query string of an operation (with `?`, or empty): required parameters always, others when `values` has them. */
export function queryFor(operation: Operation, values: Record<string, unknown>): string {
  const pairs = operation.query
    .filter((q) => q.required || values[q.name] !== undefined)
    .map(
      (q) => `${encodeURIComponent(q.name)}=${encodeURIComponent(String(sample(q.name, q.schema, values)))}`,
    );
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
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

/**
 * How a body is filled: `all` fills every declared property (the widest request, for routes that
 * must refuse before reading anything); `given` fills the required ones and only those optional
 * ones `values` names, so that a request with mutually exclusive fields (a search by one kind of
 * identifier) reaches the gate instead of failing validation.
 */
export type Fill = 'all' | 'given';

/** An object with the declared properties filled (nested objects too). */
function objectOf(
  schema: Schema,
  values: Record<string, unknown>,
  fill: Fill = 'all',
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schema.properties ?? {})
      .filter(
        ([name]) => fill === 'all' || schema.required?.includes(name) === true || values[name] !== undefined,
      )
      .map(([name, property]) => [name, sample(name, property, values)]),
  );
}

/**
 * The bodies to try for an operation: one per `oneOf`/`anyOf` branch, declared properties filled
 * from `values` by name (an enum keeps a listed value or takes its first), others by type (see
 * Fill for which properties). An operation without a body schema gets `{}`.
 */
export function bodiesFor(
  operation: Operation,
  values: Record<string, unknown>,
  fill: Fill = 'all',
): unknown[] {
  const schema = operation.body;
  if (!schema) return [{}];
  const variants = schema.oneOf ?? schema.anyOf ?? [schema];
  return variants.map((variant) => objectOf(variant, values, fill));
}

/** Calls every operation (each body variant) with the client; returns the exchanges. */
export async function walkOperations(
  client: DrillClient,
  operations: Operation[],
  values: Record<string, unknown>,
  fill: Fill = 'all',
): Promise<Exchange[]> {
  const calls: Exchange[] = [];
  for (const operation of operations) {
    const bodies =
      operation.method === 'GET' || operation.method === 'DELETE'
        ? [undefined]
        : bodiesFor(operation, values, fill);
    for (const body of bodies) {
      calls.push(
        await client.request(
          operation.method,
          pathFor(operation.route, values) + queryFor(operation, values),
          body,
          { route: operation.route },
        ),
      );
    }
  }
  return calls;
}

/**
 * Routes that anyone may read: they carry no personal data and no account data (the ProConnect
 * status is `{ enabled }`, for the login page to offer the button or not).
 */
export const PUBLIC_ROUTES = new Set([
  'GET /api/health',
  'GET /api/openapi.json',
  'GET /api/v1/auth/proconnect',
  // a code's kind, channel and date: nothing of any account or person (T6)
  'POST /api/v1/messages/verify',
  // whether the portal offers FranceConnect: `{ enabled }`
  'GET /api/v1/portal/franceconnect',
  // a signed notice's check (genuine, key name, kind, date) and the published verifier keys (T6)
  'POST /api/v1/notices/verify',
  'GET /api/v1/notices/keys',
]);

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
