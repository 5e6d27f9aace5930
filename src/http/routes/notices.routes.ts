/**
 * The public check of signed notices (T6; src/notify/verify-notice.ts): POST /api/v1/notices/verify
 * answers whether a pasted notice is genuine and unaltered, and GET /api/v1/notices/keys publishes
 * the verifier keys (current and retired) for anyone who checks offline (`rempart notice verify
 * --keys`, or any signed-note tool). No session: the person who received a notice checks it.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import type { VerifyLimits } from '../../notify/verify-message.ts';
import {
  checkNotice,
  NOTICE_LINES,
  NOTICE_MAX_CHARS,
  type NoticeKeySource,
  noticeFromLines,
  type PublishedNoticeKey,
} from '../../notify/verify-notice.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface NoticesRoutesOptions {
  db: Db;
  clock: Clock;
  /** The notice keys (the keyring's); none: no notice verifies and no key is published. */
  keys?: NoticeKeySource;
  /** The throttle's limits (default: the message check's). */
  limits?: VerifyLimits;
}

const keySchema = obj({
  name: { type: 'string' },
  key: { type: 'string' },
  current: { type: 'boolean' },
  createdAt: { type: 'string', format: 'date-time' },
});

/** Registers the two routes. */
export const noticesRoutes: FastifyPluginAsync<NoticesRoutesOptions> = async (
  app,
  { db, clock, keys, limits },
) => {
  const published = (): Promise<PublishedNoticeKey[]> => (keys ? keys() : Promise.resolve([]));

  app.post<{ Body: { lines: string[] } }>(
    '/api/v1/notices/verify',
    {
      // A notice is a few kilobytes; a larger body is refused before it is parsed.
      bodyLimit: 4 * NOTICE_MAX_CHARS,
      schema: {
        tags: ['notices'],
        operationId: 'verifyNotice',
        summary: 'Checks a signed notice: genuine and unaltered, by which key, with its kind and date',
        description:
          'The notice as received, as its lines (the text split at its line breaks, blank lines and ' +
          'signature lines included: c2sp.org/signed-note, Ed25519), since no API field holds a line ' +
          `break. At most ${NOTICE_LINES} lines and ${NOTICE_MAX_CHARS} characters in all. Trailing blank lines do not ` +
          'matter; any other change makes it not genuine. ' +
          'A genuine notice whose verification code is registered also gives its kind and date. ' +
          'Nothing personal is answered. Throttled per source address and overall (429 with Retry-After).',
        security: [],
        body: obj({
          lines: {
            type: 'array',
            maxItems: NOTICE_LINES,
            items: { type: 'string', maxLength: NOTICE_MAX_CHARS },
          },
        }),
        response: {
          200: {
            description: 'Whether a published notice key signed exactly this text',
            oneOf: [
              obj(
                {
                  genuine: { type: 'boolean', const: true },
                  signedBy: { type: 'string' },
                  sentAt: { type: 'string', format: 'date-time' },
                  kind: { type: 'string' },
                },
                ['genuine', 'signedBy'],
              ),
              obj({ genuine: { type: 'boolean', const: false }, signedBy: { type: 'null' } }),
            ],
          },
          400: problemResponse(
            'The body is not `{lines: string[]}` within its limits, or a line holds a control character; `field` names it',
          ),
          429: problemResponse(
            'Too many notices checked from this source or overall: try again after Retry-After',
          ),
        },
      },
    },
    async (request) => {
      const result = await checkNotice(
        db,
        { notice: noticeFromLines(request.body.lines), sourceAddress: request.ip, now: clock.now() },
        await published(),
        limits,
      );
      if (!result.genuine) return result;
      return { ...result, ...(result.sentAt ? { sentAt: result.sentAt.toISOString() } : {}) };
    },
  );

  app.get(
    '/api/v1/notices/keys',
    {
      schema: {
        tags: ['notices'],
        operationId: 'noticeKeys',
        summary: 'The published notice verifier keys, current and retired',
        description:
          'Every key that ever signed notices, by name: the current one signs new notices, retired ones ' +
          'still verify older notices. Each `key` is a c2sp.org/signed-note verifier key. Save the answer ' +
          'to check notices offline (`rempart notice verify FILE --keys keys.json`).',
        security: [],
        response: { 200: obj({ keys: { type: 'array', items: keySchema } }) },
      },
    },
    async () => ({ keys: await published() }),
  );
};
