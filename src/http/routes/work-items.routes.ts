/**
 * Subcontractor work items (T4; docs/API.md, "Work items"): a counselor hands one document for one
 * person to a subcontractor, the subcontractor's manager assigns it to an operator, the operator
 * opens it (through the gate: the task's fields only, while assigned and before the deadline) and
 * marks it done. Lists hold the item's pseudonym, task, deadline and state: no person, not even an
 * id. There is no search and no bulk or export route for subcontractors. Identifiers of persons
 * travel in bodies; the URLs carry item ids only. Closed response schemas: a field the gate did not
 * allow cannot slip out.
 */
import type { FastifyPluginAsync } from 'fastify';
import { type GateDeps, passGate } from '../../access/gate.ts';
import { WORK_ITEM_FIELDS } from '../../access/policy.ts';
import { PURPOSE_IDS } from '../../access/purposes.ts';
import {
  assignWorkItem,
  listWorkItems,
  workItemSubcontractors,
  workTasksFor,
} from '../../access/work-items.ts';
import { WORK_OUTCOMES, WORK_TASK_IDS } from '../../access/work-tasks.ts';
import type { Role } from '../../identity/accounts.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj, str } from '../schemas.ts';
import { gateCtx } from './persons.routes.ts';

const uuid = { type: 'string', format: 'uuid' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const task = { type: 'string', enum: WORK_TASK_IDS, description: 'The task (GET /api/v1/work-items/tasks)' };
const Address = obj({ line: str(200), postalCode: str(5), city: str(100) });

/** An item in a list: its pseudonym (reference), task, state and deadline; nothing of the person. */
const ItemSummary = obj({
  id: uuid,
  reference: { type: 'string', description: 'The item’s pseudonym (random, per item)' },
  task,
  state: {
    type: 'string',
    enum: ['open', 'assigned', 'done', 'closed'],
    description: 'closed: its deadline passed before it was done; a closed item shows nothing',
  },
  deadline: dateTime,
  createdAt: dateTime,
  subcontractor: obj({ id: uuid, name: { type: 'string' } }),
  assignedTo: { anyOf: [obj({ id: uuid, displayName: { type: 'string' } }), { type: 'null' }] },
  outcome: { type: ['string', 'null'], enum: [...WORK_OUTCOMES, null] },
});

/** The person as an item shows them: only its task's fields are present. */
const ItemPerson = obj(
  {
    initials: { type: 'string' },
    birthYear: { type: 'string' },
    agencyId: { type: 'string' },
    lastName: { type: 'string' },
    firstNames: { type: 'string' },
    address: { anyOf: [Address, { type: 'null' }] },
  },
  [],
);

const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  403: problemResponse(
    'Not allowed for your role, organisation, purpose or task; or the guard asks for a fresh second factor (step_up_required) or has suspended the account (account_suspended)',
  ),
  404: problemResponse(
    'No such work item open to you (unknown, not assigned to you, another organisation’s, done and closed look the same)',
  ),
  429: problemResponse('Throttled by the guard: try again after Retry-After seconds'),
};

