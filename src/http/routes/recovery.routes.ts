/**
 * Recovery and provisioning routes (T1, T8): the helpdesk opens recovery cases, managers decide,
 * owners cancel or complete with the codes mailed to them; managers request accounts and roles,
 * another person approves; new owners activate their account. No route here, or anywhere, sets
 * another account's password or removes its second factor.
 */

import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { announceAlert } from '../../guard/announce.ts';
import type { RaisedAlert } from '../../guard/guard.ts';
import { admitProvisioning } from '../../guard/provisioning.ts';
import { ROLES } from '../../identity/accounts.ts';
import {
  activateAccount,
  decideProvisioning,
  listProvisioning,
  MAX_CASELOAD_PERSONS,
  type ProvisioningRequest,
  requestProvisioning,
} from '../../identity/provisioning.ts';
import {
  cancelRecoveryCase,
  completeRecovery,
  decideRecoveryCase,
  listRecoveryCases,
  openRecoveryCase,
} from '../../identity/recovery.ts';
import { problemResponse } from '../plugins/errors.ts';
import { idParams, obj, str } from '../schemas.ts';

export interface RecoveryRoutesOptions {
  db: Db;
  config: Pick<Config, 'recoveryDelayHours' | 'guard' | 'guardEnabled' | 'publicUrl'>;
  clock: Clock;
}

const errors = {
  400: problemResponse('Invalid input, or a code that does not work (recovery_failed)'),
  401: problemResponse('Not logged in'),
  403: problemResponse('Not allowed, or a fresh second factor is required'),
  404: problemResponse('No such case or request for you'),
  409: problemResponse('Not in a state that allows this now'),
};
const CaseView = obj({
  id: { type: 'string' },
  login: { type: 'string' },
  status: { type: 'string' },
  openedAt: { type: 'string' },
  notBefore: { type: ['string', 'null'] },
  attestation: { type: ['string', 'null'] },
});
const RequestView = obj({
  id: { type: 'string' },
  kind: { type: 'string' },
  organisationId: { type: 'string' },
  requestedBy: { type: 'string' },
  requestedAt: { type: 'string' },
  status: { type: 'string' },
  targetAccountId: { type: ['string', 'null'] },
  payload: { type: 'object', additionalProperties: true },
});

