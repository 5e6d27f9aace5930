/**
 * No enumeration by timing or side effects (T1, docs/SECURITY.md): a failed password login runs the
 * same SQL statements, in the same order, whether or not an account has that login — with a wrong
 * password, in a backoff, at the tenth failure (which locks the key and, for a real account, queues
 * the owner's notice), and while locked. The statements are recorded by wrapping the database
 * driver; the values differ (the login, the account id), the texts may not.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { createDb } from '../src/db/open.ts';
import type { Db, Driver, OwnerTx } from '../src/db/types.ts';
import { type Account, createAccount } from '../src/identity/accounts.ts';
import { passwordLogin } from '../src/identity/login.ts';
import { LOCK_AT_FAILURE } from '../src/identity/throttle.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { PASSWORD } from './helpers/staff.ts';

/** The driver, recording every statement text (white space folded) that a transaction runs. */
function recording(driver: Driver): { driver: Driver; log: string[] } {
  const log: string[] = [];
  const note = (sql: string): void => {
    log.push(sql.replace(/\s+/g, ' ').trim());
  };
  const wrap = (tx: OwnerTx): OwnerTx => ({
    query: (sql, params) => {
      note(sql);
      return tx.query(sql, params);
    },
    exec: (sql) => {
      note(sql);
      return tx.exec(sql);
    },
    ...(tx.together ? { together: tx.together.bind(tx) } : {}),
  });
  return {
    log,
    driver: {
      kind: driver.kind,
      async transaction(fn, settings) {
        note('BEGIN');
        try {
          return await driver.transaction((tx) => fn(wrap(tx)), settings);
        } finally {
          note('END');
        }
      },
      readOnly(sql, params, settings) {
        note(`READ ONLY ${sql}`);
        return driver.readOnly(sql, params, settings);
      },
      close: () => driver.close(),
    },
  };
}

describe(`failed logins run the same statements for known and unknown logins (${engine})`, () => {
  let t: TestDb;
  let db: Db;
  let log: string[];
  let account: Account;
  const now = new Date('2026-03-02T09:00:00Z');
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const system = systemCtx('test').actor;

  beforeAll(async () => {
    t = await freshDb();
    const recorder = recording(t.driver);
    db = createDb(recorder.driver);
    log = recorder.log;
    const organisationId = randomUUID();
    account = await t.db.tx(system, async (tx) => {
      await tx.query('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
        organisationId,
        'cap_emploi',
        `ORG-${organisationId.slice(0, 8)}`,
      ]);
      return createAccount(
        tx,
        {
          organisationId,
          login: 'agent.known',
          displayName: 'Agent Known',
          email: 'agent.known@partner.example',
          role: 'partner_counselor',
          password: PASSWORD,
        },
        now,
        null,
      );
    });
  });
  afterAll(() => t.close());

  /** The statements of one failed attempt; it must answer login_failed. */
  async function attempt(login: string, address: string): Promise<string[]> {
    log.length = 0;
    await expect(
      passwordLogin(db, { config, now }, { login, password: 'not the password 42', address }),
    ).rejects.toMatchObject({ code: 'login_failed' });
    return [...log];
  }

  /** Sets the failure counters of the login and the address, as earlier attempts would have. */
  async function prime(login: string, address: string, failures: number): Promise<void> {
    await t.driver.transaction(async (tx) => {
      for (const [scope, key] of [
        ['account', login],
        ['address', address],
      ]) {
        await tx.query(
          `INSERT INTO auth_throttle (scope, key, failures, last_failure_at, blocked_until) VALUES ($1, $2, $3, $4, NULL)
           ON CONFLICT (scope, key) DO UPDATE SET failures = $3, blocked_until = NULL`,
          [scope, key, failures, now],
        );
      }
    });
  }

  const count = async (table: string): Promise<number> =>
    (
      await t.driver.transaction((tx) =>
        tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE account_id = $1`, [
          account.id,
        ]),
      )
    )[0]!.n;

  it('a wrong password and an unknown login, then both in a backoff', async () => {
    const known = await attempt('agent.known', '198.51.100.1');
    const unknown = await attempt('agent.nobody', '198.51.100.2');
    expect(known.length).toBeGreaterThan(4);
    expect(unknown).toEqual(known);
    // The third failure starts a backoff: the fourth attempt is refused without counting.
    await prime('agent.known', '198.51.100.1', 2);
    await prime('agent.nobody', '198.51.100.2', 2);
    await attempt('agent.known', '198.51.100.1');
    await attempt('agent.nobody', '198.51.100.2');
    const knownBlocked = await attempt('agent.known', '198.51.100.1');
    const unknownBlocked = await attempt('agent.nobody', '198.51.100.2');
    expect(unknownBlocked).toEqual(knownBlocked);
  });

  it('the tenth failure, which locks, and an attempt while locked', async () => {
    await prime('agent.known', '198.51.100.3', LOCK_AT_FAILURE - 1);
    await prime('agent.ghost', '198.51.100.4', LOCK_AT_FAILURE - 1);
    const known = await attempt('agent.known', '198.51.100.3');
    const unknown = await attempt('agent.ghost', '198.51.100.4');
    expect(unknown).toEqual(known);
    // The real account's owner gets the notice and a queued mail; the unknown login writes none.
    expect(known.some((sql) => sql.startsWith('INSERT INTO mail_outbox'))).toBe(true);
    expect(await count('staff_notices')).toBe(1);
    expect(await count('mail_outbox')).toBe(1);
    const outbox = await t.driver.transaction((tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM mail_outbox'),
    );
    expect(outbox[0]!.n).toBe(1);
    const lockedKnown = await attempt('agent.known', '198.51.100.3');
    const lockedUnknown = await attempt('agent.ghost', '198.51.100.4');
    expect(lockedUnknown).toEqual(lockedKnown);
  });
});
