/**
 * The canonical form of an audit event: the exact bytes whose RFC 6962 leaf hash goes into the
 * Merkle tree (docs/DESIGN.md section 7). It covers the event and every person link with its fields, so
 * changing, adding or removing any of them changes the leaf. The sequencer, `audit verify` and the
 * portal's history all read events with `loadEvents` and hash them with `eventLeafHash`: one
 * definition (the portal page's own copy, web/src/portal/verify.ts, is checked against this one).
 *
 * Two formats (docs/PORTAL.md, "Proofs"):
 * - v1 (events without a salt, written before migration 0021): every field in clear.
 * - v2 (events with a salt): selective disclosure. The public part (time, actor kind, organisation,
 *   role, purpose, action, decision) in clear; the private part (account, session, request, source
 *   address, query, justification, reason, result count) as one salted digest; each person link as
 *   a salted commitment. A person is given their own link's salt and fields, and can rebuild the
 *   leaf without learning anything of the private part or of the other persons (T9: a person's
 *   history must not say who else is on file, nor the staff member's session and address).
 */
import { hash } from 'node:crypto';
import { leafHash } from './merkle.ts';

/** Version tag of the v1 canonical form (every field in clear). */
export const LEAF_FORMAT_V1 = 'rempart/audit-event/v1';
/** Version tag of the v2 canonical form (salted commitments: selective disclosure). */
export const LEAF_FORMAT_V2 = 'rempart/audit-event/v2';
/** The format of new events; a new form gets a new tag, old leaves keep theirs. */
export const LEAF_FORMAT = LEAF_FORMAT_V2;

/** The label of the private part's key, HMAC-SHA-256(salt, label): never a person id (a UUID). */
const PRIVATE_KEY_LABEL = 'rempart/audit-event/v2 private';

export interface EventPerson {
  personId: string;
  /** The fields returned (or changed), by name. */
  fields: string[];
}

/** An audit event as stored, with its person links. */
export interface StoredEvent {
  id: string;
  occurredAt: Date;
  actorKind: 'staff' | 'system' | 'person';
  accountId: string | null;
  organisationId: string | null;
  role: string | null;
  sessionRef: string | null;
  requestId: string;
  sourceAddress: string | null;
  purpose: string | null;
  action: string;
  query: unknown;
  justification: string | null;
  decision: 'allow' | 'deny';
  reason: string | null;
  resultCount: number;
  persons: EventPerson[];
  /** The event's secret salt (32 bytes, audit_event_salts): v2; null for a v1 event. */
  salt: Buffer | null;
}

/** JSON with object keys sorted at every depth: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Orders strings by UTF-16 code units, as PostgreSQL's C collation and the canonical JSON do. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical bytes of an event in its own format: v2 when it has a salt, v1 otherwise. */
export function canonicalEvent(event: StoredEvent): Buffer {
  return event.salt === null ? canonicalEventV1(event) : canonicalEventV2(event, event.salt);
}

/** v1: a JSON array in a fixed order, every field in clear, persons sorted by id, fields sorted. */
export function canonicalEventV1(event: StoredEvent): Buffer {
  const persons = [...event.persons]
    .sort((a, b) => byCodeUnit(a.personId, b.personId))
    .map((p) => [p.personId, [...p.fields].sort()]);
  return Buffer.from(
    canonicalJson([
      LEAF_FORMAT_V1,
      event.id,
      event.occurredAt.toISOString(),
      event.actorKind,
      event.accountId,
      event.organisationId,
      event.role,
      event.sessionRef,
      event.requestId,
      event.sourceAddress,
      event.purpose,
      event.action,
      event.query,
      event.justification,
      event.decision,
      event.reason,
      event.resultCount,
      persons,
    ]),
    'utf8',
  );
}

/** SHA-256 of the parts, one shot (no hash object: the sequencer computes several per event). */
function sha256(...parts: (Buffer | string)[]): Buffer {
  return hash(
    'sha256',
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))),
    'buffer',
  );
}

/**
 * HMAC-SHA-256 (RFC 2104) under an event's salt, its pads computed once per event: two one-shot
 * hashes per message cost a tenth of a createHmac object each (measured: docs/BENCHMARKS.md).
 */
function saltMac(salt: Buffer): (message: string) => Buffer {
  if (salt.length !== 32) throw new Error('an audit event salt has 32 bytes');
  const inner = Buffer.alloc(64, 0x36);
  const outer = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < 32; i++) {
    inner[i] = inner[i]! ^ salt[i]!;
    outer[i] = outer[i]! ^ salt[i]!;
  }
  return (message) => sha256(outer, sha256(inner, message));
}

