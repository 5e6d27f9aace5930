/**
 * Four-eyes exports (T3; docs/EXPORTS.md): a counselor requests an export (purpose, fields, filter,
 * recipient organisation); the DPO or a manager of the counselor's organisation approves or rejects
 * it from a session whose second factor is fresh; the DPO registers recipients' age keys. Requests
 * and lists carry no person. Closed response schemas keep anything else from leaving.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { GateDeps } from '../../access/gate.ts';
import { VIEW_FIELDS } from '../../access/policy.ts';
import { PURPOSE_IDS } from '../../access/purposes.ts';
import { AppError } from '../../errors.ts';
import { decideExport } from '../../exports/decision.ts';
import { downloadExport, produceExport } from '../../exports/file.ts';
import { exportOptions } from '../../exports/options.ts';
import { registerRecipient } from '../../exports/recipients.ts';
import { EXPORT_STATUSES, type ExportInput, listExports, requestExport } from '../../exports/requests.ts';
import { traceLeak } from '../../exports/trace.ts';
import { MAX_LEAK_ROWS } from '../../incidents/leaked-file.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj } from '../schemas.ts';
import { gateCtx } from './persons.routes.ts';

const uuid = { type: 'string', format: 'uuid' } as const;
const date = { type: 'string', format: 'date' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const field = { type: 'string', enum: VIEW_FIELDS } as const;

const Filter = obj(
  {
    statuses: {
      type: 'array',
      minItems: 1,
      maxItems: EXPORT_STATUSES.length,
      items: { type: 'string', enum: EXPORT_STATUSES },
    },
    registeredFrom: { ...date, description: 'A registration period started on or after this day' },
    registeredTo: { ...date, description: 'A registration period started on or before this day' },
  },
  [],
);

const ExportRequestBody = obj({
  purpose: { type: 'string', enum: PURPOSE_IDS },
  fields: {
    type: 'array',
    minItems: 1,
    maxItems: VIEW_FIELDS.length,
    items: field,
    description: 'Among the view fields of your role for this purpose; the file has these columns only',
  },
  filter: { ...Filter, description: 'Persons of your scope; by status and registration dates only' },
  recipientOrganisationId: uuid,
});

const Export = obj({
  id: uuid,
  purpose: { type: 'string', enum: PURPOSE_IDS },
  fields: { type: 'array', items: field },
  filter: Filter,
  requestedBy: uuid,
  organisationId: uuid,
  recipientOrganisationId: uuid,
  requestedAt: dateTime,
  state: { type: 'string', enum: ['pending', 'approved', 'rejected', 'produced', 'expired'] },
  decidedBy: nullable(uuid),
  decidedAt: nullable(dateTime),
  decisionNote: { type: ['string', 'null'] },
  producedAt: nullable(dateTime),
  expiresAt: nullable(dateTime),
  rowCount: { type: ['integer', 'null'] },
});

const ExportListItem = obj({
  ...Export.properties,
  requesterLogin: { type: 'string' },
  requesterName: { type: 'string' },
  recipientName: { type: 'string' },
});

const ORGANISATION_KINDS = ['agency', 'cap_emploi', 'mission_locale', 'training_body', 'subcontractor'];

const ExportOptions = obj({
  purposes: {
    type: 'array',
    items: obj({
      id: { type: 'string', enum: PURPOSE_IDS },
      label: obj({ fr: { type: 'string' }, en: { type: 'string' } }),
      fields: { type: 'array', items: field, description: 'The fields your role may export for it' },
    }),
    description: 'The purposes your role and organisation may export (empty: none)',
  },
  recipients: {
    type: 'array',
    items: obj({
      id: uuid,
      name: { type: 'string' },
      kind: { type: 'string', enum: ORGANISATION_KINDS },
      keyRegistered: { type: 'boolean', description: 'A file is made only for a registered age key' },
    }),
  },
});

const DecisionBody = obj({ note: { type: 'string', maxLength: 500 } }, []);

const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  403: problemResponse(
    'Not allowed for your role, organisation or purpose; a decision by the requester or an account they provisioned; a stale second factor (step_up_required); or the guard has suspended the account',
  ),
  404: problemResponse('No such export open to you'),
  409: problemResponse('The export is not in a state that allows this'),
  429: problemResponse('Throttled by the guard: try again after Retry-After seconds'),
};

/** Registers the routes. */
export const exportsRoutes: FastifyPluginAsync<GateDeps> = async (app, deps) => {
  const staff = app.requireStaff({ assurance: 'mfa' });
  const fresh = app.requireStaff({ assurance: 'mfa', fresh: true });

  app.post<{ Body: ExportInput }>(
    '/api/v1/exports',
    {
      preHandler: staff,
      schema: {
        operationId: 'requestExport',
        tags: ['exports'],
        summary: 'Request an export of persons of your scope to a recipient organisation',
        description:
          'Nothing is read yet: the file is made once a different person (the DPO or a manager of your ' +
          'organisation) approves the request. Fields are limited to what your role may read for the purpose.',
        body: ExportRequestBody,
        response: { 201: obj({ export: Export }), ...errors },
      },
    },
    async (request, reply) => {
      const created = await requestExport(deps, gateCtx(request), request.body);
      reply.code(201);
      return { export: created };
    },
  );

  app.get(
    '/api/v1/exports',
    {
      preHandler: staff,
      schema: {
        operationId: 'listExports',
        tags: ['exports'],
        summary: 'Exports you requested; a manager’s: their organisation’s; the DPO’s: all',
        response: { 200: obj({ exports: { type: 'array', items: ExportListItem } }), ...errors },
      },
    },
    async (request) => ({ exports: await listExports(deps, gateCtx(request)) }),
  );

  app.get(
    '/api/v1/exports/options',
    {
      preHandler: staff,
      schema: {
        operationId: 'exportOptions',
        tags: ['exports'],
        summary:
          'What an export request may name: your purposes with their exportable fields, and the recipient organisations',
        description:
          'Counselors, partner counselors, managers and the DPO. No person: purposes, field names, ' +
          'organisations and whether each has registered an age key.',
        response: { 200: ExportOptions, ...errors },
      },
    },
    async (request) => exportOptions(deps, gateCtx(request)),
  );

  for (const verb of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } }>(
      `/api/v1/exports/:id/${verb}`,
      {
        preHandler: fresh,
        schema: {
          operationId: `${verb}Export`,
          tags: ['exports'],
          summary: `${verb === 'approve' ? 'Approve' : 'Reject'} an export (DPO, or a manager of the requester’s organisation)`,
          description:
            'Needs a second factor verified within STEP_UP_MINUTES. Refused (403, audited, counted by the guard) ' +
            'to the requester and to an account the requester provisioned in the last 7 days.',
          params: idParams,
          body: DecisionBody,
          response: { 200: obj({ export: Export }), ...errors },
        },
      },
      async (request) => ({
        export: await decideExport(deps, gateCtx(request), request.params.id, {
          approve: verb === 'approve',
          ...(request.body?.note !== undefined ? { note: request.body.note } : {}),
        }),
      }),
    );
  }

  app.post<{ Params: { id: string }; Body: { purpose: string } }>(
    '/api/v1/exports/:id/produce',
    {
      preHandler: staff,
      schema: {
        operationId: 'produceExport',
        tags: ['exports'],
        summary:
          'The requester makes an approved export’s file (once): through the gate, encrypted for the recipient',
        description:
          'Every row is read through the gate under the purpose declared (the export’s): one audit event names ' +
          'each person and the exact fields, with the export id. The file is CSV (cells made inert for ' +
          'spreadsheets) with canary rows unique to this export, in a row order keyed by the export, ' +
          'encrypted with age to the recipient organisation’s registered key. An export larger than ' +
          'REMPART_EXPORT_LARGE_ROWS rows is refused outside the organisation’s working hours.',
        params: idParams,
        body: obj({ purpose: { type: 'string', enum: PURPOSE_IDS } }),
        response: { 200: obj({ export: Export }), ...errors },
      },
    },
    async (request) => ({
      export: await produceExport(deps, gateCtx(request), request.params.id, request.body.purpose),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/exports/:id/file',
    {
      preHandler: staff,
      schema: {
        operationId: 'downloadExport',
        tags: ['exports'],
        summary: 'Download an export’s age-encrypted file (requester or DPO; audited; until it expires)',
        params: idParams,
        response: {
          200: { type: 'string', format: 'binary', description: 'The age file (application/octet-stream)' },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { file, name } = await downloadExport(deps, gateCtx(request), request.params.id);
      reply.header('content-type', 'application/octet-stream');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      reply.header('cache-control', 'no-store');
      return reply.send(file);
    },
  );

  const Candidate = obj({
    exportId: uuid,
    recipientOrganisationId: uuid,
    recipientName: { type: 'string' },
    requestedBy: uuid,
    approvedBy: nullable(uuid),
    producedAt: nullable(dateTime),
    canaries: { type: 'integer' },
    rowsMatched: { type: 'integer' },
    exportRows: { type: 'integer' },
  });
  const column = { type: ['integer', 'null'] } as const;
  app.post<{ Body: { lines: string[] } }>(
    '/api/v1/exports/trace',
    {
      preHandler: fresh,
      schema: {
        operationId: 'traceLeak',
        tags: ['exports'],
        summary: 'Security officers: name the export a leaked CSV came from; opens an incident for it',
        description:
          'The file as its `lines` (header first; headers are not trusted). Columns are recognised by their ' +
          'values (NIR, agency id, name + first name + birth date); canary rows name their export, and the ' +
          'persons matched are compared with every export’s audited rows. When one export is named, an ' +
          'incident opens whose scope is that export’s rows with their fields. Needs a fresh second factor.',
        body: obj({
          lines: {
            type: 'array',
            minItems: 2,
            maxItems: MAX_LEAK_ROWS + 1,
            items: { type: 'string', maxLength: 10_000 },
          },
        }),
        response: {
          200: obj({
            rows: { type: 'integer' },
            columns: obj({
              nir: column,
              agencyId: column,
              nameBirth: { anyOf: [{ type: 'array', items: { type: 'integer' } }, { type: 'null' }] },
            }),
            matchedPersons: { type: 'integer' },
            canaryRows: { type: 'integer' },
            exportId: nullable(uuid),
            basis: { type: ['string', 'null'], enum: ['canary', 'rows', null] },
            candidates: { type: 'array', items: Candidate },
            incidentId: nullable(uuid),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const auth = request.staff!;
      if (auth.account.role !== 'security_officer')
        throw new AppError('forbidden', 'leaks are traced by security officers');
      return traceLeak(deps.db, deps.keys, request.body.lines.join('\n'), deps.clock.now(), {
        accountId: auth.account.id,
        organisationId: auth.account.organisationId,
        role: auth.account.role,
        sessionIdHash: auth.session.idHash,
        requestId: request.id,
        sourceAddress: request.ip,
      });
    },
  );

  app.post<{ Body: { organisationId: string; ageRecipient: string } }>(
    '/api/v1/exports/recipients',
    {
      preHandler: fresh,
      schema: {
        operationId: 'registerExportRecipient',
        tags: ['exports'],
        summary: 'DPO: register (or replace) an organisation’s age public key for exports',
        body: obj({
          organisationId: uuid,
          ageRecipient: {
            type: 'string',
            minLength: 10,
            maxLength: 2100,
            pattern: '^age1[02-9ac-hj-np-z]+$',
          },
        }),
        response: { 200: obj({ organisationId: uuid, registeredAt: dateTime }), ...errors },
      },
    },
    async (request) => {
      if (request.staff!.account.role !== 'dpo')
        throw new AppError('forbidden', 'export recipients are registered by the DPO');
      return registerRecipient(
        deps,
        gateCtx(request),
        request.body.organisationId,
        request.body.ageRecipient,
      );
    },
  );
};
