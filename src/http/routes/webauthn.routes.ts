/**
 * WebAuthn second factor routes (docs/DESIGN.md §5: passkeys and security keys, preferred over TOTP):
 * enrolment of a credential and verification of an assertion, each in two steps (options, then
 * the browser's answer). The challenge lives on the session, expires after five minutes and is
 * taken by the answer whatever its outcome, so one challenge serves one attempt.
 * A WebAuthn assertion is bound to this origin: a phishing page on another origin gets nothing it
 * can replay here (T1, T5: stolen passwords).
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { type Clock, systemCtx } from '../../context.ts';
import type { Db, Tx } from '../../db/types.ts';
import { AppError, isAppError } from '../../errors.ts';
import { recordEvent } from '../../identity/events.ts';
import { checkFactorAddition, noticeFactorAdded } from '../../identity/factor-addition.ts';
import { confirmedFactorCount } from '../../identity/factors.ts';
import {
  secondFactorBlocked,
  secondFactorFailure,
  secondFactorSuccess,
  secondFactorVerified,
} from '../../identity/second-factor-throttle.ts';
import { isFresh, type Session, setChallenge } from '../../identity/sessions.ts';
import {
  authenticationOptions,
  findCredential,
  type RelyingParty,
  registrationOptions,
  type StoredCredential,
  verifyAuthentication,
  verifyRegistration,
} from '../../identity/webauthn.ts';
import {
  enrolWebauthnCredential,
  recordWebauthnUse,
  takeChallenge,
  webauthnCredentials,
} from '../../identity/webauthn-factors.ts';
import { setSessionCookie } from '../plugins/auth.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj, str } from '../schemas.ts';

export interface WebauthnRoutesOptions {
  db: Db;
  config: Pick<Config, 'sessions' | 'publicUrl'>;
  clock: Clock;
}

/** This deployment as browsers see it: the RP id is PUBLIC_URL's host name, the origin its origin. */
export function relyingParty(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: 'Rempart', origin: url.origin };
}

const string = { type: 'string' } as const;
const strings = { type: 'array', items: string } as const;

// ---- Request bodies: the WebAuthn Level 3 JSON serialisation (§5.1.8, §5.1.9), nothing else. ----

/** Base64url as browsers write it; the bound is generous for the field, the body limit does the rest. */
const b64url = (maxLength: number) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' }) as const;
/** A credential id is at most 1023 bytes (§5.8.3), 1364 characters of base64url. */
const credentialId = b64url(1364);
const publicKeyType = { type: 'string', enum: ['public-key'] } as const;
const common = {
  id: credentialId,
  rawId: credentialId,
  type: publicKeyType,
  // An extension's output is defined by that extension (credProps, prf, largeBlob…): an open map.
  clientExtensionResults: { type: 'object', maxProperties: 16 },
  authenticatorAttachment: { type: 'string', enum: ['platform', 'cross-platform'] },
} as const;
const commonRequired = ['id', 'rawId', 'type', 'response', 'clientExtensionResults'];

/** RegistrationResponseJSON: what navigator.credentials.create() answers, in JSON (§5.1.8). */
const RegistrationResponse = obj(
  {
    ...common,
    response: obj(
      {
        clientDataJSON: b64url(8192),
        attestationObject: b64url(65536),
        authenticatorData: b64url(16384),
        transports: { type: 'array', maxItems: 16, items: str(32) },
        publicKeyAlgorithm: { type: 'integer' },
        publicKey: b64url(8192),
      },
      ['clientDataJSON', 'attestationObject'],
    ),
  },
  commonRequired,
);

/** AuthenticationResponseJSON: what navigator.credentials.get() answers, in JSON (§5.1.9). */
/** JSON schema of an AuthenticationResponseJSON (navigator.credentials.get()), shared with the passkey login. */
export const AuthenticationResponse = obj(
  {
    ...common,
    response: obj(
      {
        clientDataJSON: b64url(8192),
        authenticatorData: b64url(16384),
        signature: b64url(2048),
        // A user handle is at most 64 bytes (§5.4.3).
        userHandle: b64url(88),
        attestationObject: b64url(65536),
      },
      ['clientDataJSON', 'authenticatorData', 'signature'],
    ),
  },
  commonRequired,
);

// ---- Responses: the options the browser passes to navigator.credentials.create() / get(). ----

