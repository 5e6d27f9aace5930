/** openDb: PGlite in the data folder by default, a PostgreSQL server when DATABASE_URL is set. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Actor } from '../context.ts';
import { AppError } from '../errors.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import { APP_ROLE, type Db, type Driver, SEQUENCER_ROLE } from './types.ts';

/** Opens the configured database, applies pending migrations, and returns the application's Db. */
export async function openDb(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Db> {
  let driver: Driver;
  try {
    if (config.databaseUrl !== undefined) {
      driver = await openPostgres(config.databaseUrl);
    } else {
      const dir = path.join(config.dataDir, 'pglite');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      driver = await openPglite(dir);
    }
  } catch (error) {
    throw new AppError('database_unavailable', `cannot open the database: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    await migrate(driver);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return createDb(driver);
}

/**
 * The application's view of a migrated driver. Each transaction first drops to APP_ROLE (no
 * superuser, no BYPASSRLS, owns no table) and sets the actor's context, which the row-level
 * security policies read: RLS is the second wall behind the gate (DESIGN.md section 3, step 5).
 */
export function createDb(driver: Driver): Db {
  return {
    kind: driver.kind,
    tx(actor, fn) {
      return driver.transaction(async (tx) => {
        await tx.query(
          `SELECT set_config('role', $1, true), set_config('rempart.actor_kind', $2, true),
                  set_config('rempart.org_id', $3, true), set_config('rempart.role', $4, true),
                  set_config('rempart.account_id', $5, true)`,
          [APP_ROLE, ...contextOf(actor)],
        );
        return fn(tx);
      });
    },
    sequencerTx(fn) {
      return driver.transaction(async (tx) => {
        await tx.query(`SELECT set_config('role', $1, true)`, [SEQUENCER_ROLE]);
        return fn(tx);
      });
    },
    async ping() {
      const rows = await driver.transaction((tx) => tx.query<{ ok: number }>('SELECT 1 AS ok'));
      return rows[0]?.ok === 1;
    },
    close: () => driver.close(),
  };
}

function contextOf(actor: Actor): [string, string, string, string] {
  if (actor.kind === 'system') return ['system', '', '', ''];
  return ['staff', actor.organisationId, actor.role, actor.accountId];
}
