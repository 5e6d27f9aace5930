/**
 * Persons: search, view, and contact details, each one call of the gate (src/access/gate.ts).
 * Identifiers travel in request bodies, never in URLs (OWASP ASVS 14.2.1): a search is a POST.
 * Routes stay thin: parse, call the gate, return its typed result through a closed response schema,
 * so a field the gate did not allow cannot slip out by accident.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type GateCtx, type GateDeps, passGate, type ResultOf } from '../../access/gate.ts';
import { type EverydayRead, OTHER_PATH, passGateWithSession } from '../../access/gate-session.ts';
import { JUSTIFICATION_MAX, SEARCH_CAP, VIEW_FIELDS } from '../../access/policy.ts';
import { PURPOSE_IDS } from '../../access/purposes.ts';
import type { Config } from '../../config.ts';
import { AppError } from '../../errors.ts';
import type { Role } from '../../identity/accounts.ts';
import { birthDateQuery } from '../../registry/birth-date.ts';
import type { PersonQuery } from '../../registry/persons.ts';
import { checkStaffRequest, sessionCookie } from '../plugins/auth.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj, str } from '../schemas.ts';

const purpose = { type: 'string', enum: PURPOSE_IDS, description: 'Why the data is read (the fixed list)' };
const national = {
  type: 'boolean',
  description:
    'Read outside your everyday scope (agency counselors, security officers, the DPO): needs a justification',
};
const justification = {
  type: 'string',
  minLength: 1,
  maxLength: JUSTIFICATION_MAX,
  description: 'Why this national read is needed, in a sentence; logged and reviewed',
};
const nullableStr = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;
const Address = obj({ line: str(200), postalCode: str(5), city: str(100) });
const BirthPlace = {
  type: 'object',
  additionalProperties: false,
  properties: {
    communeCode: { type: 'string' },
    commune: { type: 'string' },
    department: { type: 'string' },
    countryCode: { type: 'string' },
    country: { type: 'string' },
  },
};

/** A person in a response: the id and whatever fields the policy allowed (all others absent). */
const PersonView = obj(
  {
    id: { type: 'string', format: 'uuid' },
    agencyId: { type: 'string' },
    nir: { type: 'string' },
    nirMasked: { type: 'string' },
    lastName: { type: 'string' },
    birthName: { type: ['string', 'null'] },
    firstNames: { type: 'string' },
    sex: { type: 'string', enum: ['M', 'F'] },
    birthDate: {
      type: 'string',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description:
        'YYYY-MM-DD; 00 for a day or month that civil status does not know (1919-05-00, 1935-00-00)',
    },
    birthPlace: BirthPlace,
    email: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    address: { anyOf: [Address, { type: 'null' }] },
    status: { type: 'string' },
    registrationPeriods: {
      type: 'array',
      items: obj({ startedOn: { type: 'string' }, endedOn: { type: ['string', 'null'] } }),
    },
  },
  ['id'],
);
const fieldList = { type: 'array', items: { type: 'string', enum: VIEW_FIELDS } };

const SearchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['purpose', 'by'],
  properties: {
    purpose,
    by: { type: 'string', enum: ['nir', 'agencyId', 'nameBirth'] },
    nir: { type: 'string', minLength: 13, maxLength: 21, description: 'With by=nir: the 15-character NIR' },
    agencyId: { type: 'string', minLength: 1, maxLength: 20, description: 'With by=agencyId' },
    lastName: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      description: 'With by=nameBirth (or birth name)',
    },
    firstName: { type: 'string', minLength: 1, maxLength: 100, description: 'With by=nameBirth' },
    birthDate: {
      type: 'string',
      pattern: '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$',
      description:
        'With by=nameBirth: YYYY-MM-DD; a birth date whose day is unknown as YYYY-MM (or YYYY-MM-00), whose month is unknown too as YYYY (or YYYY-00-00), as the registry stores them',
    },
    cap: { type: 'integer', minimum: 1, maximum: SEARCH_CAP, description: `At most ${SEARCH_CAP} results` },
    national,
    justification,
  },
};

interface SearchBodyT {
  purpose: string;
  by: 'nir' | 'agencyId' | 'nameBirth';
  nir?: string;
  agencyId?: string;
  lastName?: string;
  firstName?: string;
  birthDate?: string;
  cap?: number;
  national?: boolean;
  justification?: string;
}

