/**
 * `npm start` as a newcomer meets it, in child processes: on a fresh machine it seeds 10,000
 * persons and answers /api/health within 60 s; the printed URL is where the server listens and its
 * cookies work there; the demo accounts (every role, passwords in a 0600 file) are counted right
 * and listed with persons to search for; a second start seeds nothing and does not ask an enrolled
 * account to enrol again. Then the operator's tools: `account list [--organisation] [--json]`,
 * `audit scope --account <login>`.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoAccount } from '../src/cli/demo-accounts.ts';
import { systemCtx } from '../src/context.ts';
import { openDb } from '../src/db/open.ts';
import { cliEnv, freePort, lastJsonLine, rempart, startRempart, waitForOk } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field with expect
type Json = any;

/** A client that keeps the session cookie and the CSRF token, over real HTTP. */
class HttpClient {
  cookie: string | undefined;
  csrf: string | undefined;
  setCookies: string[] = [];
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  async request(method: string, url: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.base}${url}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const set = response.headers.getSetCookie();
    if (set.length > 0) {
      this.setCookies.push(...set);
      this.cookie = set[0]!.split(';')[0];
    }
    const json = (await response.json()) as Json;
    if (typeof json?.csrfToken === 'string') this.csrf = json.csrfToken;
    return { status: response.status, json };
  }
}

