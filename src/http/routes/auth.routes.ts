/**
 * Staff authentication routes (docs/DESIGN.md section 5): password login, second factor (TOTP, recovery
 * code), enrolment of an authenticator app, logout, logout everywhere, my account and sessions.
 * There is deliberately no route that sets, resets or reveals another account's password or removes
 * its second factor (T1).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { type Clock, systemCtx } from '../../context.ts';
import type { Kms } from '../../crypto/kms.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { recordEvent } from '../../identity/events.ts';
import { checkFactorAddition, noticeFactorAdded } from '../../identity/factor-addition.ts';
import {
  confirmedFactorCount,
  confirmTotp,
  startTotpEnrolment,
  useRecoveryCode,
  verifyTotp,
} from '../../identity/factors.ts';
import { passwordLogin } from '../../identity/login.ts';
import {
  secondFactorBlocked,
  secondFactorFailure,
  secondFactorSuccess,
  secondFactorVerified,
} from '../../identity/second-factor-throttle.ts';
import { isFresh, listSessions, revokeAllSessions, revokeSession } from '../../identity/sessions.ts';
import { clearSessionCookie, setSessionCookie } from '../plugins/auth.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj, str } from '../schemas.ts';

export interface AuthRoutesOptions {
  db: Db;
  config: Pick<Config, 'sessions'>;
  clock: Clock;
  kms: Kms;
}

const ACCOUNT_PROPERTIES = {
  login: { type: 'string' },
  displayName: { type: 'string' },
  role: { type: 'string' },
  status: { type: 'string' },
  organisationId: { type: 'string' },
};
const AccountView = obj(ACCOUNT_PROPERTIES);
/** GET /me: the account with its id (what `rempart audit scope --account` and the operator's tools take). */
const MeAccountView = obj({ id: { type: 'string', format: 'uuid' }, ...ACCOUNT_PROPERTIES });
const errors = {
  400: problemResponse('Invalid input (validation_failed)'),
  401: problemResponse('Not logged in, or the second factor failed'),
  403: problemResponse('CSRF token missing, or a (fresh) second factor is required'),
};

