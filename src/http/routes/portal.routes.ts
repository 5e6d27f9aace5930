/**
 * The person's portal (docs/PORTAL.md): login by a one-time code by email, then the person's own
 * data, access history with proofs, incidents and access receipts. Person routes take the person
 * session cookie (`rempart_portal`) only: a staff cookie opens nothing here, and a person cookie
 * opens no staff route (auth.ts reads `rempart_session` only). Every route acts as the person
 * actor, whose row-level security reaches their own rows only; there is no person id in any path
 * or body, so ids cannot be swapped.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../context.ts';
import { systemCtx } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { CSRF_HEADER } from '../../identity/sessions.ts';
import { myHistory } from '../../portal/history.ts';
import { startEmailLogin, verifyEmailLogin } from '../../portal/login.ts';
import { myData, myIncidents } from '../../portal/my-data.ts';
import { disownReceipt, myReceipts, receiptSetting, setReceiptSetting } from '../../portal/receipts.ts';
import {
  clearPersonCookie,
  PERSON_SESSION_COOKIE,
  type PersonSession,
  personCsrfMatches,
  revokePersonSession,
  startPersonSession,
  usePersonSession,
} from '../../portal/sessions.ts';
import type { RegistryKeys } from '../../registry/persons.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj, str } from '../schemas.ts';
import { portalNoticesRoutes } from './portal-notices.routes.ts';

export interface PortalRoutesOptions {
  db: Db;
  keys: RegistryKeys;
  config: Pick<Config, 'portal' | 'publicUrl'>;
  clock: Clock;
  /** The audit checkpoints' verifier key, given to the page that checks proofs. */
  checkpointVerifierKey?: string;
  /**
   * Every login start answers after at least this long (ms), known address or not, so that its
   * time does not tell whether someone is on file (default 400).
   */
  loginFloorMs?: number;
}

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const strings = { type: 'array', items: string } as const;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in to the portal'),
  403: problemResponse('CSRF token missing or wrong'),
};

const Identity = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agencyId: string,
    nir: string,
    lastName: string,
    birthName: nullableString,
    firstNames: string,
    sex: string,
    birthDate: string,
    birthPlace: { type: 'object', additionalProperties: string },
    email: nullableString,
    phone: nullableString,
    address: { type: ['object', 'null'], additionalProperties: string },
  },
} as const;

// Leaf format v2's opening of the person's own link (src/portal/history.ts): never the reading
// account, session, request, source address, query or justification, nor any other person.
const HistoryEntry = obj({
  eventId: string,
  leafFormat: { type: 'string', enum: ['rempart/audit-event/v1', 'rempart/audit-event/v2'] },
  at: dateTime,
  actorKind: string,
  organisationId: nullableString,
  organisationName: nullableString,
  role: nullableString,
  purpose: nullableString,
  action: string,
  decision: string,
  fields: strings,
  staffName: nullableString,
  privateDigest: nullableString,
  personSalt: nullableString,
  commitments: strings,
  proof: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['leafIndex', 'treeSize', 'leafHash', 'hashes'],
    properties: {
      leafIndex: { type: 'integer' },
      treeSize: { type: 'integer' },
      leafHash: string,
      hashes: strings,
    },
  },
});

const Receipt = obj({
  id: string,
  at: dateTime,
  organisationName: nullableString,
  role: nullableString,
  purpose: nullableString,
  action: string,
  fields: strings,
  channel: string,
  disownedAt: { type: ['string', 'null'], format: 'date-time' },
});

/** The session reference of a person session, as the audit links one session's events. */
function personSessionRef(session: PersonSession): string {
  return createHash('sha256').update(session.idHash).digest('hex').slice(0, 16);
}

