/** Throwaway registries for benchmarks: a temporary PGlite folder, or a new database on the server. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../src/config.ts';

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