const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  403: problemResponse(
    'Not allowed for your role, organisation or purpose; or the guard asks for a fresh second factor (step_up_required) or has suspended the account (account_suspended)',
  ),
  404: problemResponse('No such person for you (absent and out of scope look the same)'),
  429: problemResponse('Throttled by the guard: try again after Retry-After seconds'),
};

/** The exact query of a search body, or a validation error naming the missing or misplaced field. */
function queryOf(body: SearchBodyT): PersonQuery {
  const wanted = {
    nir: ['nir'],
    agencyId: ['agencyId'],
    nameBirth: ['lastName', 'firstName', 'birthDate'],
  }[body.by] as readonly (keyof SearchBodyT)[];
  for (const field of ['nir', 'agencyId', 'lastName', 'firstName', 'birthDate'] as const) {
    const given = body[field] !== undefined;
    if (given && !wanted.includes(field)) {
      throw new AppError('validation_failed', `${field} does not go with by=${body.by}`, { field });
    }
    if (!given && wanted.includes(field)) {
      throw new AppError('validation_failed', `${field} is required with by=${body.by}`, { field });
    }
  }
  if (body.by === 'nir') return { by: 'nir', nir: body.nir! };
  if (body.by === 'agencyId') return { by: 'agencyId', agencyId: body.agencyId! };
  const birthDate = birthDateQuery(body.birthDate!);
  if (birthDate === undefined)
    throw new AppError('validation_failed', 'birthDate is not a date', { field: 'birthDate' });
  return { by: 'nameBirth', lastName: body.lastName!, firstName: body.firstName!, birthDate };
}

/** Step 1 of the gate, who: the authenticated staff member of this request. */
export function gateCtx(request: FastifyRequest): GateCtx {
  const auth = request.staff!;
  return {
    accountId: auth.account.id,
    organisationId: auth.account.organisationId,
    role: auth.account.role as Role,
    organisationPurposes: auth.organisationPurposes,
    sessionIdHash: auth.session.idHash,
    requestId: request.id,
    sourceAddress: request.ip,
    // On probation until its end (a login ends it in the database; a session opened before goes on).
    probation:
      auth.account.status === 'probation' &&
      (auth.account.probationUntil === null || auth.account.probationUntil > request.server.clock.now()),
    demo: auth.account.demo,
    mfaAt: auth.session.mfaAt,
    guard: auth.guard,
  };
}

/**
 * An everyday search or record: in two round trips with the session (access/gate-session.ts), or,
 * out of its common case, authenticated first and passed through the gate on its own.
 */
async function everydayRead<R extends EverydayRead>(
  deps: PersonsDeps,
  request: FastifyRequest,
  read: R,
): Promise<ResultOf<R>> {
  const need = { assurance: 'mfa' } as const;
  const now = deps.clock.now();
  const done = await passGateWithSession(
    deps,
    {
      sessionId: sessionCookie(request),
      check: (auth) => checkStaffRequest(auth, request, need, now, deps.sessions),
      ctxOf: (auth) => {
        request.staff = auth;
        return gateCtx(request);
      },
    },
    read,
  );
  if (done !== OTHER_PATH) return done;
  await request.server.authenticateStaff(request, need);
  return passGate(deps, gateCtx(request), read);
}

/** What the routes need: the gate's dependencies, and the sessions' settings for everyday reads. */
type PersonsDeps = GateDeps & { sessions: Pick<Config, 'sessions'> };

