/**
 * Staff authentication for routes: the session cookie, the CSRF token on state-changing requests,
 * the assurance level (a second factor for anything beyond enrolment), and step-up freshness.
 * A route declares what it needs with `preHandler: app.requireStaff({ assurance, fresh })`.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import type { GuardView } from '../../guard/view.ts';
import type { Account } from '../../identity/accounts.ts';
import {
  type Assurance,
  CSRF_HEADER,
  csrfMatches,
  isFresh,
  SESSION_COOKIE,
  type Session,
  useStaffSession,
} from '../../identity/sessions.ts';

export interface StaffAuth {
  session: Session;
  account: Account;
  /** The purposes the account's organisation holds, read with the session (changes apply at once). */
  organisationPurposes: string[];
  /** What the guard needs of the request's circumstances, read with the session. */
  guard: GuardView;
}

export interface RequireStaff {
  /** 'password': enrolment and second-factor routes; 'mfa': everything else. */
  assurance: Assurance;
  /** A second factor verified within STEP_UP_MINUTES (sensitive actions). */
  fresh?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Sets the session cookie: HttpOnly, Secure, SameSite=Strict, for the whole site, until the session ends. */
export function setSessionCookie(reply: FastifyReply, sessionId: string, expiresAt: Date, now: Date): void {
  reply.setCookie(SESSION_COOKIE, sessionId, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
  });
}

/** Clears the session cookie. */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}

/** Registers cookie parsing and the `requireStaff` pre-handler factory. */
export async function registerAuth(
  app: FastifyInstance,
  deps: { db: Db; config: Pick<Config, 'sessions'>; clock: Clock },
): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('staff', null);
  app.decorate('requireStaff', (need: RequireStaff): preHandlerAsyncHookHandler => {
    return async (request: FastifyRequest) => {
      const now = deps.clock.now();
      const raw = request.cookies[SESSION_COOKIE];
      if (!raw) throw new AppError('unauthenticated', 'log in first');
      // One read-only statement: the session, its account and its organisation's purposes (every
      // request of every route pays it); a write only to revoke, or once a minute to mark it used.
      const auth = await useStaffSession(deps.db, raw, now, deps.config);
      if (!auth) throw new AppError('unauthenticated', 'the session has ended: log in again');
      // CSRF: SameSite=Strict already keeps the cookie off cross-site requests; the token is the
      // second, independent wall (OWASP ASVS 3.5), checked on every state-changing request.
      if (!SAFE_METHODS.has(request.method)) {
        const header = request.headers[CSRF_HEADER];
        if (!csrfMatches(auth.session, typeof header === 'string' ? header : undefined)) {
          throw new AppError('csrf_failed', `the ${CSRF_HEADER} header is missing or wrong`);
        }
      }
      if (need.assurance === 'mfa' && auth.session.assurance !== 'mfa') {
        throw new AppError('second_factor_required', 'verify your second factor first (or enrol one)');
      }
      if (need.fresh && !isFresh(auth.session, now, deps.config)) {
        throw new AppError('step_up_required', 'verify your second factor again for this action');
      }
      request.staff = auth;
    };
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated staff member, set by requireStaff. */
    staff: StaffAuth | null;
  }
  interface FastifyInstance {
    requireStaff(need: RequireStaff): preHandlerAsyncHookHandler;
  }
}
