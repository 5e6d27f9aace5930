/** openDb: PGlite in the data folder by default, a PostgreSQL server when DATABASE_URL is set. */
import type { Config } from '../config.ts';
import type { Actor } from '../context.ts';
import { AppError } from '../errors.ts';
import { migrate } from './migrate.ts';
import { openEmbedded } from './open-embedded.ts';
import { openPostgres } from './postgres.ts';
import { APP_ROLE, type Db, type Driver, SEQUENCER_ROLE, type TxOptions, type TxSettings } from './types.ts';

/** How openDb opens the embedded database (PGlite): see open-embedded.ts. */
export interface OpenOptions {
  /** Share the database with the CLI over a socket in the data folder (`rempart serve`). */
  share?: boolean;
  /**
   * A command that streams one long transaction (`rempart import`): if this process opens PGlite
   * itself, small shared buffers (pglite.ts, COMPACT_SETTINGS). No effect on PostgreSQL or through
   * a server's socket.
   */
  compact?: boolean;
}

/** Opens the configured database, applies pending migrations, and returns the application's Db. */
export async function openDb(
  config: Pick<Config, 'dataDir' | 'databaseUrl'> & Partial<Pick<Config, 'databasePoolSize'>>,
  options: OpenOptions = {},
): Promise<Db> {
  let driver: Driver;
  try {
    if (config.databaseUrl !== undefined) {
      driver = await openPostgres(
        config.databaseUrl,
        config.databasePoolSize === undefined ? {} : { max: config.databasePoolSize },
      );
    } else {
      driver = await openEmbedded(config.dataDir, options);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
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
 * security policies read: RLS is the second wall behind the gate (docs/DESIGN.md section 3, step 5).
 */
export function createDb(driver: Driver): Db {
  return {
    kind: driver.kind,
    ...(driver.distributed ? { distributed: true } : {}),
    ...(driver.servedBy === undefined ? {} : { servedBy: driver.servedBy }),
    tx(actor, fn, options = {}) {
      // Citus plans a statement with its values (to route it to a shard), and cannot plan some of
      // the gate's statements generically: the option is for single servers only.
      return driver.transaction(fn, settingsOf(actor, driver.distributed ? {} : options));
    },
    read(actor, sql, params = []) {
      return driver.readOnly(sql, params, settingsOf(actor, {}));
    },
    sequencerTx(fn) {
      return driver.transaction(fn, [['role', SEQUENCER_ROLE]]);
    },
    async ping() {
      const rows = await driver.transaction((tx) => tx.query<{ ok: number }>('SELECT 1 AS ok'));
      return rows[0]?.ok === 1;
    },
    close: () => driver.close(),
  };
}

/** The settings of an application transaction: APP_ROLE and the actor's RLS context. */
function settingsOf(actor: Actor, options: TxOptions): TxSettings {
  const [kind, organisationId, role, accountId] =
    actor.kind === 'staff'
      ? ['staff', actor.organisationId, actor.role, actor.accountId]
      : [actor.kind, '', '', ''];
  return [
    ['role', APP_ROLE],
    ['rempart.actor_kind', kind],
    ['rempart.org_id', organisationId],
    ['rempart.role', role],
    ['rempart.account_id', accountId],
    // A person's transaction (the portal) reaches only their own rows (migration 0019).
    ...(actor.kind === 'person' ? ([['rempart.person_id', actor.personId]] as const) : []),
    ...(options.genericPlans ? ([['plan_cache_mode', 'force_generic_plan']] as const) : []),
  ];
}
