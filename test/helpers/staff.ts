/**
 * Fixtures for staff-authentication tests: a Rempart app on a fresh database with a settable clock,
 * organisations and accounts made by name, and a client that keeps the session cookie and CSRF
 * token as a browser (and the page's script) would.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { loadConfig } from '../../src/config.ts';
import { type Clock, systemCtx } from '../../src/context.ts';
import type { GuardConfig } from '../../src/guard/thresholds.ts';
import { buildApp } from '../../src/http/app.ts';
import { type Account, createAccount, type Role } from '../../src/identity/accounts.ts';
import { SESSION_COOKIE } from '../../src/identity/sessions.ts';
import type { Mailer } from '../../src/notify/mailer.ts';
import { outboxMailer } from '../../src/notify/mailer.ts';
import { type DrainResult, drainOutbox } from '../../src/notify/outbox.ts';
import { keyringNoticeKeys } from '../../src/notify/verify-notice.ts';
import { freshDb, type TestDb } from './db.ts';
import { freshKeys, type TestKeys } from './keys.ts';

export const PASSWORD = 'granite lantern orchard 57';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.parse('2026-03-02T09:00:00Z')) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

export interface StaffWorld {
  t: TestDb;
  keys: TestKeys;
  app: FastifyInstance;
  clock: TestClock;
  mailer: Mailer;
  /**
   * Sends what the outbox holds through `mailer` now, as the server's outbox job would after the
   * answer (the app queues mail; it never sends it while answering).
   */
  drainMail(): Promise<DrainResult>;
  organisation(options?: { kind?: string; contractEndsOn?: string | null }): Promise<string>;
  account(options?: {
    organisationId?: string;
    role?: Role;
    login?: string;
    email?: string;
  }): Promise<Account>;
  close(): Promise<void>;
}

/**
 * A fresh app and database. `mailer` (what drainMail sends through) defaults to an in-memory outbox;
 * `env` adds configuration variables (e.g. REMPART_PROCONNECT_*).
 */
export async function staffWorld(
  options: {
    mailer?: Mailer;
    guard?: GuardConfig;
    /** More configuration (e.g. PUBLIC_URL for a server the browser tests reach). */
    env?: Record<string, string>;
    /** The console's build, served at `/` (browser tests). */
    consoleDir?: string;
  } = {},
): Promise<StaffWorld> {
  const [t, keys] = await Promise.all([freshDb(), freshKeys()]);
  const clock = new TestClock();
  const mailer = options.mailer ?? outboxMailer();
  const config = {
    ...loadConfig({ LOG_LEVEL: 'silent', ...options.env }),
    ...(options.guard ? { guard: options.guard } : {}),
  };
  const app = await buildApp(config, {
    db: t.db,
    kms: keys.kms,
    registry: keys.registry,
    clock,
    checkpointVerifierKey: keys.checkpointSigner.verifierKey,
    noticeKeys: keyringNoticeKeys(keys.keyring.path),
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
  });
  await app.ready();
  const system = systemCtx('test').actor;
  let defaultOrganisation: string | undefined;
  const world: StaffWorld = {
    t,
    keys,
    app,
    clock,
    mailer,
    drainMail: () => drainOutbox(t.db, mailer, clock.now()),
    async organisation({ kind = 'cap_emploi', contractEndsOn = null } = {}) {
      const id = randomUUID();
      await t.db.tx(system, (tx) =>
        tx.query(
          'INSERT INTO organisations (id, kind, code, name, contract_ends_on) VALUES ($1, $2, $3, $3, $4)',
          [id, kind, `ORG-${id.slice(0, 8)}`, contractEndsOn],
        ),
      );
      return id;
    },
    async account({ organisationId, role = 'partner_counselor', login, email } = {}) {
      defaultOrganisation ??= await world.organisation();
      const name = login ?? `agent.${randomUUID().slice(0, 8)}`;
      return t.db.tx(system, (tx) =>
        createAccount(
          tx,
          {
            organisationId: organisationId ?? defaultOrganisation!,
            login: name,
            displayName: `Agent ${name}`,
            email: email ?? `${name}@partner.example`,
            role,
            password: PASSWORD,
          },
          clock.now(),
          null,
        ),
      );
    },
    async close() {
      await app.close();
      await t.close();
      await keys.cleanup();
    },
  };
  return world;
}

/** A browser-like client: keeps the session cookie and the CSRF token between requests. */
export class StaffClient {
  cookie: string | undefined;
  csrf: string | undefined;
  readonly app: FastifyInstance;
  readonly address: string;
  constructor(app: FastifyInstance, address = '127.0.0.1') {
    this.app = app;
    this.address = address;
  }

  async request(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    body?: unknown,
    options: { csrf?: string | null } = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `${SESSION_COOKIE}=${this.cookie}`;
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
    const response = await this.app.inject({
      method,
      url,
      headers,
      remoteAddress: this.address,
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    const set = response.cookies.find((c) => c.name === SESSION_COOKIE);
    if (set) this.cookie = set.value === '' ? undefined : set.value;
    const json = response.headers['content-type']?.toString().includes('json') ? response.json() : undefined;
    if (json && typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    return response;
  }

  /** Carries another client's session (cookie and CSRF token) over to this one (same database, another app). */
  adopt(other: StaffClient): this {
    this.cookie = other.cookie;
    this.csrf = other.csrf;
    return this;
  }

  login(login: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    return this.request('POST', '/api/v1/auth/login', { login, password });
  }
}

/** The TOTP code of `secret` at `at` (an independent implementation: otplib's). */
export function totpAt(secret: string, at: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000) });
}

/** Logs in and enrols an authenticator app; returns the client at 'mfa' level, the secret and the recovery codes. */
export async function enrolled(
  world: StaffWorld,
  account: Account,
): Promise<{ client: StaffClient; secret: string; recoveryCodes: string[] }> {
  const client = new StaffClient(world.app);
  await client.login(account.login);
  const started = (await client.request('POST', '/api/v1/me/factors/totp')).json();
  const confirmed = await client.request('POST', '/api/v1/me/factors/totp/confirm', {
    factorId: started.factorId,
    code: await totpAt(started.secret, world.clock.now()),
  });
  if (confirmed.statusCode !== 200) throw new Error(`enrolment failed: ${confirmed.body}`);
  return { client, secret: started.secret, recoveryCodes: confirmed.json().recoveryCodes };
}

/** A staff member of a test: an account with an enrolled authenticator app, its client and the app's secret. */
export interface EnrolledStaff {
  client: StaffClient;
  account: Account;
  secret: string;
}

/** A new account of this role in this organisation, enrolled (its client at 'mfa' level). */
export async function enrolledStaff(
  world: StaffWorld,
  role: Role,
  organisationId: string,
): Promise<EnrolledStaff> {
  const account = await world.account({ role, organisationId });
  const { client, secret } = await enrolled(world, account);
  return { client, account, secret };
}

/**
 * A new login with a second factor now, on a new client (sessions end after 15 idle minutes); the
 * clock moves 31 s first, so that the code is of a step not used yet. Throws if it fails.
 */
export async function signInAgain(world: StaffWorld, s: EnrolledStaff): Promise<void> {
  world.clock.advance(31_000);
  s.client = new StaffClient(world.app);
  await s.client.login(s.account.login);
  const verified = await s.client.request('POST', '/api/v1/auth/totp', {
    code: await totpAt(s.secret, world.clock.now()),
  });
  if (verified.statusCode !== 200) throw new Error(`second factor refused: ${verified.body}`);
}
