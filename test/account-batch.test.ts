/**
 * `rempart account create --batch FILE`: many accounts in one process and one transaction, as the
 * drill's honest month needs (a thousand accounts), all or nothing, every problem named by line and
 * field; in a child process, on PGlite or on the PostgreSQL server under test.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { openDb } from '../src/db/open.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart account create --batch on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  let agency: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-batch-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
    await initDataDir(env);
    expect((await rempart(['seed', '--persons', '20', '--seed', '5'], env)).code).toBe(0);
    const rows = await query<{ code: string }>(
      `SELECT code FROM organisations WHERE kind = 'agency' ORDER BY code LIMIT 1`,
    );
    agency = rows[0]!.code;
    await writeFile(path.join(dir, 'pw-a'), 'granite lantern orchard 57\n', { mode: 0o600 });
    await writeFile(path.join(dir, 'pw-b'), 'copper meadow violin 1984', { mode: 0o600 });
    await writeFile(path.join(dir, 'pw-empty'), '', { mode: 0o600 });
  }, 120_000);
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function query<T>(sql: string): Promise<T[]> {
    const db = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    try {
      return await db.tx(systemCtx('test').actor, (tx) => tx.query<T>(sql));
    } finally {
      await db.close();
    }
  }
  const accountCount = async (): Promise<number> =>
    (await query<{ n: number }>('SELECT count(*)::int AS n FROM accounts'))[0]!.n;

  const line = (login: string, overrides: Record<string, unknown> = {}): string =>
    JSON.stringify({
      login,
      organisation: agency,
      role: 'counselor',
      email: `${login}@agency.example`,
      displayName: `Agent ${login}`,
      passwordFile: 'pw-a',
      ...overrides,
    });

  it('creates every account of the file and prints {created, accounts[{login, id}]}', async () => {
    const before = await accountCount();
    const file = path.join(dir, 'ok.jsonl');
    await writeFile(
      file,
      [
        line('batch.one'),
        '',
        line('batch.two', { passwordFile: 'pw-b' }),
        line('Batch.Three', { organisation: 'FT-DG', role: 'security_officer' }),
      ].join('\n'),
    );
    const result = await rempart(['account', 'create', '--batch', file, '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const printed = lastJsonLine(result.stdout) as {
      created: number;
      accounts: { login: string; id: string }[];
    };
    expect(Object.keys(printed)).toEqual(['created', 'accounts']);
    expect(printed.created).toBe(3);
    expect(printed.accounts.map((a) => a.login)).toEqual(['batch.one', 'batch.two', 'batch.three']);
    for (const a of printed.accounts) expect(Object.keys(a)).toEqual(['login', 'id']);
    expect(await accountCount()).toBe(before + 3);
    const rows = await query<{ login: string; role: string; status: string }>(
      `SELECT login, role, status FROM accounts WHERE login LIKE 'batch.%' ORDER BY login`,
    );
    expect(rows).toEqual([
      { login: 'batch.one', role: 'counselor', status: 'pending_enrolment' },
      { login: 'batch.three', role: 'security_officer', status: 'pending_enrolment' },
      { login: 'batch.two', role: 'counselor', status: 'pending_enrolment' },
    ]);
    // Without --json, one line.
    const second = path.join(dir, 'ok2.jsonl');
    await writeFile(second, `${line('batch.four')}\n`);
    const plain = await rempart(['account', 'create', '--batch', second], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trim()).toBe('created 1 accounts: each logs in, then enrols a second factor');
  });

  it('refuses a file with bad lines, naming each line and field, and creates nothing', async () => {
    const before = await accountCount();
    const file = path.join(dir, 'bad.jsonl');
    await writeFile(
      file,
      [
        line('bad.one'),
        line('bad.two', { role: 'emperor' }),
        JSON.stringify({ login: 'bad.three', organisation: agency, role: 'counselor', passwordFile: 'pw-a' }),
        'not json',
        line('bad.one'),
        line('bad.six', { passwordFile: 'missing-file' }),
        line('bad.seven', { passwordFile: 'pw-empty', extra: 1 }),
      ].join('\n'),
    );
    const result = await rempart(['account', 'create', '--batch', file, '--json'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('account batch refused (8 problems): nothing was created');
    for (const expected of [
      'line 2, role: must be one of',
      'line 3, email: is missing',
      'line 3, displayName: is missing',
      'line 4, line: is not a JSON object',
      'line 5, login: is also on line 1',
      'line 6, passwordFile: cannot be read',
      'line 7, extra: is not a field',
      'line 7, passwordFile: is empty',
    ]) {
      expect(result.stderr).toContain(expected);
    }
    const printed = lastJsonLine(result.stdout) as {
      error: { code: string; issues: { line: number; field: string }[] };
    };
    expect(printed.error.code).toBe('validation_failed');
    expect(printed.error.issues.map((i) => `${i.line} ${i.field}`)).toEqual([
      '2 role',
      '3 email',
      '3 displayName',
      '4 line',
      '5 login',
      '6 passwordFile',
      '7 extra',
      '7 passwordFile',
    ]);
    expect(await accountCount()).toBe(before);
  });

  it('all or nothing: a line the database refuses rolls back the lines before it', async () => {
    const before = await accountCount();
    const file = path.join(dir, 'db.jsonl');
    await writeFile(
      file,
      [
        line('db.one'),
        line('db.two', { organisation: 'XX-NOPE' }),
        line('db.three', { role: 'partner_counselor' }),
        line('batch.one'),
        line('db.five', { passwordFile: 'pw-b', login: 'db.five', displayName: 'copper meadow violin 1984' }),
      ].join('\n'),
    );
    const result = await rempart(['account', 'create', '--batch', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 2, organisation: no organisation with this code');
    expect(result.stderr).toContain('line 3, role: an organisation of kind agency does not hold this role');
    expect(result.stderr).toContain('line 4, login: login is already taken');
    expect(result.stderr).toContain('line 5, ');
    expect(result.stderr).not.toContain('line 1,');
    expect(await accountCount()).toBe(before);
    expect(await query(`SELECT 1 FROM accounts WHERE login = 'db.one'`)).toEqual([]);
  });

  it('refuses --batch with single-account options, and single-account creation without its options', async () => {
    const file = path.join(dir, 'ok.jsonl');
    const mixed = await rempart(['account', 'create', '--batch', file, '--login', 'x.y.z'], env);
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toContain("option '--login <login>' does not go with --batch");
    const none = await rempart(['account', 'create', '--login', 'x.y.z'], env);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("required option '--organisation <code>' not specified");
  });
});
