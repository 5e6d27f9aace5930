/**
 * "My notices" in the person's portal (docs/PORTAL.md; GDPR art. 34; issue 12 item 5): the notices
 * of the incidents that concern the person, whatever channel they went by, each downloadable as the
 * exact signed text (c2sp.org signed note) the person can keep and verify — in the page, offline
 * (`rempart notice verify`) or at /verifier, against the published keys (GET /api/v1/notices/keys).
 * Read in the person's own transaction (src/notify/notices-read.ts, migration 0022): another
 * person's notice id answers 404 exactly as an unknown one.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { noticeForPerson, noticesForPerson } from '../../notify/notices-read.ts';
import type { RegistryKeys } from '../../registry/persons.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj } from '../schemas.ts';

const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const NoticeSummary = obj({
  id: string,
  incidentId: string,
  channel: { type: 'string', enum: ['email', 'sms', 'letter', 'portal'] },
  createdAt: dateTime,
  sentAt: { type: ['string', 'null'], format: 'date-time' },
  fields: { type: 'array', items: string },
});

const errors = {
  401: problemResponse('Not logged in to the portal'),
};

/** Registers the two routes on the portal's app, behind its person session check. */
export function portalNoticesRoutes(
  app: FastifyInstance,
  options: { db: Db; keys: RegistryKeys; requirePerson: preHandlerAsyncHookHandler },
): void {
  const { db, keys, requirePerson } = options;

  app.get(
    '/api/v1/portal/notices',
    {
      preHandler: requirePerson,
      schema: {
        tags: ['portal'],
        operationId: 'getMyNotices',
        summary: 'My notices: one per incident that concerns me, newest first',
        description:
          'Each names the incident, its channel (email, letter, SMS, or the portal only), when it was ' +
          'written and sent, and exactly the fields of mine it says were exposed. The signed text is ' +
          'downloaded from /api/v1/portal/notices/{id}.',
        response: { 200: obj({ notices: { type: 'array', items: NoticeSummary } }), ...errors },
      },
    },
    async (request) => {
      const notices = await noticesForPerson(db, keys, request.person!.personId);
      return {
        notices: notices.map((n) => ({
          id: n.id,
          incidentId: n.incidentId,
          channel: n.channel,
          createdAt: n.createdAt,
          sentAt: n.sentAt,
          fields: n.fields,
        })),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/portal/notices/:id',
    {
      preHandler: requirePerson,
      schema: {
        tags: ['portal'],
        operationId: 'downloadMyNotice',
        summary: 'One of my notices: the signed text, exactly as sent (a text file to keep)',
        description:
          'A c2sp.org signed note (Ed25519): the notice, a blank line, its signature lines. It verifies ' +
          'against the keys of GET /api/v1/notices/keys, with `rempart notice verify`, or at /verifier. ' +
          'A notice that is not mine answers 404 like one that does not exist.',
        params: idParams,
        response: {
          200: {
            description: 'The signed notice (UTF-8 text, lines ending with \\n)',
            content: { 'text/plain': { schema: string } },
          },
          400: problemResponse('The id is not a UUID'),
          404: problemResponse('No notice of mine has this id'),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const notice = await noticeForPerson(db, keys, request.person!.personId, request.params.id);
      if (!notice) throw new AppError('not_found', 'no such notice');
      reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="avis-${notice.id}.txt"`);
      return notice.signedText;
    },
  );
}
