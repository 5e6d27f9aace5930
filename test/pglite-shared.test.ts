/**
 * One embedded (PGlite) data folder, several processes (issue 10, section 1): the CLI run while
 * `rempart serve` holds the folder goes through the server's socket, so nothing it writes and
 * nothing the server audits is lost; a second process never opens the folder itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { openDb } from '../src/db/open.ts';
import { breakStale, type HeldLock, lockFileOf, readLock, tryLock } from '../src/db/pglite-lock.ts';
import { SOCKET_NAME, socketDirOf } from '../src/db/pglite-share.ts';
import { SESSION_COOKIE } from '../src/identity/sessions.ts';
import { buildNir } from '../src/registry/nir.ts';
import {
  cliEnv,
  freePort,
  initDataDir,
  lastJsonLine,
  rempart,
  startRempart,
  waitForOk,
} from './helpers/cli.ts';
import { engine } from './helpers/db.ts';

const PASSWORD = 'granite lantern orchard 57';
const HEADER =
  'agency_id,nir,last_name,birth_name,first_names,sex,birth_date,birth_commune_code,birth_country_code,birth_place_name,email,phone,address_line,postal_code,city,status,agency_code,registered_on,deregistered_on,caseload_code,caseload_since';

interface Known {
  lastName: string;
  firstName: string;
  birthDate: string;
}

/** Letters only (names accept no digits): 0 → a, 26 → ba. */
function letters(i: number): string {
  let s = '';
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  } while (i > 0);
  return s;
}

/** `count` valid CSV rows of persons in `agency`, numbered from `from` (unique NIR and agency id). */
function personsCsv(from: number, count: number, agency: string): { text: string; persons: Known[] } {
  const rows = [HEADER];
  const persons: Known[] = [];
  for (let i = from; i < from + count; i += 1) {
    const year = 1960 + (i % 40);
    const month = 1 + (i % 12);
    const nir = buildNir({
      sex: '1',
      birthYear: year,
      birthMonth: month,
      department: '75',
      commune: '056',
      order: 1 + i,
    });
    const person = {
      lastName: `Essai${letters(i)}`,
      firstName: 'Paul',
      birthDate: `${year}-${String(month).padStart(2, '0')}-15`,
    };
    persons.push(person);
    rows.push(
      `${8000000 + i}Q,${nir},${person.lastName},,Paul,M,${person.birthDate},75056,,,,,,,,registered,${agency},2024-01-02,,,`,
    );
  }
  return { text: `${rows.join('\n')}\n`, persons };
}

/** A staff member's browser: the session cookie and the CSRF token, kept as a page would. */
class Staff {
  cookie = '';
  csrf = '';
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  async call(method: 'GET' | 'POST', route: string, body?: unknown) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cookie) headers.cookie = `${SESSION_COOKIE}=${this.cookie}`;
    if (method === 'POST' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.base}${route}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair!.split('=');
      if (name === SESSION_COOKIE) this.cookie = value ?? '';
    }
    const json = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (typeof json?.csrfToken === 'string') this.csrf = json.csrfToken;
    return { status: response.status, body: json, requestId: response.headers.get('x-request-id') ?? '' };
  }
  /** First login of a new account: password, then an authenticator app enrolled (mfa session). */
  async enrol(login: string): Promise<void> {
    expect((await this.call('POST', '/api/v1/auth/login', { login, password: PASSWORD })).status).toBe(200);
    const started = await this.call('POST', '/api/v1/me/factors/totp', {});
    const { factorId, secret } = started.body as { factorId: string; secret: string };
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    expect((await this.call('POST', '/api/v1/me/factors/totp/confirm', { factorId, code })).status).toBe(200);
  }
}

/** One answer a staff member received: its request and the persons and fields in it. */
interface Answer {
  requestId: string;
  persons: { id: string; fields: string[] }[];
}