/** Registers the routes. */
export const workItemsRoutes: FastifyPluginAsync<GateDeps> = async (app, deps) => {
  const staff = app.requireStaff({ assurance: 'mfa' });

  app.get(
    '/api/v1/work-items/tasks',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'listWorkTasks',
        summary:
          'The tasks a work item can be, the fields each shows its operator, and the purposes for which you may hand it over',
        response: {
          200: obj({
            tasks: {
              type: 'array',
              items: obj({
                id: task,
                label: obj({ fr: { type: 'string' }, en: { type: 'string' } }),
                description: { type: 'string' },
                fields: { type: 'array', items: { type: 'string', enum: WORK_ITEM_FIELDS } },
                pseudonymised: { type: 'boolean' },
                maxDays: { type: 'integer' },
                purposes: {
                  type: 'array',
                  items: { type: 'string', enum: PURPOSE_IDS },
                  description: 'The purposes for which your role may hand this task over (empty: none)',
                },
              }),
            },
          }),
          ...errors,
        },
      },
    },
    async (request) => ({ tasks: workTasksFor(request.staff!.account.role as Role) }),
  );

  app.get(
    '/api/v1/work-items/subcontractors',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'listSubcontractors',
        summary: 'Counselors: the subcontractors a document can be handed to',
        response: {
          200: obj({
            subcontractors: {
              type: 'array',
              items: obj({ id: uuid, code: { type: 'string' }, name: { type: 'string' } }),
            },
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      subcontractors: await workItemSubcontractors(deps.db, deps.clock, gateCtx(request)),
    }),
  );

  app.get(
    '/api/v1/work-items',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'listWorkItems',
        summary:
          'The work items you deal with: operators their own, a subcontractor’s managers their organisation’s, counselors their organisation’s',
        description:
          'Live items first (soonest deadline first), then the others; at most 200. No personal data: the reference is the item’s pseudonym.',
        response: { 200: obj({ items: { type: 'array', items: ItemSummary } }), ...errors },
      },
    },
    async (request) => ({ items: await listWorkItems(deps.db, deps.clock, gateCtx(request)) }),
  );

  app.post<{
    Body: { purpose: string; personId: string; task: string; subcontractorId: string; deadline: string };
  }>(
    '/api/v1/work-items',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'createWorkItem',
        summary: 'Counselors: hand one document for a person of your scope to a subcontractor',
        description:
          'The task fixes the fields the operator will see; the deadline ends the item (at most the task’s maxDays away). Through the gate: audited, counted by the guard.',
        body: obj({
          purpose: { type: 'string', enum: PURPOSE_IDS, description: 'Why the document is processed' },
          personId: uuid,
          task,
          subcontractorId: uuid,
          deadline: { ...dateTime, description: 'When the item closes (ISO 8601)' },
        }),
        response: {
          201: obj({
            item: obj({
              id: uuid,
              reference: { type: 'string' },
              task,
              state: { type: 'string', enum: ['open'] },
              deadline: dateTime,
              subcontractorId: uuid,
            }),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const created = await passGate(deps, gateCtx(request), {
        action: 'work_item.create',
        purpose: body.purpose,
        personId: body.personId,
        task: body.task,
        subcontractorId: body.subcontractorId,
        deadline: new Date(body.deadline),
      });
      return reply.code(201).send(created);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/work-items/:id',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'openWorkItem',
        summary: 'Operators: open a work item assigned to you, while it is live (the task’s fields only)',
        description:
          'Through the gate, purpose work_item: audited with the person and the exact fields, counted by the guard. Not assigned to you, another organisation’s, done, past its deadline or unknown: 404, a refusal the guard counts.',
        params: idParams,
        response: {
          200: obj({
            item: obj({
              id: uuid,
              reference: { type: 'string' },
              task,
              state: { type: 'string', enum: ['assigned'] },
              deadline: dateTime,
              person: ItemPerson,
            }),
            fields: { type: 'array', items: { type: 'string', enum: WORK_ITEM_FIELDS } },
          }),
          ...errors,
        },
      },
    },
    (request) =>
      passGate(deps, gateCtx(request), {
        action: 'work_item.view',
        purpose: 'work_item',
        itemId: request.params.id,
      }),
  );

  app.post<{ Params: { id: string }; Body: { operatorId: string } }>(
    '/api/v1/work-items/:id/assign',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'assignWorkItem',
        summary:
          'A subcontractor’s managers: assign a live item of your organisation to one of its operators',
        params: idParams,
        body: obj({ operatorId: uuid }),
        response: {
          200: obj({
            item: obj({ id: uuid, state: { type: 'string', enum: ['assigned'] }, operatorId: uuid }),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      item: await assignWorkItem(
        deps.db,
        deps.clock,
        gateCtx(request),
        request.params.id,
        request.body.operatorId,
      ),
    }),
  );

  app.post<{ Params: { id: string }; Body: { outcome: string } }>(
    '/api/v1/work-items/:id/done',
    {
      preHandler: staff,
      schema: {
        tags: ['work-items'],
        operationId: 'completeWorkItem',
        summary: 'Operators: mark a live item assigned to you done; it shows nothing afterwards',
        params: idParams,
        body: obj({
          outcome: {
            type: 'string',
            enum: WORK_OUTCOMES,
            description: 'processed, or rejected (unreadable, not this person’s)',
          },
        }),
        response: {
          200: obj({
            item: obj({
              id: uuid,
              state: { type: 'string', enum: ['done'] },
              outcome: { type: 'string', enum: WORK_OUTCOMES },
            }),
          }),
          ...errors,
        },
      },
    },
    (request) =>
      passGate(deps, gateCtx(request), {
        action: 'work_item.complete',
        purpose: 'work_item',
        itemId: request.params.id,
        outcome: request.body.outcome,
      }),
  );
};
