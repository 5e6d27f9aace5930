/**
 * The `rempart` command as an operator runs it: init, seed, import, serve (and `npm start`'s
 * serve --demo), bench — in child processes, on PGlite or on the PostgreSQL server under test.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { buildNir } from '../src/registry/nir.ts';
import { findPersonIds, openIdentity } from '../src/registry/persons.ts';
import {
  cliEnv,
  freePort,
  initDataDir,
  lastJsonLine,
  rempart,
  startRempart,
  waitForOk,
} from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart command on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function countPersons(): Promise<number> {
    const db = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    try {
      const rows = await db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons'),
      );
      return rows[0]!.n;
    } finally {
      await db.close();
    }
  }

  it('init creates a 0600 keyring in a 0700 folder, and refuses to overwrite it', async () => {
    const first = await rempart(['init', '--json'], env);
    expect(first.code).toBe(0);
    expect(lastJsonLine(first.stdout)).toMatchObject({ keyring: path.join(dir, 'data', 'keyring.json') });
    const keyring = path.join(dir, 'data', 'keyring.json');
    expect((await stat(keyring)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'data'))).mode & 0o777).toBe(0o700);
    const before = await readFile(keyring, 'utf8');
    const second = await rempart(['init'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('never overwritten');
    expect(await readFile(keyring, 'utf8')).toBe(before);
  });

  it('seed creates what is missing and prints the JSON summary as its last line', async () => {
    const result = await rempart(['seed', '--persons', '1200', '--seed', '3', '--json'], env);
    expect(result.code).toBe(0);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ persons: 1200 });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(summary.personsPerSecond).toBeGreaterThan(0);
    expect(await countPersons()).toBe(1200);
  });

  it.each([
    [['seed', '--persons', '0'], '--persons must be a positive integer'],
    [['seed', '--persons', 'many'], '--persons must be a positive integer'],
    [['seed'], "required option '--persons <n>' not specified"],
    [['seed', '--persons', '5', '--as-of', '2026-02-30'], 'must be a date written YYYY-MM-DD'],
  ])('rejects bad arguments: %j', async (args, message) => {
    const result = await rempart(args, env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('import refuses a file with a bad row, naming line and field, and writes nothing', async () => {
    await initDataDir(env);
    await rempart(['seed', '--persons', '20', '--seed', '4'], env);
    const nir = buildNir({
      sex: '1',
      birthYear: 1985,
      birthMonth: 5,
      department: '75',
      commune: '056',
      order: 12,
    });
    const header =
      'agency_id,nir,last_name,birth_name,first_names,sex,birth_date,birth_commune_code,birth_country_code,birth_place_name,email,phone,address_line,postal_code,city,status,agency_code,registered_on,deregistered_on,caseload_code,caseload_since';
    const good = `7654321K,${nir},Durand,,Paul,M,1985-05-04,75056,,,paul@example.org,0612345678,1 rue de Rivoli,75001,Paris,registered,AGENCY,2024-01-02,,,`;
    const badKey = `7654322K,${nir.slice(0, 13)}${nir.slice(13) === '01' ? '02' : '01'},Durand,,Pierre,M,1985-05-04,75056,,,,,,,,registered,AGENCY,2024-01-02,,,`;
    const db = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    const [agency] = await db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ code: string }>(`SELECT code FROM organisations WHERE kind = 'agency' LIMIT 1`),
    );
    await db.close();
    const file = path.join(dir, 'persons.csv');
    await writeFile(file, [header, good, badKey].join('\n').replaceAll('AGENCY', agency!.code));
    const refused = await rempart(['import', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 3, nir: control key does not match');
    expect(refused.stderr).not.toContain(nir.slice(0, 13));
    expect(await countPersons()).toBe(20);
    const partial = await rempart(['import', file, '--skip-invalid', '--json'], env);
    expect(partial.code).toBe(0);
    expect(lastJsonLine(partial.stdout)).toMatchObject({ rows: 2, imported: 1, rejected: 1 });
    expect(await countPersons()).toBe(21);
  });

  // Issue 17, tried as a new user would: civil status as it really is goes through `rempart import`.
  it('import takes a person born in Tunis in 1950, month unknown (NIR 96, month code 20), found as BENMBAREK + 1950', async () => {
    await initDataDir(env);
    await rempart(['seed', '--persons', '20', '--seed', '4'], env);
    const nir = buildNir({
      sex: '1',
      birthYear: 1950,
      birthMonth: 20,
      department: '96',
      commune: '101',
      order: 7,
    });
    const db = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    const [agency] = await db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ code: string }>(`SELECT code FROM organisations WHERE kind = 'agency' LIMIT 1`),
    );
    await db.close();
    const file = path.join(dir, 'tunis.csv');
    await writeFile(
      file,
      [
        'agency_id,nir,last_name,first_names,sex,birth_date,birth_country_code,birth_place_name,status,agency_code,registered_on',
        `7654329K,${nir},Ben M'Barek,Habib,M,1950-00-00,99351,Tunis,registered,${agency!.code},2024-01-02`,
      ].join('\n'),
    );
    const imported = await rempart(['import', file, '--json'], env);
    expect(imported.stderr).toBe('');
    expect(lastJsonLine(imported.stdout)).toMatchObject({ rows: 1, imported: 1, rejected: 0 });
    const keys = await openKeys({ keyringPath: path.join(dir, 'data', 'keyring.json') });
    const after = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    try {
      await after.tx(systemCtx('test').actor, async (tx) => {
        const query = {
          by: 'nameBirth',
          lastName: 'BENMBAREK',
          firstName: 'habib',
          birthDate: '1950',
        } as const;
        const [id] = await findPersonIds(tx, keys.registry, query);
        expect(await findPersonIds(tx, keys.registry, { by: 'nir', nir })).toEqual([id]);
        expect(await openIdentity(tx, keys.registry, id!, ['lastName', 'birthDate', 'birthPlace'])).toEqual({
          lastName: "Ben M'Barek",
          birthDate: '1950-00-00',
          birthPlace: { countryCode: '99351', country: 'Tunisie', commune: 'Tunis' },
        });
      });
    } finally {
      await after.close();
    }
  });

  it('serve answers /api/health once ready, and stops cleanly on SIGTERM', async () => {
    await initDataDir(env);
    const port = await freePort();
    const { child, output } = startRempart(['serve'], { ...env, PORT: String(port) });
    try {
      await waitForOk(`http://127.0.0.1:${port}/api/health`, 30_000);
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      expect(await response.json()).toMatchObject({ status: 'ok', audit: { pendingEvents: 0 } });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(output()).not.toMatch(/Error|at .*\.ts:\d+/);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 1 and 65535'],
    [{ HOST: 'bad host!' }, 'HOST is not a host name or address'],
    [{ DATABASE_URL: 'mysql://localhost/x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
  ])('serve refuses a bad configuration, saying why: %j', async (vars, reason) => {
    const result = await rempart(['serve'], { ...env, ...vars });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`rempart: bad configuration: ${reason}`);
  });

  it('serve refuses to start without a keyring', async () => {
    const result = await rempart(['serve'], { ...env, PORT: String(await freePort()) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('run "rempart init" first');
  });

  it('bench lookup prints latencies as its last line', async () => {
    const result = await rempart(['bench', 'lookup', '--persons', '1500', '--samples', '40', '--json'], env);
    expect(result.code).toBe(0);
    const summary = lastJsonLine(result.stdout) as Record<string, Record<string, number>>;
    for (const kind of ['nir', 'nameBirth', 'agencyId']) {
      expect(summary[kind]!.p50Ms).toBeGreaterThan(0);
      expect(summary[kind]!.p99Ms).toBeGreaterThanOrEqual(summary[kind]!.p50Ms!);
    }
    expect(summary.persons).toBe(1500);
  });
});
