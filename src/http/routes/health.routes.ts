/**
 * GET /api/health: liveness, database readiness and the audit sequencer's lag, for load balancers
 * and monitoring. Carries no personal data: counts and an age only.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isLagging, readSequencerLag } from '../../audit/lag.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { problemResponse } from '../plugins/errors.ts';

/** A health check that hangs is as bad as a failed one: a load balancer must get its answer. */
const PING_TIMEOUT_MS = 5_000;

export interface HealthRoutesOptions {
  db: Db;
  /** `degraded` once the oldest pending audit event is this old (REMPART_AUDIT_LAG_ALERT_SECONDS). */
  lagAlertSeconds: number;
}

async function pingWithin(db: Db, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([db.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers GET /api/health: 200 {status: 'ok' | 'degraded', audit: {...}} when the database
 * answers (degraded: the audit sequencer is late), else 503 database_unavailable.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { db, lagAlertSeconds }) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Server and database health',
        description:
          'Answers 200 when the server runs and its database answers a trivial query. `status` is ' +
          '`degraded` when the oldest audit event not yet folded into the signed Merkle tree is older ' +
          'than the configured threshold (REMPART_AUDIT_LAG_ALERT_SECONDS, default 60 s): such events are ' +
          'covered by no checkpoint yet, and the security officers are alerted.',
        response: {
          200: {
            description: 'The server and its database answer; `audit` tells how late the audit sequencer is',
            type: 'object',
            required: ['status', 'audit'],
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ['ok', 'degraded'] },
              audit: {
                type: 'object',
                required: ['pendingEvents', 'oldestPendingSeconds', 'lagAlertSeconds'],
                additionalProperties: false,
                properties: {
                  pendingEvents: {
                    type: 'integer',
                    minimum: 0,
                    description: 'Audit events appended and not yet folded into the Merkle tree',
                  },
                  oldestPendingSeconds: {
                    type: 'integer',
                    minimum: 0,
                    description: 'Age in seconds of the oldest of them (0 when none waits)',
                  },
                  lagAlertSeconds: {
                    type: 'integer',
                    minimum: 1,
                    description: 'The age past which status is `degraded` and an alert is raised',
                  },
                },
              },
            },
          },
          503: problemResponse('The database does not answer (code database_unavailable)'),
        },
      },
    },
    async () => {
      let ok: boolean;
      try {
        ok = await pingWithin(db, PING_TIMEOUT_MS);
      } catch (error) {
        throw new AppError('database_unavailable', 'the database does not answer', { cause: error });
      }
      if (!ok) throw new AppError('database_unavailable', 'the database does not answer');
      const lag = await readSequencerLag(db);
      return {
        status: isLagging(lag, lagAlertSeconds) ? ('degraded' as const) : ('ok' as const),
        audit: { ...lag, lagAlertSeconds },
      };
    },
  );
};