/** Registers the routes. */
export const recoveryRoutes: FastifyPluginAsync<RecoveryRoutesOptions> = async (
  app,
  { db, config, clock },
) => {
  const deps = () => ({ db, now: clock.now(), delayHours: config.recoveryDelayHours });
  const mfa = app.requireStaff({ assurance: 'mfa' });
  const fresh = app.requireStaff({ assurance: 'mfa', fresh: true });

  app.post(
    '/api/v1/recovery-cases',
    {
      preHandler: mfa,
      schema: {
        tags: ['recovery'],
        summary: 'Helpdesk: open a recovery case for an account',
        description:
          'The owner is notified at once (email and in-app) with a code to cancel it. Nothing else changes.',
        body: obj({ login: str(64) }),
        response: { 201: obj({ id: { type: 'string' }, status: { type: 'string' } }), ...errors },
      },
    },
    async (request, reply) => {
      const { login } = request.body as { login: string };
      const opened = await openRecoveryCase(deps(), request.staff!.account, login);
      return reply.code(201).send({ id: opened.id, status: 'open' });
    },
  );

  app.get(
    '/api/v1/recovery-cases',
    {
      preHandler: mfa,
      schema: {
        tags: ['recovery'],
        summary: "Managers: their organisation's cases; helpdesk: the cases they opened",
        response: { 200: obj({ cases: { type: 'array', items: CaseView } }), ...errors },
      },
    },
    async (request) => ({ cases: await listRecoveryCases(db, request.staff!.account) }),
  );

  app.post(
    '/api/v1/recovery-cases/:id/approve',
    {
      preHandler: fresh,
      schema: {
        tags: ['recovery'],
        summary: "Manager: approve a case, attesting that the owner's identity was verified",
        description: `The owner can complete it after the delay (RECOVERY_DELAY_HOURS) with the code mailed to their registered address.`,
        params: idParams,
        body: obj({ attestation: { type: 'string', enum: ['in_person', 'video'] } }),
        response: {
          200: obj({ status: { type: 'string' }, notBefore: { type: ['string', 'null'] } }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { attestation } = request.body as { attestation: 'in_person' | 'video' };
      return decideRecoveryCase(deps(), request.staff!.account, id, { approve: true, attestation });
    },
  );

  app.post(
    '/api/v1/recovery-cases/:id/reject',
    {
      preHandler: mfa,
      schema: {
        tags: ['recovery'],
        summary: 'Manager: reject a case',
        params: idParams,
        response: {
          200: obj({ status: { type: 'string' }, notBefore: { type: ['string', 'null'] } }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return decideRecoveryCase(deps(), request.staff!.account, id, { approve: false });
    },
  );

  app.post(
    '/api/v1/recovery/cancel',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Owner: cancel a recovery case with the code of its first notice',
        body: obj({ code: str(32) }),
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      await cancelRecoveryCase(deps(), (request.body as { code: string }).code);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/recovery/complete',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Owner: after the delay, set a new password with the code mailed to the registered address',
        description:
          'Revokes every second factor, recovery code and session of the account; the owner then logs in, enrols a new factor, and the account is on probation.',
        body: obj({ code: str(32), password: str(1024) }),
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const { code, password } = request.body as { code: string; password: string };
      await completeRecovery(deps(), code, password);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/provisioning-requests',
    {
      preHandler: fresh,
      schema: {
        tags: ['provisioning'],
        summary: 'Manager or administrator: request a new account or a role; another person approves',
        body: {
          oneOf: [
            obj(
              {
                kind: { type: 'string', const: 'create_account' },
                login: str(64),
                displayName: str(100),
                email: { type: 'string', format: 'email', maxLength: 254 },
                role: { type: 'string', enum: [...ROLES] },
                organisationId: { type: 'string', format: 'uuid' },
              },
              ['kind', 'login', 'displayName', 'email', 'role'],
            ),
            obj({
              kind: { type: 'string', const: 'grant_role' },
              accountId: { type: 'string', format: 'uuid' },
              role: { type: 'string', enum: [...ROLES] },
            }),
            obj({
              kind: { type: 'string', const: 'widen_caseload' },
              partnerOrganisationId: { type: 'string', format: 'uuid' },
              personIds: {
                type: 'array',
                minItems: 1,
                maxItems: MAX_CASELOAD_PERSONS,
                items: { type: 'string', format: 'uuid' },
              },
            }),
          ],
        },
        response: { 201: obj({ id: { type: 'string' }, status: { type: 'string' } }), ...errors },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const auth = request.staff!;
      const body = request.body as ProvisioningRequest;
      // The guard counts privileged acts once they are valid and allowed (T8): volume, off-hours.
      let raised: RaisedAlert | null = null;
      const admit = config.guardEnabled
        ? admitProvisioning(
            config.guard,
            {
              accountId: auth.account.id,
              organisationId: auth.account.organisationId,
              role: auth.account.role,
              probation:
                auth.account.status === 'probation' &&
                (auth.account.probationUntil === null || auth.account.probationUntil > now),
              demo: auth.account.demo,
              mfaAt: auth.session.mfaAt,
              requestAddress: request.ip,
              requestId: request.id,
              view: auth.guard,
            },
            body,
            now,
            (alert) => {
              raised = alert;
            },
          )
        : undefined;
      let created: { id: string };
      try {
        created = await requestProvisioning(db, now, auth.account, body, admit);
      } finally {
        const alert: RaisedAlert | null = raised;
        if (alert) await announceAlert(db, alert, clock.now(), config.publicUrl).catch(() => undefined);
      }
      return reply.code(201).send({ id: created.id, status: 'pending' });
    },
  );

  app.get(
    '/api/v1/provisioning-requests',
    {
      preHandler: mfa,
      schema: {
        tags: ['provisioning'],
        summary: "Requests of my organisation (every organisation's for an administrator)",
        response: { 200: obj({ requests: { type: 'array', items: RequestView } }), ...errors },
      },
    },
    async (request) => ({ requests: await listProvisioning(db, request.staff!.account) }),
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/api/v1/provisioning-requests/:id/${decision}`,
      {
        preHandler: fresh,
        schema: {
          tags: ['provisioning'],
          summary: `Another manager or an administrator: ${decision} a request`,
          params: idParams,
          response: {
            200: obj({ status: { type: 'string' }, accountId: { type: ['string', 'null'] } }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        return decideProvisioning(db, clock.now(), request.staff!.account, id, decision === 'approve');
      },
    );
  }

  app.post(
    '/api/v1/activation',
    {
      schema: {
        tags: ['provisioning'],
        summary: 'New account owner: set the password with the mailed activation code',
        body: obj({ code: str(32), password: str(1024) }),
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const { code, password } = request.body as { code: string; password: string };
      await activateAccount(db, clock.now(), code, password);
      return reply.code(204).send();
    },
  );
};
