/**
 * POST /api/v1/messages/verify: the public check of a message's code (T6; src/notify/verify-message.ts).
 * No session: a person who received a suspicious mail, SMS or letter checks it before answering.
 * The answer carries the message's kind, channel and date, never whom it went to.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { type VerifyLimits, verifyMessageCode } from '../../notify/verify-message.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj, str } from '../schemas.ts';

export interface MessagesRoutesOptions {
  db: Db;
  clock: Clock;
  /** The throttle's limits (default: 10 per address and 600 overall per minute). */
  limits?: VerifyLimits;
}

/** Registers the route. */
export const messagesRoutes: FastifyPluginAsync<MessagesRoutesOptions> = async (
  app,
  { db, clock, limits },
) => {
  app.post<{ Body: { code: string } }>(
    '/api/v1/messages/verify',
    {
      schema: {
        tags: ['messages'],
        operationId: 'verifyMessage',
        summary:
          'Checks the verification code a message carries: genuine or not, with its kind, channel and date',
        description:
          'Every message Rempart sends (mail, SMS, letter, portal) carries a code such as `7QK4-M2ZD-9XAB`. ' +
          'Case, spaces and hyphens do not matter. A malformed code and an unknown one get the same ' +
          'answer, `{genuine: false}`. Nothing personal is ever answered. Throttled per source address ' +
          'and overall (429 with Retry-After).',
        security: [],
        body: obj({ code: str(64) }),
        response: {
          200: {
            description:
              'Whether the code belongs to a message Rempart sent; if so, its kind, channel and date',
            oneOf: [
              obj({
                genuine: { type: 'boolean', const: true },
                kind: { type: 'string' },
                channel: { type: 'string', enum: ['email', 'sms', 'letter', 'portal', 'in_app'] },
                sentAt: { type: 'string', format: 'date-time' },
              }),
              obj({ genuine: { type: 'boolean', const: false } }),
            ],
          },
          400: problemResponse('The body is not `{code: string}` (at most 64 characters); `field` names it'),
          429: problemResponse(
            'Too many codes checked from this source or overall: try again after Retry-After',
          ),
        },
      },
    },
    async (request) => {
      const result = await verifyMessageCode(
        db,
        { code: request.body.code, sourceAddress: request.ip, now: clock.now() },
        limits,
      );
      return result.genuine ? { ...result, sentAt: result.sentAt.toISOString() } : { genuine: false };
    },
  );
};
