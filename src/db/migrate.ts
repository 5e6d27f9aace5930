/**
 * Versioned SQL migrations (src/db/migrations/NNNN_name.sql), the same files on PGlite and PostgreSQL.
 * Applied at start under an advisory lock, so several Rempart processes starting together apply each
 * migration once. An applied migration whose file changed stops the start: history is not rewritten.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.ts';
import type { Driver } from './types.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the migration files in version order. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match)
      throw new AppError('bad_configuration', `migration file name not of the form NNNN_name.sql: ${file}`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ version: Number(match[1]), name: match[2]!, sql, checksum });
  }
  return migrations;
}

/** Applies pending migrations in one transaction; returns the versions applied. */
export async function migrate(driver: Driver, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  return driver.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(7236001)`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await tx.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    const known = new Map(applied.map((row) => [row.version, row.checksum]));
    const done: number[] = [];
    for (const migration of all) {
      const checksum = known.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new AppError(
            'bad_configuration',
            `migration ${migration.version} (${migration.name}) was changed after it was applied`,
          );
        }
        continue;
      }
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      done.push(migration.version);
    }
    const newest = Math.max(0, ...all.map((m) => m.version));
    const ahead = applied.filter((row) => row.version > newest);
    if (ahead.length > 0) {
      throw new AppError(
        'bad_configuration',
        `the database has migrations newer than this Rempart (${ahead[0]!.version})`,
      );
    }
    return done;
  });
}
