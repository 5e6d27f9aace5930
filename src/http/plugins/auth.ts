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
  /**
   * The handler reads the session itself, in the gate's transaction (src/access/gate-session.ts),
   * falling back to `authenticateStaff`: the pre-handler only asks for the cookie.
   */
  inGate?: boolean;
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

/**
 * The checks of a staff request on its live session, in order: CSRF on a state-changing request,
 * the assurance level, step-up freshness. Throws the AppError of the first that fails.
 */
export function checkStaffRequest(
  auth: StaffAuth,
  request: FastifyRequest,
  need: RequireStaff,
  now: Date,
  config: Pick<Config, 'sessions'>,
): void {
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
  if (need.fresh && !isFresh(auth.session, now, config)) {
    throw new AppError('step_up_required', 'verify your second factor again for this action');
  }
}

/** The session cookie of a request; unauthenticated without one. */
export function sessionCookie(request: FastifyRequest): string {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) throw new AppError('unauthenticated', 'log in first');
  return raw;
}

/** Registers cookie parsing, the `requireStaff` pre-handler factory and `authenticateStaff`. */
export async function registerAuth(
  app: FastifyInstance,
  deps: { db: Db; config: Pick<Config, 'sessions'>; clock: Clock },
): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('staff', null);
  const authenticate = async (request: FastifyRequest, need: RequireStaff): Promise<void> => {
    const now = deps.clock.now();
    const raw = sessionCookie(request);
    // One read-only statement: the session, its account and its organisation's purposes (every
    // request of every route pays it); a write only to revoke, or once a minute to mark it used.
    const auth = await useStaffSession(deps.db, raw, now, deps.config);
    if (!auth) throw new AppError('unauthenticated', 'the session has ended: log in again');
    checkStaffRequest(auth, request, need, now, deps.config);
    request.staff = auth;
  };
  app.decorate('authenticateStaff', authenticate);
  app.decorate('requireStaff', (need: RequireStaff): preHandlerAsyncHookHandler => {
    // A gated read that reads the session in its own transaction (src/access/gate-session.ts):
    // only the cookie here; the handler authenticates, in the gate or through authenticateStaff.
    if (need.inGate) return async (request: FastifyRequest) => void sessionCookie(request);
    return (request: FastifyRequest) => authenticate(request, need);
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated staff member, set by requireStaff. */
    staff: StaffAuth | null;
  }
  interface FastifyInstance {
    requireStaff(need: RequireStaff): preHandlerAsyncHookHandler;
    /** What requireStaff's pre-handler does: reads and checks the session, then sets request.staff. */
    authenticateStaff(request: FastifyRequest, need: RequireStaff): Promise<void>;
  }
}
