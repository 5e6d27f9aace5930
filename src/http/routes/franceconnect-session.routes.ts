/**
 * The CSRF handoff of a portal session opened by FranceConnect (docs/FRANCECONNECT.md). The
 * callback opens the session in FranceConnect's cross-site redirect, so it cannot answer the token
 * in a body to the page: it leaves it in a short-lived cookie that only the route below reads, once,
 * for the session it belongs to (as ProConnect's `rempart_csrf_handoff` for staff sessions).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import {
  PERSON_SESSION_COOKIE,
  personCsrfMatches,
  startPersonSession,
  usePersonSession,
} from '../../portal/sessions.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

/** The cookie holding the new session's CSRF token until the portal's page takes it. */
export const PORTAL_CSRF_HANDOFF_COOKIE = 'rempart_portal_csrf_handoff';
/** The one route that reads it. */
export const FRANCECONNECT_SESSION_PATH = '/api/v1/portal/franceconnect/session';

/**
 * SameSite=Strict: the page reads it by a same-origin request after the redirect, never a
 * cross-site one (T3, CSRF); HttpOnly keeps it from scripts; its path keeps it off every other
 * request; two minutes are enough for the page to load.
 */
const handoffCookie = {
  path: FRANCECONNECT_SESSION_PATH,
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
} as const;

export interface FranceConnectSessionOptions {
  db: Db;
  config: Pick<Config, 'portal'>;
  clock: Clock;
}

/** The FranceConnect routes' `openSession`: opens the person's portal session and leaves its CSRF token for the handoff. */
export function openFranceConnectSession(options: FranceConnectSessionOptions) {
  const { db, config, clock } = options;
  return async (reply: FastifyReply, personId: string): Promise<void> => {
    const opened = await startPersonSession(db, reply, personId, 'franceconnect', clock.now(), config.portal);
    reply.setCookie(PORTAL_CSRF_HANDOFF_COOKIE, opened.csrfToken, { ...handoffCookie, maxAge: 120 });
  };
}

/** Registers the handoff route. */
export const franceconnectSessionRoutes: FastifyPluginAsync<FranceConnectSessionOptions> = async (
  app,
  options,
) => {
  const { db, config, clock } = options;
  app.get(
    FRANCECONNECT_SESSION_PATH,
    {
      schema: {
        tags: ['portal'],
        operationId: 'takeFranceConnectSession',
        summary: 'The CSRF token of the portal session a FranceConnect login just opened (once)',
        description:
          "After FranceConnect's redirect to the portal, the page reads here the CSRF token of its new person " +
          'session, which the callback left in a short-lived HttpOnly cookie limited to this path; the cookie is ' +
          "cleared. 404 not_found when there is none, or when it is not this session's. Person session only " +
          '(the portal cookie); same-origin only, like every API route.',
        response: {
          200: obj({ csrfToken: { type: 'string' } }),
          401: problemResponse('Not logged in to the portal'),
          404: problemResponse('No token to hand over (not_found)'),
        },
      },
    },
    async (request, reply) => {
      const raw = request.cookies[PERSON_SESSION_COOKIE];
      if (!raw) throw new AppError('unauthenticated', 'log in to your space first');
      const session = await usePersonSession(db, raw, clock.now(), config.portal);
      if (!session) throw new AppError('unauthenticated', 'the session has ended: log in again');
      const token = request.cookies[PORTAL_CSRF_HANDOFF_COOKIE];
      reply.clearCookie(PORTAL_CSRF_HANDOFF_COOKIE, handoffCookie);
      if (!token || !personCsrfMatches(session, token)) {
        throw new AppError('not_found', 'no session token to hand over');
      }
      return { csrfToken: token };
    },
  );
};
