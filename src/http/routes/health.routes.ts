/** GET /api/health: liveness and database readiness, for load balancers. Carries no personal data. */
import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { problemResponse } from '../plugins/errors.ts';

/** A health check that hangs is as bad as a failed one: a load balancer must get its answer. */
const PING_TIMEOUT_MS = 5_000;

export interface HealthRoutesOptions {
  db: Db;
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

/** Registers GET /api/health: 200 {status:'ok'} when the database answers, else 503 database_unavailable. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { db }) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Server and database health',
        description: 'Answers 200 when the server runs and its database answers a trivial query.',
        response: {
          200: {
            description: 'The server and its database answer',
            type: 'object',
            required: ['status'],
            additionalProperties: false,
            properties: { status: { type: 'string', enum: ['ok'] } },
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
      return { status: 'ok' as const };
    },
  );
};