const descriptor = obj({ id: string, type: string, transports: strings }, ['id', 'type']);
const CreationOptions = obj(
  {
    challenge: string,
    rp: obj({ id: string, name: string }, ['name']),
    user: obj({ id: string, name: string, displayName: string }),
    pubKeyCredParams: { type: 'array', items: obj({ alg: { type: 'integer' }, type: string }) },
    timeout: { type: 'integer' },
    excludeCredentials: { type: 'array', items: descriptor },
    authenticatorSelection: obj(
      {
        authenticatorAttachment: string,
        residentKey: string,
        requireResidentKey: { type: 'boolean' },
        userVerification: string,
      },
      [],
    ),
    hints: strings,
    attestation: string,
    attestationFormats: strings,
    extensions: obj({ credProps: { type: 'boolean' } }, []),
  },
  ['challenge', 'rp', 'user', 'pubKeyCredParams'],
);
const RequestOptions = obj(
  {
    challenge: string,
    rpId: string,
    timeout: { type: 'integer' },
    allowCredentials: { type: 'array', items: descriptor },
    userVerification: string,
    hints: strings,
  },
  ['challenge'],
);
const Elevated = obj(
  { assurance: string, csrfToken: string, recoveryCodes: { type: 'array', items: string } },
  ['assurance', 'csrfToken'],
);

const errors = {
  400: problemResponse('Invalid input (validation_failed)'),
  401: problemResponse('Not logged in, or the second factor failed'),
  403: problemResponse('CSRF token missing, or a (fresh) second factor is required'),
};

