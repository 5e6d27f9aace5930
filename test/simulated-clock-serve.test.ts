/**
 * `rempart serve` with REMPART_CLOCK=simulated (the drill's server): its time is what the parent
 * process sets over the IPC channel, and time-dependent behaviour follows it — a session idles out
 * when the clock jumps 20 minutes, with no real wait; SIGTERM stops it although its channel is open.
 * Without a parent channel it refuses to start. A keyring written before the notices gets its first
 * notice key when the server starts, and the server publishes it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../drill/client.ts';
import { type ServerProcess, startServe } from '../drill/processes.ts';
import { cliEnv, freePort, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';
import { PASSWORD } from './helpers/staff.ts';

describe(`rempart serve on a simulated clock (${engine})`, () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;
  let baseUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-simclock-'));
    database = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: database?.url });
    // An initialised folder (keyring, database); `seed` makes the organisations (FT-DG among them).
    await initDataDir(env);
    expect((await rempart(['seed', '--persons', '10', '--json'], env)).code).toBe(0);
    const passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, PASSWORD, { mode: 0o600 });
    const created = await rempart(
      [
        ...['account', 'create', '--login', 'clock.agent', '--organisation', 'FT-DG', '--role', 'helpdesk'],
        ...['--email', 'clock.agent@drill.rempart.invalid', '--display-name', 'Clock Agent'],
        ...['--password-file', passwordFile, '--json'],
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(lastJsonLine(created.stdout)).toMatchObject({ login: 'clock.agent' });
    // The keyring as a version before the notices wrote it: no notice signing key.
    const keyringPath = path.join(dir, 'data', 'keyring.json');
    const { noticeSigning, ...older } = JSON.parse(await readFile(keyringPath, 'utf8'));
    expect(noticeSigning).toBeDefined();
    await writeFile(keyringPath, JSON.stringify(older), { mode: 0o600 });
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    server = await startServe(
      { ...env, REMPART_CLOCK: 'simulated', HOST: '127.0.0.1', PORT: String(port) },
      baseUrl,
    );
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a keyring from before the notices its first notice key at start, and publishes it', async () => {
    const answer = await fetch(`${baseUrl}/api/v1/notices/keys`);
    expect(answer.status).toBe(200);
    const { keys } = (await answer.json()) as { keys: { name: string; current: boolean }[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]!.current).toBe(true);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'data', 'keyring.json'), 'utf8'));
    expect(onDisk.noticeSigning).toBeDefined();
  });

  it('warns once that time is simulated', () => {
    expect(server!.output().match(/time is simulated/g)).toHaveLength(1);
  });

  it('a session idles out when the clock jumps 20 minutes, and the clock never goes back', async () => {
    const start = new Date(Date.now() + 30 * 86_400_000);
    expect((await server!.setClock(start)).toISOString()).toBe(start.toISOString());
    const client = new DrillClient(baseUrl);
    const login = await client.post('/api/v1/auth/login', { login: 'clock.agent', password: PASSWORD });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    // 14 minutes later (under the 15-minute idle timeout): still on.
    await server!.setClock(new Date(start.getTime() + 14 * 60_000));
    expect((await client.get('/api/v1/me')).status).toBe(200);
    // 20 minutes after that last use: over.
    await server!.setClock(new Date(start.getTime() + 34 * 60_000 + 1_000));
    const after = await client.get('/api/v1/me');
    expect(after.status).toBe(401);
    expect(after.code).toBe('unauthenticated');
    // Back in time is refused, and the server keeps its time.
    await expect(server!.setClock(start)).rejects.toThrow(/refused the time .*does not go back/);
    const again = await client.post('/api/v1/auth/login', { login: 'clock.agent', password: PASSWORD });
    expect(again.status).toBe(200);
    expect((await client.get('/api/v1/me')).status).toBe(200);
  });

  it('stops on SIGTERM by itself, exit 0, its channel to the parent still open (not killed after the grace)', async () => {
    const stopping = server!;
    server = undefined;
    expect(stopping.child.connected).toBe(true);
    await stopping.stop(30_000);
    expect(stopping.child.signalCode).toBeNull();
    expect(stopping.child.exitCode).toBe(0);
  });
});

describe('rempart serve with REMPART_CLOCK=simulated and no parent channel', () => {
  it('refuses to start, saying why', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rempart-simclock-'));
    try {
      const result = await rempart(
        ['serve'],
        cliEnv({
          REMPART_DATA: path.join(dir, 'data'),
          REMPART_CLOCK: 'simulated',
          PORT: String(await freePort()),
        }),
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('REMPART_CLOCK=simulated needs a parent process');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
