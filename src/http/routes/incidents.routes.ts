/**
 * The list of incidents (docs/DESIGN.md section 9), for security officers and the DPO: what was
 * opened, when, for which accounts and window, and how many persons and fields each scope counts.
 * No person id leaves here: an incident's persons are read one incident at a time through
 * `GET /api/v1/incidents/{id}` (guard.routes.ts), where each read is an audit event.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../../db/types.ts';
import { INCIDENTS_LIMIT, listIncidents } from '../../incidents/incidents.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface IncidentsRoutesOptions {
  db: Db;
}

const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const IncidentSummary = obj({
  id: { type: 'string', format: 'uuid' },
  openedAt: dateTime,
  openedBy: string,
  kind: string,
  status: string,
  accounts: { type: 'array', items: string },
  windowFrom: dateTime,
  windowTo: dateTime,
  note: { type: ['string', 'null'] },
  personCount: { type: 'integer' },
  events: { type: 'integer' },
  fieldCounts: { type: 'object', additionalProperties: { type: 'integer' } },
});

/** Registers the routes. */
export const incidentsRoutes: FastifyPluginAsync<IncidentsRoutesOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/incidents',
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['guard'],
        summary: 'Security officers and the DPO: the incidents, newest first, with their counts',
        description:
          `At most ${INCIDENTS_LIMIT}. Counts per field and of persons, no person id: the scope's persons ` +
          'are read with GET /api/v1/incidents/{id}, an audited read. Other roles: 403 forbidden.',
        response: {
          200: obj({ incidents: { type: 'array', items: IncidentSummary } }),
          401: problemResponse('Not logged in'),
          403: problemResponse('Not allowed for your role'),
        },
      },
    },
    async (request) => ({ incidents: await listIncidents(db, request.staff!.account.role) }),
  );
};
