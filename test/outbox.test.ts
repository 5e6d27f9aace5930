/**
 * The mail outbox (notify/outbox.ts, docs/OPERATIONS.md): mails are queued in the deciding
 * transaction and sent after the answer, delivered once through a real SMTP server, retried with a
 * backoff while the server is down, never lost (a sender that dies leaves the row, a restarted
 * server sends it), never sent twice by two senders, and their bodies cleared once sent.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../drill/processes.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { createDb, openDb } from '../src/db/open.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';
import { type Account, createAccount } from '../src/identity/accounts.ts';
import { queueNotice } from '../src/identity/notices.ts';
import { LOCK_AT_FAILURE } from '../src/identity/throttle.ts';
import { startServer } from '../src/main.ts';
import { type Mail, smtpMailer } from '../src/notify/mailer.ts';
import { CLAIM_LEASE_MS, claimDue, drainOutbox, RETENTION_MS } from '../src/notify/outbox.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';
import { PASSWORD, StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

const system = systemCtx('test').actor;
const FROM = 'Rempart <no-reply@rempart.test>';

/** An organisation and an account in it, made with the owner's rights of `db`. */
async function newAccount(db: Db, now: Date): Promise<Account> {
  const organisationId = randomUUID();
  const login = `agent.${randomUUID().slice(0, 8)}`;
  return db.tx(system, async (tx) => {
    await tx.query('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
      organisationId,
      'cap_emploi',
      `ORG-${organisationId.slice(0, 8)}`,
    ]);
    return createAccount(
      tx,
      {
        organisationId,
        login,
        displayName: `Agent ${login}`,
        email: `${login}@partner.example`,
        role: 'partner_counselor',
        password: PASSWORD,
      },
      now,
      null,
    );
  });
}

const queue = (db: Db, account: Account, now: Date, text = 'Corps du message / body'): Promise<void> =>
  db.tx(system, (tx) =>
    queueNotice(tx, account, now, { kind: 'test_notice', subject: 'Sujet / Subject', text }),
  );