/** Registers the routes. */
export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (app, deps) => {
  const { db, config, clock, kms } = deps;
  const actor = systemCtx('auth').actor;
  const address = (request: FastifyRequest): string => request.ip;
  const accountView = (request: FastifyRequest) => {
    const { account } = request.staff!;
    return {
      login: account.login,
      displayName: account.displayName,
      role: account.role,
      status: account.status,
      organisationId: account.organisationId,
    };
  };
  /** Second factor verified: new session id at 'mfa' level, new cookie, new CSRF token. */
  const elevate = async (request: FastifyRequest, reply: FastifyReply, method: string) => {
    const now = clock.now();
    const { session, account } = request.staff!;
    const next = await db.tx(actor, (tx) =>
      secondFactorVerified(tx, session, account, { now, address: address(request), method }),
    );
    setSessionCookie(reply, next.sessionId, next.expiresAt, now);
    return { assurance: 'mfa' as const, csrfToken: next.csrfToken };
  };
  const secondFactorFailed = async (request: FastifyRequest, method: string): Promise<never> => {
    const { account, session } = request.staff!;
    await secondFactorFailure(db, account, {
      address: address(request),
      sessionIdHash: session.idHash,
      now: clock.now(),
      method,
    });
    throw new AppError('second_factor_failed', 'the code is wrong, expired or already used', {
      field: 'code',
    });
  };
  /** Refuses without checking the factor while the account or address is throttled (same answer as a wrong code). */
  const throttled = async (request: FastifyRequest): Promise<void> => {
    if (await secondFactorBlocked(db, request.staff!.account, address(request), clock.now())) {
      throw new AppError('second_factor_failed', 'the code is wrong, expired or already used', {
        field: 'code',
      });
    }
  };

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with login and password (first factor)',
        description:
          'Opens a session with password assurance, which reaches only second-factor enrolment and verification. ' +
          'Every refusal (unknown login, wrong password, locked account, ended contract, too many attempts) gives the same 401 login_failed.',
        body: obj({ login: str(64), password: str(1024) }),
        response: {
          200: obj({
            next: { type: 'string', enum: ['enrol_second_factor', 'verify_second_factor'] },
            factors: { type: 'array', items: { type: 'string' } },
            csrfToken: { type: 'string' },
            expiresAt: { type: 'string' },
            account: AccountView,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { login, password } = request.body as { login: string; password: string };
      const userAgent = request.headers['user-agent'];
      const result = await passwordLogin(
        db,
        { config, now },
        { login, password, address: address(request), ...(userAgent ? { userAgent } : {}) },
      );
      setSessionCookie(reply, result.sessionId, result.expiresAt, now);
      const a = result.account;
      return {
        next: result.next,
        factors: result.factors,
        csrfToken: result.csrfToken,
        expiresAt: result.expiresAt.toISOString(),
        account: {
          login: a.login,
          displayName: a.displayName,
          role: a.role,
          status: a.status,
          organisationId: a.organisationId,
        },
      };
    },
  );

  const elevated = { 200: obj({ assurance: { type: 'string' }, csrfToken: { type: 'string' } }), ...errors };

  app.post(
    '/api/v1/auth/totp',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Verify a code from an authenticator app',
        body: obj({ code: str(16) }),
        response: elevated,
      },
    },
    async (request, reply) => {
      const { code } = request.body as { code: string };
      await throttled(request);
      const ok = await db.tx(actor, (tx) => verifyTotp(tx, kms, request.staff!.account, code, clock.now()));
      if (!ok) return secondFactorFailed(request, 'totp');
      await secondFactorSuccess(db, request.staff!.account, address(request));
      return elevate(request, reply, 'totp');
    },
  );

  app.post(
    '/api/v1/auth/recovery-code',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Use one of the ten single-use recovery codes',
        body: obj({ code: str(32) }),
        response: elevated,
      },
    },
    async (request, reply) => {
      const { code } = request.body as { code: string };
      await throttled(request);
      const ok = await db.tx(actor, (tx) => useRecoveryCode(tx, request.staff!.account, code, clock.now()));
      if (!ok) return secondFactorFailed(request, 'recovery_code');
      await secondFactorSuccess(db, request.staff!.account, address(request));
      return elevate(request, reply, 'recovery_code');
    },
  );

  app.post(
    '/api/v1/me/factors/totp',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Start enrolling an authenticator app',
        description:
          'The first factor of a new account is enrolled from a password session; any further factor needs a fresh ' +
          'second factor and the password typed again (`password`).',
        body: { anyOf: [obj({ password: str(1024) }, []), { type: 'null' }] },
        response: {
          200: obj({
            factorId: { type: 'string' },
            secret: { type: 'string' },
            otpauthUri: { type: 'string' },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const now = clock.now();
      const { account } = request.staff!;
      // Adding a factor to an account that has one needs that factor, recently, and the password
      // again: neither a stolen password nor a stolen session may add the attacker's authenticator.
      await checkFactorAddition(db, request.staff!, {
        password: (request.body as { password?: string } | null)?.password,
        address: address(request),
        now,
        config,
      });
      return db.tx(actor, async (tx) => {
        const started = await startTotpEnrolment(tx, kms, account, now);
        return { factorId: started.factorId, secret: started.secret, otpauthUri: started.uri };
      });
    },
  );

  app.post(
    '/api/v1/me/factors/totp/confirm',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Confirm an authenticator app with its first code',
        description: 'For the first factor of an account, also returns the ten recovery codes, once.',
        body: obj({ factorId: { type: 'string', format: 'uuid' }, code: str(16) }),
        response: {
          200: obj(
            {
              assurance: { type: 'string' },
              csrfToken: { type: 'string' },
              recoveryCodes: { type: 'array', items: { type: 'string' } },
            },
            ['assurance', 'csrfToken'],
          ),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { factorId, code } = request.body as { factorId: string; code: string };
      const now = clock.now();
      const { session, account } = request.staff!;
      const { recoveryCodes } = await db.tx(actor, async (tx) => {
        // Checked again here, not only when the enrolment started: a password session that began
        // enrolling before the owner enrolled a factor must not finish after (no factor added
        // without the existing one, freshly verified).
        if ((await confirmedFactorCount(tx, account.id)) > 0 && !isFresh(session, now, config)) {
          throw new AppError('step_up_required', 'verify your second factor again to add another');
        }
        return confirmTotp(tx, kms, account, factorId, code, now);
      });
      const result = await elevate(request, reply, 'totp_enrolment');
      if (!recoveryCodes) await noticeFactorAdded(db, account, now, 'totp');
      return recoveryCodes ? { ...result, recoveryCodes } : result;
    },
  );

  app.get(
    '/api/v1/me',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'My account and the assurance of this session',
        response: { 200: obj({ account: MeAccountView, assurance: { type: 'string' } }), ...errors },
      },
    },
    async (request) => ({
      account: { id: request.staff!.account.id, ...accountView(request) },
      assurance: request.staff!.session.assurance,
    }),
  );

  app.get(
    '/api/v1/me/sessions',
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['auth'],
        summary: 'My open sessions',
        response: {
          200: obj({
            sessions: {
              type: 'array',
              items: obj(
                {
                  id: { type: 'string' },
                  current: { type: 'boolean' },
                  createdAt: { type: 'string' },
                  lastSeenAt: { type: 'string' },
                  expiresAt: { type: 'string' },
                  assurance: { type: 'string' },
                  sourceAddress: { type: ['string', 'null'] },
                  userAgent: { type: ['string', 'null'] },
                },
                ['id', 'current', 'createdAt', 'lastSeenAt', 'expiresAt', 'assurance'],
              ),
            },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { session, account } = request.staff!;
      return { sessions: await db.tx(actor, (tx) => listSessions(tx, account.id, session, clock.now())) };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: { tags: ['auth'], summary: 'End this session', response: { 204: { type: 'null' }, ...errors } },
    },
    async (request, reply) => {
      await db.tx(actor, (tx) => revokeSession(tx, request.staff!.session.idHash, 'logout'));
      clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/auth/logout-everywhere',
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['auth'],
        summary: 'End every session of my account, this one included',
        response: { 200: obj({ ended: { type: 'integer' } }), ...errors },
      },
    },
    async (request, reply) => {
      const { account } = request.staff!;
      const now = clock.now();
      const ended = await db.tx(actor, async (tx) => {
        const n = await revokeAllSessions(tx, account.id, 'logout everywhere');
        await recordEvent(tx, {
          at: now,
          action: 'session.logout_everywhere',
          actorAccountId: account.id,
          targetAccountId: account.id,
          details: { ended: n },
        });
        return n;
      });
      clearSessionCookie(reply);
      return { ended };
    },
  );
};
