/**
 * The guard's notices (guard/announce.ts): an organisation's rise is told to its managers and the
 * security officers once per organisation and day, with its figures and no account login nor
 * person; an escalated suspension says it followed an earlier step-up.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceAlert, ORGANISATION_ANNOUNCED } from '../src/guard/announce.ts';
import type { RaisedAlert } from '../src/guard/guard.ts';
import type { Account } from '../src/identity/accounts.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { engine } from './helpers/db.ts';
import { type StaffWorld, staffWorld } from './helpers/staff.ts';

describe(`the guard's notices (${engine})`, () => {
  let w: StaffWorld;
  let org: string;
  let otherOrg: string;
  let manager: Account;
  let otherManager: Account;
  let officer: Account;
  let driver: Account;
  const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
    w.t.driver.transaction((tx) => tx.query<R>(sql, params));
  const sent = (): Mail[] => (w.mailer as unknown as { sent: Mail[] }).sent;

  async function active(account: Account): Promise<Account> {
    await owner(`UPDATE accounts SET status = 'active' WHERE id = $1`, [account.id]);
    return account;
  }

  /** An alert as the guard writes it, raised now. */
  async function raise(account: Account, response: 'step_up' | 'suspend', signals: RaisedAlert['signals']) {
    const alert: RaisedAlert = {
      id: randomUUID(),
      accountId: account.id,
      organisationId: account.organisationId,
      response,
      signals,
    };
    await owner(
      `INSERT INTO guard_alerts (id, account_id, organisation_id, raised_at, response, signals, context)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, '{}'::jsonb)`,
      [alert.id, account.id, account.organisationId, w.clock.now(), response, JSON.stringify(signals)],
    );
    return alert;
  }

  beforeAll(async () => {
    w = await staffWorld();
    org = await w.organisation({ kind: 'mission_locale' });
    otherOrg = await w.organisation({ kind: 'mission_locale' });
    manager = await active(await w.account({ role: 'org_manager', organisationId: org }));
    otherManager = await active(await w.account({ role: 'org_manager', organisationId: otherOrg }));
    officer = await active(await w.account({ role: 'security_officer', organisationId: otherOrg }));
    driver = await active(await w.account({ role: 'partner_counselor', organisationId: org }));
  }, 60_000);
  afterAll(async () => {
    await w.close();
  });

  it('an organisation signal answered: its managers and the officers are told once that day, with the figures and no login', async () => {
    const [{ day }] = (await owner<{ day: string }>(
      `SELECT ($1::timestamptz AT TIME ZONE 'Europe/Paris')::date::text AS day`,
      [w.clock.now()],
    )) as [{ day: string }];
    // Five past days of 10 persons, and today's 64 by 3 accounts.
    for (let back = 1; back <= 5; back += 1) {
      await owner(
        `INSERT INTO guard_organisation_days (organisation_id, day, persons, by_hour, accounts)
         VALUES ($1, $2::date - $3::int, 10, (SELECT array_agg(CASE WHEN h = 10 THEN 10 ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h), 2)`,
        [org, day, back],
      );
    }
    await owner(
      `INSERT INTO guard_organisation_days (organisation_id, day, persons, by_hour, empty, refused, accounts)
       VALUES ($1, $2::date, 64, (SELECT array_agg(CASE WHEN h = 10 THEN 64 ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h), 7, 2, 3)`,
      [org, day],
    );
    const signal = { name: 'org_beyond_usual', value: 42, limit: 10, response: 'step_up' } as const;
    await announceAlert(
      w.t.db,
      await raise(driver, 'step_up', [signal]),
      w.clock.now(),
      'https://rempart.example',
    );
    await w.drainMail();
    for (const to of [manager.email, officer.email]) {
      const mails = sent().filter((m) => m.to === to && m.subject.includes('organisation'));
      expect(mails, to).toHaveLength(1);
      const text = mails[0]!.text;
      expect(text).toContain('org_beyond_usual (42, limit 10)');
      expect(text).toContain('persons read: 64 (habituel / usual: 10)');
      expect(text).toContain('searches that found nobody: 7');
      expect(text).toContain('requests refused: 2');
      expect(text).toContain('active accounts: 3');
      expect(text).toContain('accounts driving it (answered): 1');
      expect(text).toContain('https://rempart.example/securite/revue');
      expect(`${mails[0]!.subject}\n${text}`).not.toContain(driver.login);
    }
    expect(sent().filter((m) => m.to === otherManager.email)).toHaveLength(0);
    expect(sent().filter((m) => m.to === driver.email)).toHaveLength(0);
    const notices = await owner<{ n: number }>(
      `SELECT count(*)::int AS n FROM staff_notices WHERE kind = 'guard.organisation' AND account_id = $1`,
      [manager.id],
    );
    expect(notices[0]!.n).toBe(1);

    // A second driving account answered the same day: nothing more is mailed.
    const second = await active(await w.account({ role: 'partner_counselor', organisationId: org }));
    w.clock.advance(60_000);
    const before = sent().length;
    await announceAlert(w.t.db, await raise(second, 'step_up', [signal]), w.clock.now());
    await w.drainMail();
    expect(sent().length).toBe(before);
    const events = await owner<{ n: number }>(
      'SELECT count(*)::int AS n FROM security_events WHERE action = $1 AND organisation_id = $2',
      [ORGANISATION_ANNOUNCED, org],
    );
    expect(events[0]!.n).toBe(1);

    // The next day, a new rise is told again.
    w.clock.advance(86_400_000);
    await announceAlert(w.t.db, await raise(second, 'step_up', [signal]), w.clock.now());
    await w.drainMail();
    expect(sent().filter((m) => m.to === manager.email && m.subject.includes('organisation'))).toHaveLength(
      2,
    );
  });

  it('an alert without an organisation signal sends no organisation notice', async () => {
    const before = sent().filter((m) => m.subject.includes('organisation')).length;
    w.clock.advance(86_400_000);
    await announceAlert(
      w.t.db,
      await raise(driver, 'step_up', [
        { name: 'beyond_baseline', value: 30, limit: 20, response: 'step_up' },
      ]),
      w.clock.now(),
    );
    await w.drainMail();
    expect(sent().filter((m) => m.subject.includes('organisation')).length).toBe(before);
  });

  it('an escalated suspension says it followed an earlier step-up for the same limit; an ordinary one does not', async () => {
    const escalated = await active(await w.account({ role: 'partner_counselor', organisationId: otherOrg }));
    await announceAlert(
      w.t.db,
      await raise(escalated, 'suspend', [
        { name: 'beyond_baseline_week', value: 90, limit: 60, response: 'suspend', escalated: true },
      ]),
      w.clock.now(),
    );
    const plain = await active(await w.account({ role: 'partner_counselor', organisationId: otherOrg }));
    await announceAlert(
      w.t.db,
      await raise(plain, 'suspend', [{ name: 'canary', value: 1, limit: 1, response: 'suspend' }]),
      w.clock.now(),
    );
    await w.drainMail();
    const mailOf = (login: string): Mail =>
      sent().find((m) => m.to === officer.email && m.text.includes(`compte ${login}`))!;
    const told = mailOf(escalated.login).text;
    expect(told).toContain('Suspended after an earlier step-up for the same limit this week.');
    expect(told).toContain('déjà demandée pour la même limite cette semaine');
    expect(told).toContain('beyond_baseline_week (90, limit 60, escalated)');
    expect(mailOf(plain.login).text).not.toContain('earlier step-up');
  });
});