describe(`the mail outbox (${engine})`, () => {
  let t: TestDb;
  let smtp: TestSmtpServer;
  let mailer: ReturnType<typeof smtpMailer>;
  let down: ReturnType<typeof smtpMailer>;
  const t0 = new Date('2026-03-02T09:00:00Z');
  const later = (ms: number): Date => new Date(t0.getTime() + ms);

  beforeAll(async () => {
    [t, smtp] = await Promise.all([freshDb(), startSmtpServer()]);
    mailer = smtpMailer({ url: `${smtp.url}?tls=off`, from: FROM });
    // Nothing listens on this port: every send fails as with a mail server that is down.
    down = smtpMailer({ url: `smtp://127.0.0.1:${await freePort()}?tls=off`, from: FROM });
  });
  afterAll(async () => {
    await Promise.all([t.close(), smtp.close(), mailer.close(), down.close()]);
  });

  const rowsOf = (account: Account) =>
    t.driver.transaction((tx) =>
      tx.query<{
        subject: string | null;
        body: string | null;
        attempts: number;
        last_error: string | null;
        sent_at: Date | null;
        abandoned_at: Date | null;
      }>(
        'SELECT subject, body, attempts, last_error, sent_at, abandoned_at FROM mail_outbox WHERE account_id = $1',
        [account.id],
      ),
    );
  const eventsOf = (account: Account) =>
    t.driver.transaction((tx) =>
      tx.query<{ action: string; details: Record<string, unknown> }>(
        'SELECT action, details FROM security_events WHERE target_account_id = $1 ORDER BY id',
        [account.id],
      ),
    );
  const delivered = (account: Account) => smtp.messages.filter((m) => m.to.includes(account.email));

  it('delivers a queued mail once, to the address read from the account, and then clears its body', async () => {
    const account = await newAccount(t.db, t0);
    await queue(t.db, account, t0);
    expect(delivered(account)).toEqual([]); // queued, not sent
    expect(await drainOutbox(t.db, mailer, t0)).toMatchObject({ sent: 1, failed: 0 });
    expect(delivered(account).map((m) => [m.subject, m.text.split('\n')[0]])).toEqual([
      ['Sujet / Subject', 'Corps du message / body'],
    ]);
    const [row] = await rowsOf(account);
    expect(row).toMatchObject({ subject: null, body: null, attempts: 1, last_error: null });
    expect(row!.sent_at).not.toBeNull();
    expect(await drainOutbox(t.db, mailer, later(3_600_000))).toMatchObject({ sent: 0 });
    expect(delivered(account)).toHaveLength(1);
  });

  it('keeps a mail while the mail server is down, retries it after a backoff, and delivers it when it is back', async () => {
    const account = await newAccount(t.db, t0);
    await queue(t.db, account, t0);
    expect(await drainOutbox(t.db, down, t0)).toMatchObject({ sent: 0, failed: 1 });
    const [failed] = await rowsOf(account);
    expect(failed).toMatchObject({ attempts: 1, sent_at: null });
    // The body as queued: the text, then its verification code (T6, src/notify/codes.ts).
    expect(failed!.body).toMatch(/^Corps du message \/ body\n\nCode de vérification de ce message : /);
    expect(failed!.last_error).toMatch(/^smtp error/);
    const events = await eventsOf(account);
    expect(events.filter((e) => e.action === 'notice.mail_failed')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(account.email);
    // Within the backoff nothing is tried, even with the server back.
    expect(await drainOutbox(t.db, mailer, later(10_000))).toMatchObject({ sent: 0, failed: 0 });
    expect(await drainOutbox(t.db, mailer, later(30_000))).toMatchObject({ sent: 1 });
    expect(delivered(account)).toHaveLength(1);
  });

  it('sends a row again once the lease of a sender that died after claiming it has run out', async () => {
    const account = await newAccount(t.db, t0);
    await queue(t.db, account, t0);
    expect(await claimDue(t.db, t0)).toHaveLength(1); // …and the sender dies here
    expect(await drainOutbox(t.db, mailer, later(CLAIM_LEASE_MS - 1000))).toMatchObject({ sent: 0 });
    expect(await drainOutbox(t.db, mailer, later(CLAIM_LEASE_MS))).toMatchObject({ sent: 1 });
    expect(delivered(account)).toHaveLength(1);
  });

  it('two senders draining at once send every mail exactly once', async () => {
    const account = await newAccount(t.db, t0);
    for (let i = 0; i < 45; i += 1) await queue(t.db, account, t0, `message ${i}`);
    // On PostgreSQL the second sender has its own connections, as another server process would.
    const other = t.url ? createDb(await openPostgres(t.url, { max: 2 })) : t.db;
    try {
      const results = await Promise.all([drainOutbox(t.db, mailer, t0), drainOutbox(other, mailer, t0)]);
      expect(results[0].sent + results[1].sent).toBe(45);
    } finally {
      if (other !== t.db) await other.close();
    }
    const texts = delivered(account).map((m) => m.text.split('\n')[0]);
    expect(texts).toHaveLength(45);
    expect(new Set(texts).size).toBe(45);
  });

  it('gives a mail up after the retention period: body cleared, an event for the operator', async () => {
    const account = await newAccount(t.db, t0);
    await queue(t.db, account, t0);
    await drainOutbox(t.db, down, t0);
    expect(await drainOutbox(t.db, down, later(RETENTION_MS + 1000))).toMatchObject({ abandoned: 1 });
    const [row] = await rowsOf(account);
    expect(row).toMatchObject({ subject: null, body: null, sent_at: null });
    expect(row!.abandoned_at).not.toBeNull();
    expect((await eventsOf(account)).map((e) => e.action)).toContain('notice.mail_abandoned');
    expect(await drainOutbox(t.db, mailer, later(RETENTION_MS + 3_600_000))).toMatchObject({ sent: 0 });
    expect(delivered(account)).toEqual([]);
  });
});

describe(`the tenth failed login answers before its mail is sent (${engine})`, () => {
  let world: StaffWorld;
  beforeAll(async () => {
    world = await staffWorld();
  });
  afterAll(() => world.close());

  it('queues the lock mail in the answer and sends it only when the outbox is drained', async () => {
    const account = await world.account();
    const client = new StaffClient(world.app, '203.0.113.40');
    for (let i = 0; i < LOCK_AT_FAILURE; i += 1) {
      world.clock.advance(300_000); // past each backoff: every attempt counts
      expect((await client.login(account.login, `wrong ${i}`)).statusCode).toBe(401);
    }
    const sent = (world.mailer as unknown as { sent: Mail[] }).sent;
    expect(sent).toEqual([]);
    expect(await world.drainMail()).toMatchObject({ sent: 1 });
    expect(sent.map((m) => m.to)).toEqual([account.email]);
    expect(sent[0]!.subject).toMatch(/verrouillé/);
  });
});

describe(`the server's outbox job (${engine})`, () => {
  let dir: string;
  let t: TestDb | undefined;
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-outbox-'));
    smtp = await startSmtpServer();
    if (engine !== 'pglite') t = await freshDb();
  });
  afterAll(async () => {
    await t?.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends at start what was queued while it was down, and a lock mail after the answer', async () => {
    const config = loadConfig({
      REMPART_DATA: dir,
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      SMTP_URL: `${smtp.url}?tls=off`,
      ...(t?.url ? { DATABASE_URL: t.url } : {}),
    });
    await openKeys(config, { create: true });
    // Queued by another process (a CLI command, or a server that crashed before sending).
    const before = await openDb(config);
    const waiting = await newAccount(before, new Date());
    await queue(before, waiting, new Date(), 'left in the outbox');
    await before.close();

    const { app, db, url } = await startServer(config);
    try {
      await smtp.waitFor(1);
      expect(smtp.messages.map((m) => [m.to, m.text.split('\n')[0]])).toEqual([
        [[waiting.email], 'left in the outbox'],
      ]);
      const account = await newAccount(db, new Date());
      for (let i = 0; i < LOCK_AT_FAILURE; i += 1) {
        // Let each attempt through the backoff: this test is about the lock's mail, not the throttle.
        await db.tx(system, (tx) =>
          tx.query("UPDATE auth_throttle SET blocked_until = NULL WHERE scope IN ('account', 'address')"),
        );
        const answer = await fetch(`${url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: account.login, password: `wrong ${i}` }),
        });
        expect(answer.status).toBe(401);
      }
      await smtp.waitFor(2);
      expect(smtp.messages[1]!.to).toEqual([account.email]);
      expect(smtp.messages[1]!.subject).toMatch(/verrouillé/);
    } finally {
      await app.close();
    }
  });
});
