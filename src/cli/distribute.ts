/** `rempart db distribute`: the migrated schema turned into Citus tables (src/db/distribute.ts). */
import type { Config } from '../config.ts';
import { type DistributeResult, distribute } from '../db/distribute.ts';
import { migrate } from '../db/migrate.ts';
import { openPostgres } from '../db/postgres.ts';
import { AppError } from '../errors.ts';

export interface DistributeSummary extends DistributeResult {
  seconds: number;
}

/** Migrates (a no-op when current), then distributes; one line of refusal otherwise, nothing changed. */
export async function runDistribute(config: Pick<Config, 'databaseUrl'>): Promise<DistributeSummary> {
  if (config.databaseUrl === undefined) {
    throw new AppError(
      'bad_configuration',
      'DATABASE_URL must name the Citus coordinator: the embedded database cannot be distributed',
    );
  }
  const started = performance.now();
  let driver: Awaited<ReturnType<typeof openPostgres>>;
  try {
    driver = await openPostgres(config.databaseUrl, { max: 1 });
  } catch (error) {
    throw new AppError('database_unavailable', `cannot open the database: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    // Refused before the migrations run: a server without Citus is left as it was.
    if (!driver.distributed) {
      throw new AppError(
        'bad_configuration',
        'this database is not a Citus coordinator: the citus extension is not installed in it',
      );
    }
    await migrate(driver);
    const result = await distribute(driver);
    return { ...result, seconds: Math.round(performance.now() - started) / 1000 };
  } finally {
    await driver.close();
  }
}
