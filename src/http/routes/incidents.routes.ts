/**
 * Incidents (docs/INCIDENTS.md): the list, declaring one (accounts and a window, or a leaked file),
 * and the authority's notification (GDPR art. 33): its draft as JSON and PDF, the DPO's edits, and
 * marking it sent. Security officers declare; the DPO edits and sends; both read. Counts and texts
 * only: an incident's persons are read one incident at a time through `GET /api/v1/incidents/{id}`
 * (guard.routes.ts), where each read is an audit event. Every answer carries the incident's
 * timeline and 72-hour clock.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ControllerConfig } from '../../config-controller.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { draftPdf } from '../../incidents/art33-pdf.ts';
import { editDraft, markDraftSent, readDraft } from '../../incidents/art33-store.ts';
import { type Declarer, declareFromAccounts, declareFromFile } from '../../incidents/declare.ts';
import { MAX_LEAK_ROWS } from '../../incidents/leaked-file.ts';
import { INCIDENTS_LIMIT, listIncidents } from '../../incidents/list.ts';
import type { RegistryKeys } from '../../registry/persons.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj } from '../schemas.ts';
import {
  Declared,
  DeclaredFromFile,
  Draft,
  declarationProperties,
  editProperties,
  IncidentSummary,
} from './incident-schemas.ts';

export interface IncidentsRoutesOptions {
  db: Db;
  clock: Clock;
  keys: RegistryKeys;
  controller: ControllerConfig;
}

const uuid = { type: 'string', format: 'uuid' } as const;

const errors = {
  400: problemResponse(
    'Invalid input; `field` names it (`issues`: every bad item, or every bad row by line)',
  ),
  401: problemResponse('Not logged in'),
  403: problemResponse('Not allowed for your role, or a fresh second factor is required'),
  404: problemResponse('No such incident for you'),
};

function declarerOf(request: FastifyRequest): Declarer {
  const auth = request.staff!;
  return {
    accountId: auth.account.id,
    organisationId: auth.account.organisationId,
    role: auth.account.role,
    sessionIdHash: auth.session.idHash,
    requestId: request.id,
    sourceAddress: request.ip,
  };
}

const dates = (b: { from: string; to: string; detectedAt?: string }) => ({
  from: new Date(b.from),
  to: new Date(b.to),
  ...(b.detectedAt === undefined ? {} : { detectedAt: new Date(b.detectedAt) }),
});

/** Registers the routes. */
export const incidentsRoutes: FastifyPluginAsync<IncidentsRoutesOptions> = async (
  app,
  { db, clock, keys, controller },
) => {
  const staff = app.requireStaff({ assurance: 'mfa' });
  const fresh = app.requireStaff({ assurance: 'mfa', fresh: true });

  app.get(
    '/api/v1/incidents',
    {
      preHandler: staff,
      schema: {
        tags: ['incidents'],
        summary: 'Security officers and the DPO: the incidents, newest first, with their counts and timeline',
        description:
          `At most ${INCIDENTS_LIMIT}. Counts per field, per category of person and of persons, no person id: ` +
          "the scope's persons are read with GET /api/v1/incidents/{id}, an audited read. Other roles: 403 forbidden.",
        response: {
          200: obj({ incidents: { type: 'array', items: IncidentSummary } }),
          401: problemResponse('Not logged in'),
          403: problemResponse('Not allowed for your role'),
        },
      },
    },
    async (request) => ({ incidents: await listIncidents(db, request.staff!.account.role, clock.now()) }),
  );

  app.post<{ Body: { accounts: string[]; from: string; to: string; detectedAt?: string; note: string } }>(
    '/api/v1/incidents',
    {
      preHandler: fresh,
      schema: {
        tags: ['incidents'],
        summary: 'Security officers: declare an incident from compromised accounts and a window',
        description:
          'The scope (persons, fields) is computed from the audit log, as `rempart audit scope` does, and stored ' +
          'with counts by field and by category of person (minors on the detection date included). Needs a fresh second factor.',
        body: obj(
          { accounts: { type: 'array', minItems: 1, maxItems: 100, items: uuid }, ...declarationProperties },
          ['accounts', 'from', 'to', 'note'],
        ),
        response: { 201: Declared, ...errors },
      },
    },
    async (request, reply) => {
      const { accounts, note } = request.body;
      const declared = await declareFromAccounts(
        db,
        keys,
        declarerOf(request),
        { accounts, note, ...dates(request.body) },
        clock.now(),
      );
      return reply.code(201).send(declared);
    },
  );

  app.post<{ Body: { lines: string[]; from: string; to: string; detectedAt?: string; note: string } }>(
    '/api/v1/incidents/leaked-file',
    {
      preHandler: fresh,
      schema: {
        tags: ['incidents'],
        summary:
          'Security officers: declare an incident from a leaked file (CSV of NIR, agency ids, or names + birth dates)',
        description:
          `A CSV file as its \`lines\` (no line break inside a line: every request string is free of control ` +
          `characters), a header first (at most ${MAX_LEAK_ROWS} rows, 1 MiB): a \`nir\`, \`agencyId\`, or \`lastName\` + ` +
          '`firstNames` + `birthDate` column, and any other identity columns. Rows are matched through the blind ' +
          "indexes; the match is an audit event of the declaring officer ('incident.match'). A person's fields are " +
          'the identity columns filled in their rows. Bad rows: 400 listing each by line and field, nothing opened. ' +
          'Needs a fresh second factor.',
        body: obj(
          {
            lines: {
              type: 'array',
              minItems: 2,
              maxItems: MAX_LEAK_ROWS + 1,
              items: { type: 'string', maxLength: 10_000 },
              description: "The file's lines, header first, comma- or semicolon-separated",
            },
            ...declarationProperties,
          },
          ['lines', 'from', 'to', 'note'],
        ),
        response: { 201: DeclaredFromFile, ...errors },
      },
    },
    async (request, reply) => {
      const { lines, note } = request.body;
      const declared = await declareFromFile(
        db,
        keys,
        declarerOf(request),
        { csv: lines.join('\n'), note, ...dates(request.body) },
        clock.now(),
      );
      return reply.code(201).send(declared);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/incidents/:id/draft',
    {
      preHandler: staff,
      schema: {
        tags: ['incidents'],
        summary: "Security officers and the DPO: the authority's notification (GDPR art. 33) as JSON",
        description:
          'Every item of art. 33(3) and of the CNIL form: generated from the incident and the configuration, with ' +
          "the DPO's edits. `missing`: required items still empty.",
        params: idParams,
        response: { 200: Draft, ...errors },
      },
    },
    (request) => readDraft(db, request.staff!.account.role, request.params.id, controller, clock.now()),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/incidents/:id/draft/pdf',
    {
      preHandler: staff,
      schema: {
        tags: ['incidents'],
        summary: "Security officers and the DPO: the authority's notification (GDPR art. 33) as PDF",
        params: idParams,
        response: {
          200: { description: 'The draft as a PDF (application/pdf)', type: 'string', format: 'binary' },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const draft = await readDraft(
        db,
        request.staff!.account.role,
        request.params.id,
        controller,
        clock.now(),
      );
      const pdf = await draftPdf(draft);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="notification-art33-${draft.incidentId}.pdf"`)
        .send(pdf);
    },
  );

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/api/v1/incidents/:id/draft',
    {
      preHandler: staff,
      schema: {
        tags: ['incidents'],
        summary: 'The DPO: edit items of the notification draft',
        description:
          'Any subset of the editable items; null resets an item to its generated value. Errors name the field. ' +
          'Refused once sent (409). Other roles: 403.',
        params: idParams,
        body: obj(editProperties, []),
        response: { 200: Draft, ...errors, 409: problemResponse('Already sent') },
      },
    },
    (request) =>
      editDraft(
        db,
        { accountId: request.staff!.account.id, role: request.staff!.account.role },
        request.params.id,
        request.body,
        controller,
        clock.now(),
      ),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/incidents/:id/draft/sent',
    {
      preHandler: fresh,
      schema: {
        tags: ['incidents'],
        summary: 'The DPO: mark the notification sent to the authority (now)',
        description:
          "Records the date as the incident's `authorityNotifiedAt` (the 72-hour clock stops). Refused with 400 while " +
          'a required item is missing (`issues` names each; past 72 hours, `delayReasons` is required), with 409 the ' +
          'second time. Needs a fresh second factor.',
        params: idParams,
        response: { 200: Draft, ...errors, 409: problemResponse('Already sent') },
      },
    },
    (request) =>
      markDraftSent(
        db,
        { accountId: request.staff!.account.id, role: request.staff!.account.role },
        request.params.id,
        controller,
        clock.now(),
      ),
  );
};