/** Registers the routes. */
export const personsRoutes: FastifyPluginAsync<PersonsDeps> = async (app, deps) => {
  const staff = app.requireStaff({ assurance: 'mfa' });
  // Search and record: the session is read in the gate's first write (everydayRead).
  const inGate = app.requireStaff({ assurance: 'mfa', inGate: true });

  app.post<{ Body: SearchBodyT }>(
    '/api/v1/persons/search',
    {
      preHandler: inGate,
      schema: {
        tags: ['persons'],
        summary: 'Find persons by NIR, agency id, or last name + first name + birth date (exact, normalised)',
        description:
          `Exact match only, no wildcard or prefix. At most ${SEARCH_CAP} results, then \`more: true\` ` +
          '(refine your search); no count and no pagination. Only persons inside your scope are ever matched.',
        body: SearchBody,
        response: {
          200: obj({
            results: { type: 'array', items: PersonView },
            more: { type: 'boolean' },
            cap: { type: 'integer' },
            fields: fieldList,
          }),
          ...errors,
        },
      },
    },
    (request) => {
      const { body } = request;
      return everydayRead(deps, request, {
        action: 'person.search',
        purpose: body.purpose,
        query: queryOf(body),
        ...(body.cap !== undefined ? { cap: body.cap } : {}),
        ...(body.national !== undefined ? { national: body.national } : {}),
        ...(body.justification !== undefined ? { justification: body.justification } : {}),
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { purpose: string } }>(
    '/api/v1/persons/:id',
    {
      preHandler: inGate,
      schema: {
        tags: ['persons'],
        summary: "One person's record, with the fields your role and purpose allow",
        params: idParams,
        querystring: obj({ purpose }),
        response: { 200: obj({ person: PersonView, fields: fieldList }), ...errors },
      },
    },
    (request) =>
      everydayRead(deps, request, {
        action: 'person.view',
        purpose: request.query.purpose,
        personId: request.params.id,
      }),
  );

  app.post<{ Params: { id: string }; Body: { purpose: string; justification: string } }>(
    '/api/v1/persons/:id/national-view',
    {
      preHandler: staff,
      schema: {
        tags: ['persons'],
        summary: 'One person outside your everyday scope: a national read with a written justification',
        params: idParams,
        body: obj({ purpose, justification }),
        response: { 200: obj({ person: PersonView, fields: fieldList }), ...errors },
      },
    },
    (request) =>
      passGate(deps, gateCtx(request), {
        action: 'person.view',
        purpose: request.body.purpose,
        personId: request.params.id,
        national: true,
        justification: request.body.justification,
      }),
  );

  app.post<{ Params: { id: string }; Body: { purpose: string; justification: string } }>(
    '/api/v1/persons/:id/access-history',
    {
      preHandler: staff,
      schema: {
        tags: ['persons'],
        summary: "Who accessed a person's record: when, from which organisation and role, for which purpose",
        description:
          'For the DPO (a data-subject request, GDPR article 15) and security officers (an investigation): ' +
          'a national read with a justification, itself on record. Newest first, at most 200 entries.',
        params: idParams,
        body: obj({ purpose, justification }),
        response: {
          200: obj({
            id: { type: 'string', format: 'uuid' },
            accessHistory: {
              type: 'array',
              items: obj({
                at: { type: 'string', format: 'date-time' },
                eventId: { type: 'string' },
                accountId: { type: ['string', 'null'] },
                organisationId: { type: ['string', 'null'] },
                organisationName: { type: ['string', 'null'] },
                role: { type: ['string', 'null'] },
                purpose: { type: ['string', 'null'] },
                action: { type: 'string' },
                fields: { type: 'array', items: { type: 'string' } },
              }),
            },
          }),
          ...errors,
        },
      },
    },
    (request) =>
      passGate(deps, gateCtx(request), {
        action: 'person.access_history',
        purpose: request.body.purpose,
        personId: request.params.id,
        national: true,
        justification: request.body.justification,
      }),
  );

  app.patch<{
    Params: { id: string };
    Body: {
      purpose: string;
      email?: string | null;
      phone?: string | null;
      address?: null | { line: string; postalCode: string; city: string };
    };
  }>(
    '/api/v1/persons/:id/contact',
    {
      preHandler: staff,
      schema: {
        tags: ['persons'],
        summary:
          "Change a person's email, phone or postal address (counselors, in their scope); null clears one",
        params: idParams,
        body: obj(
          {
            purpose,
            email: nullableStr(254),
            phone: nullableStr(20),
            address: { anyOf: [Address, { type: 'null' }] },
          },
          ['purpose'],
        ),
        response: { 200: obj({ updated: { type: 'array', items: { type: 'string' } } }), ...errors },
      },
    },
    (request) => {
      const { purpose: declared, ...changes } = request.body;
      return passGate(deps, gateCtx(request), {
        action: 'person.update_contact',
        purpose: declared,
        personId: request.params.id,
        changes,
      });
    },
  );
};