/** Registers the routes. */
export const webauthnRoutes: FastifyPluginAsync<WebauthnRoutesOptions> = async (app, deps) => {
  const { db, config, clock } = deps;
  const actor = systemCtx('auth').actor;
  const rp = relyingParty(config.publicUrl);
  const address = (request: FastifyRequest): string => request.ip;

  /**
   * Adding a factor to an account that has one needs that factor, recently: a stolen password must
   * not be able to add the attacker's authenticator (T1). Same rule as the TOTP enrolment.
   */
  const assertMayAddFactor = async (tx: Tx, session: Session, now: Date): Promise<void> => {
    if ((await confirmedFactorCount(tx, session.accountId)) > 0 && !isFresh(session, now, config)) {
      throw new AppError('step_up_required', 'verify your second factor again to add another');
    }
  };

  /** Records the failure and answers 401, the same whatever failed (webauthn.ts: no oracle). */
  const failed = async (request: FastifyRequest, action: string, method: string): Promise<never> => {
    const { account, session } = request.staff!;
    if (action === 'login.second_factor_failed') {
      // Counted like a wrong password (second-factor-throttle.ts): guessing is throttled, then locked.
      await secondFactorFailure(db, account, {
        address: address(request),
        sessionIdHash: session.idHash,
        now: clock.now(),
        method,
      });
    } else {
      await db.tx(actor, (tx) =>
        recordEvent(tx, {
          at: clock.now(),
          action,
          targetAccountId: account.id,
          organisationId: account.organisationId,
          sourceAddress: address(request),
          details: { method },
        }),
      );
    }
    throw new AppError('second_factor_failed', 'second factor verification failed');
  };
  const isVerificationFailure = (error: unknown): boolean =>
    isAppError(error) && error.code === 'second_factor_failed';

  /** Second factor verified, in the caller's transaction (second-factor-throttle.ts). */
  const elevate = (tx: Tx, request: FastifyRequest, now: Date, method: string) =>
    secondFactorVerified(tx, request.staff!.session, request.staff!.account, {
      now,
      address: address(request),
      method,
    });
  const answer = (
    reply: FastifyReply,
    now: Date,
    next: { sessionId: string; csrfToken: string; expiresAt: Date },
  ) => {
    setSessionCookie(reply, next.sessionId, next.expiresAt, now);
    return { assurance: 'mfa' as const, csrfToken: next.csrfToken };
  };

  app.post(
    '/api/v1/me/factors/webauthn/options',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Start enrolling a passkey or security key',
        description:
          'Returns the options for navigator.credentials.create(); the challenge is valid five minutes, for one answer. ' +
          'The first factor of a new account is enrolled from a password session; any further factor needs a fresh ' +
          'second factor and the password typed again (`password`).',
        body: { anyOf: [obj({ password: str(1024) }, []), { type: 'null' }] },
        response: { 200: CreationOptions, ...errors },
      },
    },
    async (request) => {
      const now = clock.now();
      const { session, account } = request.staff!;
      await checkFactorAddition(db, request.staff!, {
        password: (request.body as { password?: string } | null)?.password,
        address: address(request),
        now,
        config,
      });
      return db.tx(actor, async (tx) => {
        const { options, challenge } = await registrationOptions(
          rp,
          { accountId: account.id, login: account.login, displayName: account.displayName },
          await webauthnCredentials(tx, account.id),
        );
        await setChallenge(tx, session, challenge, now);
        return options;
      });
    },
  );

  app.post(
    '/api/v1/me/factors/webauthn',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Enrol a passkey or security key with the answer of navigator.credentials.create()',
        description:
          'Verifies the answer against the pending challenge (taken, whatever the outcome) and raises the session to mfa. ' +
          'For the first factor of an account, also returns the ten recovery codes, once.',
        body: obj({ response: RegistrationResponse, label: str(64) }, ['response']),
        response: { 200: Elevated, ...errors },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { session, account } = request.staff!;
      const { response, label } = request.body as { response: RegistrationResponseJSON; label?: string };
      const challenge = await db.tx(actor, (tx) => takeChallenge(tx, session.idHash, now));
      let credential: StoredCredential;
      try {
        if (challenge === null) throw new AppError('second_factor_failed', 'no pending challenge');
        credential = await verifyRegistration(rp, challenge, response);
      } catch (error) {
        if (!isVerificationFailure(error)) throw error;
        return failed(request, 'factor.webauthn_enrolment_failed', 'webauthn');
      }
      const enrolled = await db.tx(actor, async (tx) => {
        // Again at the answer: a factor may have been enrolled, or the step-up gone stale, since the options.
        await assertMayAddFactor(tx, session, now);
        const stored = await enrolWebauthnCredential(tx, account, credential, label, now);
        if (stored === null) return null;
        return { next: await elevate(tx, request, now, 'webauthn_enrolment'), codes: stored.recoveryCodes };
      });
      if (enrolled === null) return failed(request, 'factor.webauthn_enrolment_failed', 'webauthn');
      const result = answer(reply, now, enrolled.next);
      if (!enrolled.codes) await noticeFactorAdded(db, account, now, 'webauthn');
      return enrolled.codes ? { ...result, recoveryCodes: enrolled.codes } : result;
    },
  );

  app.post(
    '/api/v1/auth/webauthn/options',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Start verifying a passkey or security key',
        description:
          'Returns the options for navigator.credentials.get(), limited to my credentials; the challenge is valid five ' +
          'minutes, for one answer. From an mfa session, this is the step-up before a sensitive action.',
        response: {
          200: RequestOptions,
          ...errors,
          404: problemResponse('No passkey or security key is enrolled (not_found)'),
        },
      },
    },
    async (request): Promise<PublicKeyCredentialRequestOptionsJSON> => {
      const now = clock.now();
      const { session, account } = request.staff!;
      return db.tx(actor, async (tx) => {
        const credentials = await webauthnCredentials(tx, account.id);
        if (credentials.length === 0) {
          throw new AppError('not_found', 'no passkey or security key is enrolled on this account');
        }
        const { options, challenge } = await authenticationOptions(rp, credentials);
        await setChallenge(tx, session, challenge, now);
        return options;
      });
    },
  );

  app.post(
    '/api/v1/auth/webauthn',
    {
      preHandler: app.requireStaff({ assurance: 'password' }),
      schema: {
        tags: ['auth'],
        summary: 'Verify a passkey or security key with the answer of navigator.credentials.get()',
        description:
          'Verifies the assertion against the pending challenge (taken, whatever the outcome) and one of my credentials; ' +
          'the signature counter must increase. Raises the session to mfa, or refreshes its step-up time.',
        body: obj({ response: AuthenticationResponse }),
        response: { 200: Elevated, ...errors },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { session, account } = request.staff!;
      const { response } = request.body as { response: AuthenticationResponseJSON };
      if (await secondFactorBlocked(db, account, address(request), now)) {
        throw new AppError('second_factor_failed', 'second factor verification failed');
      }
      const { challenge, credentials } = await db.tx(actor, async (tx) => ({
        challenge: await takeChallenge(tx, session.idHash, now),
        credentials: await webauthnCredentials(tx, account.id),
      }));
      let verified: { credential: StoredCredential; newCounter: number };
      try {
        if (challenge === null) throw new AppError('second_factor_failed', 'no pending challenge');
        // Only this account's credentials: a valid assertion from another account's key proves nothing here.
        const credential = findCredential(credentials, response);
        const { newCounter } = await verifyAuthentication(rp, challenge, credential, response);
        verified = { credential, newCounter };
      } catch (error) {
        if (!isVerificationFailure(error)) throw error;
        return failed(request, 'login.second_factor_failed', 'webauthn');
      }
      const next = await db.tx(actor, async (tx) => {
        if (!(await recordWebauthnUse(tx, account.id, verified.credential, verified.newCounter, now))) {
          return null;
        }
        return elevate(tx, request, now, 'webauthn');
      });
      if (next === null) return failed(request, 'login.second_factor_failed', 'webauthn');
      await secondFactorSuccess(db, account, address(request));
      return answer(reply, now, next);
    },
  );
};