/** Registers the routes. */
export const portalRoutes: FastifyPluginAsync<PortalRoutesOptions> = async (app, options) => {
  const { db, keys, config, clock } = options;
  const floor = options.loginFloorMs ?? 400;
  const requirePerson: preHandlerAsyncHookHandler = async (request: FastifyRequest) => {
    const raw = request.cookies[PERSON_SESSION_COOKIE];
    if (!raw) throw new AppError('unauthenticated', 'log in to your space first');
    const session = await usePersonSession(db, raw, clock.now(), config.portal);
    if (!session) throw new AppError('unauthenticated', 'the session has ended: log in again');
    if (!SAFE.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      if (!personCsrfMatches(session, typeof header === 'string' ? header : undefined)) {
        throw new AppError('csrf_failed', `the ${CSRF_HEADER} header is missing or wrong`);
      }
    }
    request.person = session;
  };
  const auditOf = (request: FastifyRequest) => ({
    sessionRef: personSessionRef(request.person!),
    requestId: request.id,
    sourceAddress: request.ip,
    at: clock.now(),
  });
  const personal = (operationId: string, summary: string, response: unknown) => ({
    preHandler: requirePerson,
    schema: { tags: ['portal'], operationId, summary, response: { 200: response, ...errors } },
  });

  app.post<{ Body: { email: string } }>(
    '/api/v1/portal/login/start',
    {
      schema: {
        tags: ['portal'],
        operationId: 'startPortalLogin',
        summary: 'Asks for a login code by email (the same answer whether the address is on file or not)',
        security: [],
        body: obj({ email: str(254) }),
        response: {
          202: obj({ challenge: string, expiresAt: dateTime }),
          400: problemResponse('The address is not an email address'),
          429: problemResponse('Too many codes asked for this address or from this source'),
        },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      try {
        const result = await startEmailLogin(
          db,
          keys,
          {
            email: request.body.email,
            sourceAddress: request.ip,
            now: clock.now(),
            publicUrl: config.publicUrl,
          },
          config.portal,
        );
        reply.code(202);
        return { challenge: result.challenge, expiresAt: result.expiresAt.toISOString() };
      } finally {
        // No enumeration by timing: known and unknown addresses answer after the same floor.
        const left = floor - (performance.now() - started);
        if (left > 0) await sleep(left);
        // Work past the floor would show in the answer's time: the operator raises the floor.
        else request.log.warn({ overMs: Math.round(-left) }, 'portal login start took longer than its floor');
      }
    },
  );

  app.post<{ Body: { challenge: string; code: string } }>(
    '/api/v1/portal/login/verify',
    {
      schema: {
        tags: ['portal'],
        operationId: 'verifyPortalLogin',
        summary: 'Checks the code; opens a person session (cookie) and answers its CSRF token',
        security: [],
        body: obj({ challenge: str(100), code: str(20) }),
        response: {
          200: obj({ csrfToken: string, expiresAt: dateTime }),
          400: problemResponse('Invalid input'),
          401: problemResponse('Wrong, used or expired code'),
        },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const personId = await verifyEmailLogin(db, { ...request.body, now });
      const opened = await startPersonSession(db, reply, personId, 'email_code', now, config.portal);
      return { csrfToken: opened.csrfToken, expiresAt: opened.expiresAt.toISOString() };
    },
  );

  app.post(
    '/api/v1/portal/logout',
    {
      preHandler: requirePerson,
      schema: {
        tags: ['portal'],
        operationId: 'portalLogout',
        summary: 'Ends the person session',
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await db.tx(systemCtx('portal-session').actor, (tx) =>
        revokePersonSession(tx, request.person!.idHash, 'logout'),
      );
      clearPersonCookie(reply);
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/api/v1/portal/me',
    personal(
      'getPortalSession',
      'The person session: how they logged in, until when, their record id',
      obj({ personId: string, method: string, expiresAt: dateTime }),
    ),
    async (request) => ({
      personId: request.person!.personId,
      method: request.person!.method,
      expiresAt: request.person!.expiresAt.toISOString(),
    }),
  );

  app.get(
    '/api/v1/portal/data',
    personal(
      'getMyData',
      'My data, decrypted for me (GDPR art. 15), audited as my own access',
      obj({
        id: string,
        status: string,
        agencyName: string,
        identity: Identity,
        registrationPeriods: { type: 'array', items: obj({ startedOn: string, endedOn: nullableString }) },
        caseloads: {
          type: 'array',
          items: obj({
            organisationName: string,
            organisationKind: string,
            since: string,
            until: nullableString,
          }),
        },
      }),
    ),
    async (request) => myData(db, keys, request.person!.personId, auditOf(request)),
  );

  app.get(
    '/api/v1/portal/history',
    personal(
      'getMyAccessHistory',
      'Who accessed my record, each entry with its inclusion proof against the latest signed checkpoint',
      obj({
        personId: string,
        entries: { type: 'array', items: HistoryEntry },
        checkpoint: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['treeSize', 'note', 'verifierKey'],
          properties: { treeSize: { type: 'integer' }, note: string, verifierKey: string },
        },
      }),
    ),
    async (request) =>
      myHistory(db, request.person!.personId, auditOf(request), {
        verifierKey: options.checkpointVerifierKey,
        showStaffNames: config.portal.showStaffNames,
      }),
  );

  app.get(
    '/api/v1/portal/incidents',
    personal(
      'getMyIncidents',
      'The incidents that concern me, each with exactly my fields exposed',
      obj({
        incidents: {
          type: 'array',
          items: obj({
            id: string,
            kind: string,
            detectedAt: dateTime,
            openedAt: dateTime,
            peopleNotifiedAt: { type: ['string', 'null'], format: 'date-time' },
            fields: strings,
          }),
        },
      }),
    ),
    async (request) => ({ incidents: await myIncidents(db, request.person!.personId) }),
  );

  portalNoticesRoutes(app, { db, keys, requirePerson });

  const Setting = obj({ channel: { type: ['string', 'null'], enum: ['email', 'portal', null] } });
  app.get(
    '/api/v1/portal/receipts/settings',
    personal(
      'getMyReceiptSetting',
      'Whether I am told of reads of my record by other organisations, and how',
      Setting,
    ),
    async (request) => ({ channel: await receiptSetting(db, request.person!.personId) }),
  );
  app.post<{ Body: { channel: 'email' | 'portal' | null } }>(
    '/api/v1/portal/receipts/settings',
    {
      preHandler: requirePerson,
      schema: {
        tags: ['portal'],
        operationId: 'setMyReceiptSetting',
        summary: 'Opts in to access receipts (email or portal) or out (null)',
        body: Setting,
        response: { 200: Setting, ...errors },
      },
    },
    async (request) => {
      await setReceiptSetting(db, request.person!.personId, request.body.channel, clock.now());
      return { channel: request.body.channel };
    },
  );
  app.get(
    '/api/v1/portal/receipts',
    personal(
      'getMyReceipts',
      'My access receipts, newest first',
      obj({ receipts: { type: 'array', items: Receipt } }),
    ),
    async (request) => ({ receipts: await myReceipts(db, request.person!.personId) }),
  );
  app.post<{ Params: { id: string } }>(
    '/api/v1/portal/receipts/:id/disown',
    {
      preHandler: requirePerson,
      schema: {
        tags: ['portal'],
        operationId: 'disownReceipt',
        summary:
          '"I don\'t recognise this": raises an alert for the security officers with the access attached',
        params: idParams,
        response: {
          200: obj({ reported: { type: 'boolean' } }),
          404: problemResponse('No such receipt of yours'),
          ...errors,
        },
      },
    },
    async (request) => {
      await disownReceipt(db, request.person!.personId, request.params.id, clock.now());
      return { reported: true };
    },
  );
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The person logged in to the portal, set by the portal routes' pre-handler. */
    person?: PersonSession;
  }
}