function viewsOf(body: unknown): { id: string; fields: string[] }[] {
  const b = body as { results?: Record<string, unknown>[]; person?: Record<string, unknown> };
  const views = b.results ?? (b.person ? [b.person] : []);
  return views.map((v) => ({ id: String(v.id), fields: Object.keys(v).filter((k) => k !== 'id') }));
}

/** Stops a server with SIGTERM; resolves with its exit code. */
async function stop(child: ReturnType<typeof startRempart>['child']): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe.skipIf(engine !== 'pglite')('one PGlite folder shared by the server and the CLI', () => {
  let dir: string;
  let data: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-share-'));
    data = path.join(dir, 'data');
    env = cliEnv({
      REMPART_DATA: data,
      REMPART_GUARD: 'off',
      REMPART_AUDIT_SEQUENCE_MS: '50',
      REMPART_AUDIT_CHECKPOINT_EVENTS: '25',
      REMPART_NEW_PASSWORD: PASSWORD,
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves audited reads while the CLI imports, seeds, scopes and verifies: nothing is lost, no fork', async () => {
    await initDataDir(env);
    expect((await rempart(['seed', '--persons', '150', '--seed', '7'], env)).code).toBe(0);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serverEnv = { ...env, PORT: String(port) };
    let server = startRempart(['serve'], serverEnv);
    await waitForOk(`${base}/api/health`, 60_000);
    // From here on, every process (this one too) reaches the database through the server's socket.
    let agency: string;
    {
      const db = await openDb({ dataDir: data, databaseUrl: undefined });
      expect(db.servedBy).toBe(server.child.pid);
      const [row] = await db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ code: string }>(
          `SELECT code FROM organisations WHERE kind = 'agency' ORDER BY code LIMIT 1`,
        ),
      );
      agency = row!.code;
      await db.close();
    }
    const first = personsCsv(0, 40, agency);
    await writeFile(path.join(dir, 'a.csv'), first.text);
    expect((await rempart(['import', path.join(dir, 'a.csv')], env)).code).toBe(0);
    const ids: string[] = [];
    for (const login of ['reader.one', 'reader.two']) {
      const created = await rempart(
        [
          'account',
          'create',
          '--login',
          login,
          '--organisation',
          agency,
          '--role',
          'counselor',
          '--email',
          `${login}@example.org`,
          '--display-name',
          login,
          '--json',
        ],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      ids.push(String(lastJsonLine(created.stdout).id));
    }
    // The socket the CLI reaches the server on: owner only, in an owner-only folder.
    expect((await stat(path.join(socketDirOf(data), SOCKET_NAME))).mode & 0o777).toBe(0o600);
    expect((await stat(socketDirOf(data))).mode & 0o777).toBe(0o700);
    expect(await readLock(lockFileOf(data))).toMatchObject({
      pid: server.child.pid,
      command: 'rempart serve',
    });
    const readers = [new Staff(base), new Staff(base)];
    await readers[0]!.enrol('reader.one');
    await readers[1]!.enrol('reader.two');
    const from = new Date(Date.now() - 60_000).toISOString();
    const answers: Answer[] = [];
    const refused: string[] = [];
    let reading = true;
    const read = async (staff: Staff, offset: number): Promise<void> => {
      for (let i = offset; reading; i += 1) {
        const p = first.persons[i % first.persons.length]!;
        const found = await staff.call('POST', '/api/v1/persons/search', {
          purpose: 'accompaniment',
          by: 'nameBirth',
          ...p,
        });
        if (found.status !== 200) {
          refused.push(`search ${found.status}`);
          continue;
        }
        answers.push({ requestId: found.requestId, persons: viewsOf(found.body) });
        const id = viewsOf(found.body)[0]?.id;
        if (id === undefined) continue;
        const seen = await staff.call('GET', `/api/v1/persons/${id}?purpose=accompaniment`);
        if (seen.status !== 200) refused.push(`view ${seen.status}`);
        else answers.push({ requestId: seen.requestId, persons: viewsOf(seen.body) });
      }
    };
    const load = Promise.all(readers.map((staff, i) => read(staff, i * 7)));

    // The CLI, while the server serves and audits reads.
    const second = personsCsv(500, 300, agency);
    await writeFile(path.join(dir, 'b.csv'), second.text);
    const imported = await rempart(['import', path.join(dir, 'b.csv'), '--json'], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(lastJsonLine(imported.stdout)).toMatchObject({ imported: 300 });
    const seeded = await rempart(['seed', '--persons', '60', '--seed', '8', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const scoped = await rempart(
      [
        'audit',
        'scope',
        '--account',
        ids[0]!,
        '--from',
        from,
        '--to',
        new Date(Date.now() + 3_600_000).toISOString(),
        '--json',
      ],
      env,
    );
    expect(scoped.code, scoped.stderr).toBe(0);
    const verified = await rempart(['audit', 'verify', '--json'], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(lastJsonLine(verified.stdout)).toMatchObject({ ok: true });
    reading = false;
    await load;

    expect(await stop(server.child)).toBe(0);
    expect(server.output()).not.toMatch(/Error|at .*\.ts:\d+/);
    // Stopped: the lock released, the socket removed.
    await expect(stat(lockFileOf(data))).rejects.toThrow();
    await expect(stat(path.join(socketDirOf(data), SOCKET_NAME))).rejects.toThrow();
    // Restarted: the log verifies again, through the server.
    server = startRempart(['serve'], serverEnv);
    await waitForOk(`${base}/api/health`, 60_000);
    const again = await rempart(['audit', 'verify', '--json'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(refused).toEqual([]);
    expect(answers.length).toBeGreaterThan(10);
    const db = await openDb({ dataDir: data, databaseUrl: undefined });
    try {
      const system = systemCtx('test').actor;
      // Every answer a client received is in the audit log, with its persons and fields.
      const logged = await db.tx(system, (tx) =>
        tx.query<{ request_id: string; person_id: string; fields: string[] }>(
          `SELECT e.request_id, p.person_id::text AS person_id, p.fields
             FROM audit_events e JOIN audit_event_persons p ON p.event_id = e.id
            WHERE e.request_id = ANY($1::text[])`,
          [answers.map((a) => a.requestId)],
        ),
      );
      const byRequest = new Map<string, Map<string, string[]>>();
      for (const row of logged) {
        const persons = byRequest.get(row.request_id) ?? new Map<string, string[]>();
        persons.set(row.person_id, row.fields);
        byRequest.set(row.request_id, persons);
      }
      for (const answer of answers) {
        for (const person of answer.persons) {
          expect(byRequest.get(answer.requestId)?.get(person.id), answer.requestId).toEqual(
            expect.arrayContaining(person.fields),
          );
        }
      }
      // Every imported and seeded person is there; the scope run was logged.
      const [counts] = await db.tx(system, (tx) =>
        tx.query<{ persons: number; scopes: number }>(
          `SELECT (SELECT count(*)::int FROM persons) AS persons,
                  (SELECT count(*)::int FROM audit_events WHERE action = 'audit.scope') AS scopes`,
        ),
      );
      const [pending] = await db.sequencerTx((tx) =>
        tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_pending'),
      );
      const seededPersons = Number(lastJsonLine(seeded.stdout).persons);
      expect({ ...counts, pending: pending!.n }).toEqual({
        persons: 150 + 40 + 300 + seededPersons,
        scopes: 1,
        pending: 0,
      });
    } finally {
      await db.close();
    }
    // A command under way over the socket when the server stops: it fails with one line and exit
    // 1, it does not go on in a PGlite of its own.
    const long = rempart(['seed', '--persons', '50000', '--seed', '9'], env);
    {
      // Stop the server once the seed's first chunk (1,000 persons, one transaction) is in.
      const watcher = await openDb({ dataDir: data, databaseUrl: undefined });
      const count = async () =>
        (
          await watcher.tx(systemCtx('test').actor, (tx) =>
            tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons'),
          )
        )[0]!.n;
      const before = await count();
      while ((await count()) === before) await new Promise((resolve) => setTimeout(resolve, 100));
      await watcher.close();
    }
    expect(await stop(server.child)).toBe(0);
    const cut = await long;
    expect(cut.code, cut.stderr).toBe(1);
    expect(cut.stderr.trim().split('\n'), cut.stderr).toHaveLength(1);
    expect(cut.stderr).toContain('was lost: it stopped or restarted before this command finished');
    // The published checkpoint file has one root per size: no fork.
    const roots = new Map<string, string>();
    const text = await readFile(path.join(data, 'audit-checkpoints.txt'), 'utf8');
    for (const note of text.split('\n\n').filter((n) => n.trim() !== '' && !n.startsWith('\u2014'))) {
      const [, size, root] = note.trim().split('\n');
      if (size === undefined || root === undefined) continue;
      expect(roots.get(size) ?? root, `checkpoint ${size}`).toBe(root);
      roots.set(size, root);
    }
    expect(roots.size).toBeGreaterThan(1);
  }, 180_000);

  it('keeps whole transactions apart and resets what a socket client leaves in the one session', async () => {
    const folder = path.join(dir, 'session');
    const served = await openDb({ dataDir: folder, databaseUrl: undefined }, { share: true });
    const clientA = await openDb({ dataDir: folder, databaseUrl: undefined });
    const clientB = await openDb({ dataDir: folder, databaseUrl: undefined });
    try {
      expect(clientA.servedBy).toBe(process.pid);
      const system = systemCtx('test').actor;
      const order: string[] = [];
      let letGo!: () => void;
      const held = new Promise<void>((resolve) => {
        letGo = resolve;
      });
      let started!: () => void;
      const inside = new Promise<void>((resolve) => {
        started = resolve;
      });
      // A socket client's transaction waits half-way; the server's own transaction must wait for
      // its end, and must not see its transaction-local setting (it would, run inside it).
      const client = clientA.tx(system, async (tx) => {
        await tx.query(`SELECT set_config('rempart.role', 'client-tx', true)`);
        order.push('client in');
        started();
        await held;
        order.push('client out');
      });
      await inside;
      const server = served.tx(system, async (tx) => {
        order.push('server in');
        const [row] = await tx.query<{ role: string }>(`SELECT current_setting('rempart.role') AS role`);
        return row!.role;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      letGo();
      await client;
      expect(await server).toBe('');
      expect(order).toEqual(['client in', 'client out', 'server in']);
      // Two socket clients with the same parameterised statements: no named statement clashes.
      for (const db of [clientA, clientB, clientA]) {
        expect(await db.read(system, 'SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
      }
      // What a client leaves in the session (a SET, a session advisory lock) goes with it.
      const owner = await openDb({ dataDir: folder, databaseUrl: undefined });
      await owner.sequencerTx(async (tx) => {
        await tx.query(`SELECT pg_advisory_lock(4242)`);
        await tx.query(`SET SESSION statement_timeout = '4242'`);
      });
      await owner.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [left] = await served.sequencerTx((tx) =>
        tx.query<{ locks: number; timeout: string }>(
          `SELECT (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS locks,
                  current_setting('statement_timeout') AS timeout`,
        ),
      );
      expect(left).toEqual({ locks: 0, timeout: '0' });
    } finally {
      await clientA.close();
      await clientB.close();
      await served.close();
    }
  });

  it('stops after the transactions in progress; a client then fails clearly, with nothing half-written', async () => {
    const folder = path.join(dir, 'stopping');
    const served = await openDb({ dataDir: folder, databaseUrl: undefined }, { share: true });
    const client = await openDb({ dataDir: folder, databaseUrl: undefined });
    const system = systemCtx('test').actor;
    await served.tx(system, (tx) => tx.query('SELECT 1'));
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let started!: () => void;
    const inside = new Promise<void>((resolve) => {
      started = resolve;
    });
    const writing = client.tx(system, async (tx) => {
      await tx.query(`SELECT 1`);
      started();
      await held;
      return 'committed';
    });
    await inside;
    let closed = false;
    const closing = served.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false); // waits for the client's transaction
    letGo();
    expect(await writing).toBe('committed');
    await closing;
    await expect(stat(lockFileOf(folder))).rejects.toThrow();
    await expect(stat(path.join(socketDirOf(folder), SOCKET_NAME))).rejects.toThrow();
    // The server is gone: the client's next transaction fails, it never opens the folder itself.
    const next = await client.tx(system, (tx) => tx.query('SELECT 1')).catch((error: unknown) => error);
    expect(next).toMatchObject({ code: 'database_unavailable' });
    expect((next as Error).message).toContain('was lost: it stopped or restarted');
    await expect(stat(lockFileOf(folder))).rejects.toThrow();
    await client.close();
  });

  it('of many takers of a free or stale lock, exactly one wins', async () => {
    // A lock left by a process that is gone (pid 2^22 + 1 is above Linux's pid_max).
    const dead = {
      pid: 4_194_305,
      command: 'rempart import',
      startedAt: new Date().toISOString(),
      nonce: 'x',
    };
    for (const stale of [false, true]) {
      const folder = await mkdtemp(path.join(dir, 'race-'));
      if (stale) {
        // A lock left by a process that is gone (pid 2^22 + 1 is above Linux's pid_max).
        const dead = {
          pid: 4_194_305,
          command: 'rempart import',
          startedAt: new Date().toISOString(),
          nonce: 'x',
        };
        await writeFile(lockFileOf(folder), JSON.stringify(dead));
      }
      const takers = await Promise.all(Array.from({ length: 12 }, () => tryLock(folder, 'rempart test')));
      const winners = takers.filter((t) => 'release' in t);
      expect(winners).toHaveLength(1);
      const winner = winners[0] as HeldLock;
      for (const loser of takers.filter((t) => !('release' in t))) {
        expect(loser).toMatchObject({ pid: process.pid, nonce: winner.holder.nonce });
      }
      expect(await readLock(lockFileOf(folder))).toEqual(winner.holder);
      if (stale) {
        // A slow taker that read the stale lock before the winner replaced it breaks it only now:
        // the winner's lock stays.
        await breakStale(lockFileOf(folder), dead);
        expect(await readLock(lockFileOf(folder))).toEqual(winner.holder);
      }
      await winner.release();
      await expect(stat(lockFileOf(folder))).rejects.toThrow();
    }
  });

  it('a second process on a held folder gets one clear line and exit 1; a stale lock is taken over', async () => {
    const other = path.join(dir, 'held');
    const otherEnv = { ...env, REMPART_DATA: other };
    await initDataDir(otherEnv);
    // A process holding the folder with no server: a long-lived child that took the lock.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { openDb } = await import(${JSON.stringify(new URL('../src/db/open.ts', import.meta.url).href)});
         await openDb({ dataDir: ${JSON.stringify(other)}, databaseUrl: undefined });
         console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout!.on('data', () => resolve()));
      // A command and a server alike: each waits a few seconds for the folder, then refuses.
      const [command, server] = await Promise.all([
        rempart(['audit', 'verify'], otherEnv),
        rempart(['serve'], { ...otherEnv, PORT: String(await freePort()) }),
      ]);
      for (const refused of [command, server]) {
        expect(refused.code).toBe(1);
        const lines = refused.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`is in use by process ${holder.pid} (rempart`);
        expect(lines[0]).toContain('wait for that one to finish');
      }
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.on('exit', resolve));
    }
    // Killed: its lock is left behind, with a dead pid; the next process takes it over.
    expect((await readLock(lockFileOf(other)))?.pid).toBe(holder.pid);
    const taken = await rempart(['audit', 'verify'], otherEnv);
    expect(taken.code, taken.stderr).toBe(0);
    await expect(stat(lockFileOf(other))).rejects.toThrow();
  }, 120_000);
});