function digestWith(mac: (message: string) => Buffer, event: StoredEvent): string {
  const text = canonicalJson([
    event.accountId,
    event.sessionRef,
    event.requestId,
    event.sourceAddress,
    event.query,
    event.justification,
    event.reason,
    event.resultCount,
  ]);
  return sha256(mac(PRIVATE_KEY_LABEL), text).toString('hex');
}

function commitmentWith(mac: (message: string) => Buffer, person: EventPerson): string {
  return sha256(mac(person.personId), canonicalJson([person.personId, [...person.fields].sort()])).toString(
    'hex',
  );
}

/**
 * The private part's digest (hex): SHA-256(HMAC-SHA-256(salt, label) ‖ canonical JSON of the
 * account, session, request, source address, query, justification, reason and result count). The
 * secret key makes it hiding: a source address or a short justification cannot be guessed and
 * checked against it.
 */
export function privateDigest(event: StoredEvent, salt: Buffer): string {
  return digestWith(saltMac(salt), event);
}

/** A person's salt in an event: HMAC-SHA-256(event salt, person id). Given to that person only. */
export function personSalt(salt: Buffer, personId: string): Buffer {
  return saltMac(salt)(personId);
}

/** A person link's commitment (hex): SHA-256(person salt ‖ canonical JSON [person id, sorted fields]). */
export function personCommitment(salt: Buffer, person: EventPerson): string {
  return commitmentWith(saltMac(salt), person);
}

/** The public part of a v2 event, as the leaf holds it and the person is shown it. */
export interface PublicPart {
  eventId: string;
  /** ISO-8601, as Date.toISOString writes it. */
  occurredAt: string;
  actorKind: string;
  organisationId: string | null;
  role: string | null;
  purpose: string | null;
  action: string;
  decision: string;
}

/** v2 canonical text from its parts: the one layout the server and web/src/portal/verify.ts build. */
export function canonicalV2Text(pub: PublicPart, digest: string, commitments: readonly string[]): string {
  return canonicalJson([
    LEAF_FORMAT_V2,
    pub.eventId,
    pub.occurredAt,
    pub.actorKind,
    pub.organisationId,
    pub.role,
    pub.purpose,
    pub.action,
    pub.decision,
    digest,
    [...commitments].sort(byCodeUnit),
  ]);
}

/** The public part of an event. */
export function publicPart(event: StoredEvent): PublicPart {
  return {
    eventId: event.id,
    occurredAt: event.occurredAt.toISOString(),
    actorKind: event.actorKind,
    organisationId: event.organisationId,
    role: event.role,
    purpose: event.purpose,
    action: event.action,
    decision: event.decision,
  };
}

/** v2: the public part, the private digest and the persons' commitments (sorted). */
export function canonicalEventV2(event: StoredEvent, salt: Buffer): Buffer {
  const mac = saltMac(salt);
  const commitments = event.persons.map((p) => commitmentWith(mac, p));
  return Buffer.from(canonicalV2Text(publicPart(event), digestWith(mac, event), commitments), 'utf8');
}

/** What one person is given of a v2 event to rebuild its leaf: nothing of the private part or the others. */
export interface Disclosure extends PublicPart {
  leafFormat: typeof LEAF_FORMAT_V2;
  privateDigest: string;
  /** Every link's commitment, sorted: opaque, they tell only how many persons the event touched. */
  commitments: string[];
  personId: string;
  /** hex */
  personSalt: string;
  fields: string[];
}

/** The opening of `personId`'s link in a v2 event; null for a v1 event or a person it does not name. */
export function discloseTo(event: StoredEvent, personId: string): Disclosure | null {
  const salt = event.salt;
  const own = event.persons.find((p) => p.personId === personId);
  if (salt === null || own === undefined) return null;
  const mac = saltMac(salt);
  return {
    leafFormat: LEAF_FORMAT_V2,
    ...publicPart(event),
    privateDigest: digestWith(mac, event),
    commitments: event.persons.map((p) => commitmentWith(mac, p)).sort(byCodeUnit),
    personId,
    personSalt: mac(personId).toString('hex'),
    fields: [...own.fields].sort(),
  };
}

/** RFC 6962 leaf hash of an event's canonical form (in its own format). */
export function eventLeafHash(event: StoredEvent): Buffer {
  return leafHash(canonicalEvent(event));
}

export { loadEvents } from './leaf-load.ts';
