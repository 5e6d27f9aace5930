/**
 * Passwordless passkey login (src/identity/passkey-login.ts): the owner's way in when someone keeps
 * locking the account by failing its password (docs/DESIGN.md section 13).
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { passkeyLogin, passkeyOptions } from '../../identity/passkey-login.ts';
import { setSessionCookie } from '../plugins/auth.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';
import { AuthenticationResponse, relyingParty } from './webauthn.routes.ts';

export interface PasskeyRoutesOptions {
  db: Db;
  config: Pick<Config, 'sessions' | 'publicUrl'>;
  clock: Clock;
}

/** Registers the routes. */
export const passkeyRoutes: FastifyPluginAsync<PasskeyRoutesOptions> = async (app, { db, config, clock }) => {
  const rp = relyingParty(config.publicUrl);

  app.post(
    '/api/v1/auth/passkey/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Options for a passwordless login with a passkey (no account named)',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => passkeyOptions(db, rp, clock.now()),
  );

  app.post(
    '/api/v1/auth/passkey',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with a passkey alone (user verification required): an mfa session',
        description:
          'Works while the account is locked by password failures (the lock must not lock the owner out); not for a ' +
          'suspended, disabled or locked-by-status account, nor after the contract ends. Any failure is 401 second_factor_failed.',
        body: obj({ response: AuthenticationResponse }),
        response: {
          200: obj({
            assurance: { type: 'string' },
            csrfToken: { type: 'string' },
            expiresAt: { type: 'string' },
            account: obj({
              login: { type: 'string' },
              displayName: { type: 'string' },
              role: { type: 'string' },
              status: { type: 'string' },
            }),
          }),
          400: problemResponse('Malformed response (validation_failed)'),
          401: problemResponse('The passkey was not accepted (second_factor_failed)'),
        },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { response } = request.body as { response: AuthenticationResponseJSON };
      const userAgent = request.headers['user-agent'];
      const login = await passkeyLogin(
        db,
        { config, rp, now },
        { response, address: request.ip, ...(userAgent ? { userAgent } : {}) },
      );
      setSessionCookie(reply, login.sessionId, login.expiresAt, now);
      const a = login.account;
      return {
        assurance: 'mfa',
        csrfToken: login.csrfToken,
        expiresAt: login.expiresAt.toISOString(),
        account: { login: a.login, displayName: a.displayName, role: a.role, status: a.status },
      };
    },
  );
};
