/**
 * Account administration: managers list their organisation's accounts (administrators all of them)
 * and disable one; security officers suspend an account (its sessions end at once) and reinstate it.
 * Nobody acts on their own account. Creating accounts and granting roles go through provisioning
 * requests (two people, T8).
 */
import type { FastifyPluginAsync } from 'fastify';
import { type Clock, systemCtx } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { type Account, accountById } from '../../identity/accounts.ts';
import { recordEvent } from '../../identity/events.ts';
import { revokeAllSessions } from '../../identity/sessions.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface AccountsRoutesOptions {
  db: Db;
  clock: Clock;
}

const AccountRow = obj({
  id: { type: 'string' },
  login: { type: 'string' },
  displayName: { type: 'string' },
  role: { type: 'string' },
  status: { type: 'string' },
  organisationId: { type: 'string' },
});
const errors = {
  401: problemResponse('Not logged in'),
  403: problemResponse('Not allowed, or a fresh second factor is required'),
  404: problemResponse('No such account for you'),
  409: problemResponse('Not in a state that allows this'),
};

type Action = 'disable' | 'suspend' | 'reinstate';

/** Who may do what, to whom: managers disable in their organisation; security officers suspend and reinstate. */
function allowed(actor: Account, target: Account, action: Action): boolean {
  if (actor.id === target.id) return false;
  if (action === 'disable') {
    return (
      actor.role === 'administrator' ||
      (actor.role === 'org_manager' && actor.organisationId === target.organisationId)
    );
  }
  return actor.role === 'security_officer';
}

const NEXT_STATUS: Record<Action, { from: readonly string[]; to: string }> = {
  disable: { from: ['pending_enrolment', 'active', 'probation', 'locked', 'suspended'], to: 'disabled' },
  suspend: { from: ['pending_enrolment', 'active', 'probation', 'locked'], to: 'suspended' },
  reinstate: { from: ['suspended'], to: 'active' },
};

/** Registers the routes. */
export const accountsRoutes: FastifyPluginAsync<AccountsRoutesOptions> = async (app, { db, clock }) => {
  const actor = systemCtx('accounts').actor;

  app.get(
    '/api/v1/accounts',
    {
      preHandler: app.requireStaff({ assurance: 'mfa' }),
      schema: {
        tags: ['provisioning'],
        summary: "Managers: their organisation's accounts; administrators and security officers: all",
        response: { 200: obj({ accounts: { type: 'array', items: AccountRow } }), ...errors },
      },
    },
    async (request) => {
      const viewer = request.staff!.account;
      const everyone = viewer.role === 'administrator' || viewer.role === 'security_officer';
      if (!everyone && viewer.role !== 'org_manager')
        throw new AppError('forbidden', 'only managers list accounts');
      const rows = await db.tx(actor, (tx) =>
        tx.query<{
          id: string;
          login: string;
          display_name: string;
          role: string;
          status: string;
          organisation_id: string;
        }>(
          `SELECT id, login, display_name, role, status, organisation_id FROM accounts
           WHERE ($1 OR organisation_id = $2) ORDER BY login LIMIT 1000`,
          [everyone, viewer.organisationId],
        ),
      );
      return {
        accounts: rows.map((r) => ({
          id: r.id,
          login: r.login,
          displayName: r.display_name,
          role: r.role,
          status: r.status,
          organisationId: r.organisation_id,
        })),
      };
    },
  );

  for (const action of ['disable', 'suspend', 'reinstate'] as const) {
    app.post(
      `/api/v1/accounts/:id/${action}`,
      {
        preHandler: app.requireStaff({ assurance: 'mfa', fresh: true }),
        schema: {
          tags: ['provisioning'],
          summary:
            action === 'disable'
              ? 'Manager: disable an account of the organisation for good'
              : action === 'suspend'
                ? 'Security officer: suspend an account (its sessions end at once)'
                : 'Security officer: reinstate a suspended account',
          params: obj({ id: { type: 'string', format: 'uuid' } }),
          response: { 200: obj({ status: { type: 'string' } }), ...errors },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const me = request.staff!.account;
        const now = clock.now();
        return db.tx(actor, async (tx) => {
          const target = await accountById(tx, id);
          if (!target || !allowed(me, target, action))
            throw new AppError('not_found', 'no account with this id for you');
          const { from, to } = NEXT_STATUS[action];
          if (!from.includes(target.status))
            throw new AppError('conflict', `the account is ${target.status}`);
          await tx.query('UPDATE accounts SET status = $2 WHERE id = $1', [id, to]);
          if (to !== 'active') await revokeAllSessions(tx, id, action);
          await recordEvent(tx, {
            at: now,
            action: `account.${action}`,
            actorAccountId: me.id,
            targetAccountId: id,
            organisationId: target.organisationId,
          });
          return { status: to };
        });
      },
    );
  }
};
