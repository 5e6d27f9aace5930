/** Throwaway registries for benchmarks: a temporary PGlite folder, or a new database on the server. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/open.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Db, Driver } from '../src/db/types.ts';

/** Creates the throwaway database and keyring; returns a config pointing at them and a cleanup. */
export async function throwaway(config: Config): Promise<{ config: Config; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rempart-bench-'));
  const keyringPath = path.join(dir, 'keyring.json');
  if (config.databaseUrl === undefined) {
    return {
      config: { ...config, dataDir: dir, keyringPath },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = `rempart_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(config.databaseUrl);
  url.pathname = `/${name}`;
  return {
    config: { ...config, dataDir: dir, keyringPath, databaseUrl: url.toString() },
    cleanup: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `fn` on a throwaway migrated database (owner driver and application Db over it, two
 * connections on a server), then drops it, whatever happens.
 */
export async function withThrowawayDb<T>(
  base: Config,
  fn: (driver: Driver, db: Db, config: Config) => Promise<T>,
): Promise<T> {
  const { config, cleanup } = await throwaway(base);
  try {
    const driver =
      config.databaseUrl !== undefined
        ? await openPostgres(config.databaseUrl, { max: 2 })
        : await openPglite(path.join(config.dataDir, 'pglite'));
    const db = createDb(driver);
    try {
      await migrate(driver);
      return await fn(driver, db, config);
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}
