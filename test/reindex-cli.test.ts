/**
 * `rempart reindex` as an operator runs it on a database written under the version-1 name key
 * (migration 0029): the JSON summary other tools read, the new keys written, no name in its output
 * or its logs, and a second run that finds nothing to do and says so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { IDENTITY_FIELDS, type Identity } from '../src/registry/person.ts';
import { findPersonIds, openIdentity } from '../src/registry/persons.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';
import { registerNamed, writeLegacyNameKeys } from './helpers/name-keys.ts';

const system = systemCtx('test').actor;

describe(`rempart reindex on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  let names: string[] = [];
  let template: Identity;
  let ndiaye: string;
  let legacyRows = 0;

  /** Opens the folder's database and keys in this process, for what the test prepares and checks. */
  async function withRegistry<T>(
    use: (db: Awaited<ReturnType<typeof openDb>>, keys: Awaited<ReturnType<typeof openKeys>>) => Promise<T>,
  ): Promise<T> {
    const config = loadConfig(env);
    const keys = await openKeys(config);
    const db = await openDb(config);
    try {
      return await use(db, keys);
    } finally {
      await db.close();
    }
  }

  const findNdiaye = (typed: string): Promise<string[]> =>
    withRegistry((db, keys) =>
      db.tx(system, (tx) =>
        findPersonIds(tx, keys.registry, {
          by: 'nameBirth',
          lastName: typed,
          firstName: template.firstNames,
          birthDate: template.birthDate,
        }),
      ),
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-reindex-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
    await initDataDir(env);
    const seeded = await rempart(['seed', '--persons', '300', '--seed', '3', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    await withRegistry(async (db, keys) => {
      const rows = await db.tx(system, (tx) =>
        tx.query<{ id: string; agency: string }>(
          `SELECT id, agency_organisation_id AS agency FROM persons WHERE status = 'registered' ORDER BY id LIMIT 1`,
        ),
      );
      template = (await db.tx(system, (tx) =>
        openIdentity(tx, keys.registry, rows[0]!.id, IDENTITY_FIELDS),
      )) as Identity;
      ndiaye = await registerNamed(
        db,
        keys.registry,
        { identity: template, agencyOrganisationId: rows[0]!.agency },
        { lastName: "N'Diaye", birthName: 'Ødegaard' },
      );
      // Every name of the registry, to look for in the command's output and logs.
      const ids = await db.tx(system, (tx) =>
        tx.query<{ id: string }>('SELECT id FROM persons WHERE sealed IS NOT NULL'),
      );
      const found = new Set<string>();
      await db.tx(system, async (tx) => {
        for (const { id } of ids) {
          const identity = await openIdentity(tx, keys.registry, id, ['lastName', 'birthName', 'firstNames']);
          for (const name of [identity?.lastName, identity?.birthName, identity?.firstNames])
            if (name && name.length >= 4) found.add(name);
        }
      });
      names = [...found];
      legacyRows = await writeLegacyNameKeys(db, keys.registry);
    });
  }, 240_000);
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reindexes every row, says what it did in JSON, prints and logs no name; then has nothing to do', async () => {
    expect(legacyRows).toBeGreaterThan(300);
    expect(await findNdiaye('NDIAYE')).toEqual([]);
    expect(await findNdiaye("N'Diaye")).toEqual([ndiaye]);

    const done = await rempart(['reindex', '--json'], { ...env, LOG_LEVEL: 'debug' });
    expect(done.code, done.stderr).toBe(0);
    const summary = lastJsonLine(done.stdout);
    expect(summary).toMatchObject({ pending: legacyRows, upToDate: false });
    expect((summary.persons as number) + (summary.archived as number)).toBe(legacyRows);
    expect(summary.updated).toBeGreaterThan(0);
    expect(typeof summary.seconds).toBe('number');
    expect(summary.personsPerSecond).toBeGreaterThan(0);
    const output = done.stdout + done.stderr;
    expect(names.length).toBeGreaterThan(100);
    for (const name of [...names, "N'Diaye", 'NDIAYE', 'Ødegaard', 'ODEGAARD'])
      expect(output.includes(name), 'a name in the output').toBe(false);

    expect(await findNdiaye('NDIAYE')).toEqual([ndiaye]);
    expect(await findNdiaye('ODEGAARD')).toEqual([ndiaye]);

    const again = await rempart(['reindex', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJsonLine(again.stdout)).toMatchObject({
      persons: 0,
      archived: 0,
      updated: 0,
      pending: 0,
      upToDate: true,
    });
    const text = await rempart(['reindex'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('already up to date');
  });
});