/** Waits until the server's output holds `text` (the help is printed once the server listens). */
async function outputWith(output: () => string, text: string, timeoutMs = 30_000): Promise<string> {
  const started = Date.now();
  while (!output().includes(text)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no "${text}" in: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return output();
}

describe(`npm start and the operator's first commands on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-first-'));
    server = await emptyServerDatabase();
    // HOST and PUBLIC_URL left to their defaults, as after `git clone && npm install && npm start`.
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Persons in the registry (the server must have stopped: PGlite is one process). */
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

  it('serve --demo prints a URL where it listens and whose cookies work, the accounts counted right with persons; a second start asks only the unenrolled to enrol', async () => {
    const port = await freePort();
    const first = startRempart(['serve', '--demo'], { ...env, PORT: String(port) });
    let partner: DemoAccount;
    const searchStart = new Date(Date.now() - 60_000);
    try {
      // A fresh machine is ready within 60 s (keyring, database, 10,000 persons, demo accounts).
      const elapsed = await waitForOk(`http://localhost:${port}/api/health`, 90_000);
      expect(elapsed).toBeLessThan(60_000);
      const output = await outputWith(first.output, 'Every step is in');
      const printed = /serving on (\S+) /.exec(output)?.[1];
      expect(printed).toBe(`http://localhost:${port}`);
      expect(output).toContain(
        '11 demo staff accounts for 8 roles: counselor, org_manager ×3, partner_counselor ×2',
      );
      expect(output).not.toContain('one per role');
      // The console is served at the printed address, as the page of every console path.
      expect(output).toContain(`console at http://localhost:${port}/`);
      for (const pathname of ['/', '/connexion']) {
        const page = await fetch(`http://localhost:${port}${pathname}`, { headers: { accept: 'text/html' } });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<div id="root"></div>');
      }
      expect(output).toContain('Demo accounts');
      // Demo accounts for every role, passwords in a 0600 file.
      const file = path.join(dir, 'data', 'demo-accounts.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const accounts = JSON.parse(await readFile(file, 'utf8')) as DemoAccount[];
      expect(new Set(accounts.map((a) => a.role))).toEqual(
        new Set([
          'counselor',
          'partner_counselor',
          'subcontractor_operator',
          'helpdesk',
          'org_manager',
          'security_officer',
          'dpo',
          'administrator',
        ]),
      );
      partner = accounts.find((a) => a.login === 'demo.partenaire')!;
      expect(partner.persons).toHaveLength(3);
      for (const person of partner.persons!)
        expect(output).toContain(`${person.agencyId}  ${person.lastName}`);

      // Log in at the printed address: the session cookie belongs to it and works there.
      const client = new HttpClient(printed!);
      const login = await client.request('POST', '/api/v1/auth/login', {
        login: partner.login,
        password: partner.password,
      });
      expect(login.status).toBe(200);
      // A demo account logs in, then must enrol a second factor.
      expect(login.json.next).toBe('enrol_second_factor');
      expect(client.setCookies[0]).not.toMatch(/domain=/i);
      const me = await client.request('GET', '/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.json.account).toMatchObject({ login: partner.login, id: expect.any(String) });
      // Enrol, then find the listed persons.
      const started = await client.request('POST', '/api/v1/me/factors/totp');
      const confirmed = await client.request('POST', '/api/v1/me/factors/totp/confirm', {
        factorId: started.json.factorId,
        code: await generate({ secret: started.json.secret }),
      });
      expect(confirmed.status).toBe(200);
      for (const person of partner.persons!) {
        const found = await client.request('POST', '/api/v1/persons/search', {
          purpose: partner.purpose,
          by: 'agencyId',
          agencyId: person.agencyId,
        });
        expect(found.status).toBe(200);
        expect(found.json.results[0]).toMatchObject({ lastName: person.lastName });
      }
    } finally {
      const exited = new Promise((resolve) => first.child.on('exit', resolve));
      first.child.kill('SIGTERM');
      await exited;
    }
    expect(first.output()).toContain('seeding a demo population of 10,000');
    expect(await countPersons()).toBe(10_000);

    const again = startRempart(['serve', '--demo'], { ...env, PORT: String(port) });
    try {
      await waitForOk(`http://localhost:${port}/api/health`, 60_000);
      const lines = (await outputWith(again.output, 'Every step is in')).split('\n');
      const lineOf = (login: string): string => lines.find((l) => l.trim().startsWith(`${login} `))!;
      expect(lineOf('demo.partenaire')).not.toContain('first login');
      expect(lineOf('demo.conseiller')).toContain('first login');
    } finally {
      const exited = new Promise((resolve) => again.child.on('exit', resolve));
      again.child.kill('SIGTERM');
      await exited;
    }
    // The second start found the population: nothing seeded again.
    expect(again.output()).not.toContain('seeding');
    expect(await countPersons()).toBe(10_000);

    // The operator's tools, the server stopped.
    const listed = await rempart(['account', 'list', '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const { accounts } = lastJsonLine(listed.stdout) as { accounts: Record<string, unknown>[] };
    expect(accounts).toHaveLength(11);
    const row = accounts.find((a) => a.login === 'demo.partenaire')!;
    expect(row).toEqual({
      login: 'demo.partenaire',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      organisation: partner!.organisation,
      role: 'partner_counselor',
      status: 'active',
      secondFactor: true,
      lastLogin: expect.any(String),
      demo: true,
    });
    expect(accounts.find((a) => a.login === 'demo.admin')).toMatchObject({
      secondFactor: false,
      lastLogin: null,
    });
    expect(listed.stdout).not.toMatch(/password|argon|\$2|hash/i);
    expect(listed.stdout).not.toContain('@demo.rempart.invalid');

    const one = await rempart(['account', 'list', '--organisation', partner!.organisation], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('demo.partenaire');
    expect(one.stdout).toContain('2nd factor');
    expect(one.stdout).not.toContain('demo.conseiller ');
    const unknown = await rempart(['account', 'list', '--organisation', 'NOPE-1'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no organisation with this code');

    // audit scope by login and by id: the same scope.
    const window = ['--from', searchStart.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
    const byLogin = await rempart(
      ['audit', 'scope', '--account', 'demo.partenaire', ...window, '--json'],
      env,
    );
    expect(byLogin.code, byLogin.stderr).toBe(0);
    const scope = lastJsonLine(byLogin.stdout);
    expect(scope).toMatchObject({ accounts: [row.id], personCount: 3 });
    const byId = await rempart(['audit', 'scope', '--account', String(row.id), ...window, '--json'], env);
    expect(lastJsonLine(byId.stdout)).toMatchObject({ accounts: [row.id], personCount: 3 });
    const nobody = await rempart(['audit', 'scope', '--account', 'no.such.login', ...window, '--json'], env);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no account has this login');
    expect(nobody.stderr).not.toContain('no.such.login');
  }, 240_000);
});
