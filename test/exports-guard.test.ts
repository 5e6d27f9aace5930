/**
 * The guard scores export volume (issue 14, item 1; T3; docs/EXPORTS.md, docs/GUARD.md): an approved
 * export's rows go to the export windows (export_persons_week, _month), not to the requester's own
 * day of reading in working hours; a step-up given for export volume is remembered a month, so the
 * next export that asks for one suspends the account (exports just under a level, repeated week after
 * week); outside working hours the rows count as persons read too, and as rows exported after hours
 * (off_hours_exports_month, remembered a month as well: the 2021 evenings). Levels are
 * lowered here so that a population of 80 shows each response; the built-in levels are in
 * src/guard/signals.test.ts.
 */
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGuardConfig, SIGNALS } from '../src/guard/thresholds.ts';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { type EnrolledStaff, enrolledStaff, signInAgain, totpAt } from './helpers/staff.ts';

const DAY = 86_400_000;
const none = Object.fromEntries(SIGNALS.map((name) => [name, {}]));
// Counselors: one person read suspends (an export counted as reading would be stopped at once); any
// export volume asks for a step-up. Partner counselors: any row exported after hours asks for one.
const counselorLevels = {
  ...none,
  persons_per_day: { suspend: 2 },
  export_persons_month: { step_up: 1, suspend: 100_000 },
};
const partnerLevels = { ...none, off_hours_exports_month: { step_up: 1, suspend: 100_000 } };
const GUARD = parseGuardConfig({
  defaults: { levels: none },
  roles: {
    counselor: { levels: counselorLevels },
    partner_counselor: { levels: partnerLevels },
    org_manager: { levels: none },
    dpo: { levels: none },
  },
});

type Staff = EnrolledStaff;

describe(`exports: the guard scores their volume (${engine})`, () => {
  let w: RegistryWorld;
  let manager: Staff;
  let recipient: string;

  const staff = (role: Account['role'], organisationId: string): Promise<Staff> =>
    enrolledStaff(w, role, organisationId);
  const relogin = (s: Staff): Promise<void> => signInAgain(w, s);
  /** Requested by `who` (signed in afresh) and approved by `by` (their manager); returns the id. */
  const approved = async (who: Staff, by: Staff = manager): Promise<string> => {
    await relogin(who);
    const asked = await who.client.request('POST', '/api/v1/exports', {
      purpose: 'accompaniment',
      fields: ['lastName', 'firstNames'],
      filter: {},
      recipientOrganisationId: recipient,
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const id = asked.json().export.id as string;
    await relogin(by);
    const decided = await by.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(decided.statusCode, decided.body).toBe(200);
    return id;
  };
  const produce = (who: Staff, id: string) =>
    who.client.request('POST', `/api/v1/exports/${id}/produce`, { purpose: 'accompaniment' });
  const guardDay = async (account: Account) => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ state: { d: Record<string, number | undefined> } }>(
        'SELECT state FROM guard_accounts WHERE account_id = $1',
        [account.id],
      ),
    );
    const state = typeof row?.state === 'string' ? JSON.parse(row.state) : row?.state;
    return state.d as Record<string, number | undefined>;
  };
  const status = async (account: Account): Promise<string> => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [account.id]),
    );
    return row!.status;
  };
  const exportStatus = async (id: string): Promise<string> => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string }>('SELECT status FROM export_requests WHERE id = $1', [id]),
    );
    return row!.status;
  };

  beforeAll(async () => {
    // Export size is not the point here: every export of the agency is under the off-hours size.
    w = await registryWorld(80, { guard: GUARD, env: { REMPART_EXPORT_LARGE_ROWS: '1000' } });
    manager = await staff('org_manager', w.agency);
    const dpo = await staff('dpo', w.national);
    recipient = await w.organisation({ kind: 'training_body' });
    const registered = await dpo.client.request('POST', '/api/v1/exports/recipients', {
      organisationId: recipient,
      ageRecipient: await identityToRecipient(await generateIdentity()),
    });
    expect(registered.statusCode, registered.body).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  it('in working hours the rows go to the export windows, not to the day of reading; the step-up is asked, given, and a second one within the month suspends', async () => {
    const counselor = await staff('counselor', w.agency);
    // Monday 10:00 in Paris (the test clock's start): working hours.
    const first = await approved(counselor);
    const asked = await produce(counselor, first);
    expect(asked.statusCode, asked.body).toBe(403);
    expect(asked.json().code).toBe('step_up_required');
    expect(await exportStatus(first)).toBe('approved');
    // The owner gives the step-up (the next TOTP step); the file is made.
    w.clock.advance(31_000);
    const proved = await counselor.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(counselor.secret, w.clock.now()),
    });
    expect(proved.statusCode, proved.body).toBe(200);
    const made = await produce(counselor, first);
    expect(made.statusCode, made.body).toBe(200);
    const rows = made.json().export.rowCount as number;
    expect(rows).toBeGreaterThan(2);
    // More rows than persons_per_day allows, yet not counted as the counselor's reading.
    const day = await guardDay(counselor.account);
    expect(day.exported).toBe(rows);
    expect(day.persons).toBe(0);
    expect(await status(counselor.account)).not.toBe('suspended');

    // A week later, another export of the same size: the month's window asks again: suspended.
    w.clock.advance(7 * DAY);
    const second = await approved(counselor);
    const stopped = await produce(counselor, second);
    expect(stopped.statusCode, stopped.body).toBe(403);
    expect(await status(counselor.account)).toBe('suspended');
    expect(await exportStatus(second)).toBe('approved');
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ decision: string; reason: string; n: number }>(
        `SELECT decision, reason, (SELECT count(*)::int FROM audit_event_persons l WHERE l.event_id = e.id) AS n
         FROM audit_events e WHERE action = 'person.export' AND request_id = $1`,
        [String(stopped.headers['x-request-id'])],
      ),
    );
    expect(event).toEqual({ decision: 'deny', reason: 'guard.suspend', n: 0 });
    const [alert] = await w.t.driver.transaction((tx) =>
      tx.query<{ signals: { name: string; escalated?: boolean }[] }>(
        `SELECT signals FROM guard_alerts WHERE account_id = $1 AND response = 'suspend'`,
        [counselor.account.id],
      ),
    );
    const signals = typeof alert?.signals === 'string' ? JSON.parse(alert.signals) : alert?.signals;
    expect(signals?.[0]).toMatchObject({ name: 'export_persons_month', escalated: true });
  });

  it('outside working hours the rows count as persons read too, and a second evening export within the month suspends', async () => {
    const partner = await staff('partner_counselor', w.partner);
    const partnerManager = await staff('org_manager', w.partner);
    const evening = async (): Promise<string> => {
      const id = await approved(partner, partnerManager);
      // 21:00 in Paris (UTC+1 in March), that day or the next.
      const now = w.clock.now();
      let at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 20, 0);
      if (at <= now.getTime()) at += DAY;
      w.clock.advance(at - now.getTime());
      await relogin(partner);
      return id;
    };
    const first = await evening();
    const asked = await produce(partner, first);
    expect(asked.statusCode, asked.body).toBe(403);
    expect(asked.json().code).toBe('step_up_required');
    w.clock.advance(31_000);
    const proved = await partner.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(partner.secret, w.clock.now()),
    });
    expect(proved.statusCode, proved.body).toBe(200);
    const made = await produce(partner, first);
    expect(made.statusCode, made.body).toBe(200);
    const rows = made.json().export.rowCount as number;
    expect(rows).toBeGreaterThan(0);
    // Counted as the partner's reading (off-hours persons) and as rows exported after hours.
    const day = await guardDay(partner.account);
    expect(day.offHours).toBe(rows);
    expect(day.persons).toBe(rows);
    expect(day.offHoursExported).toBe(rows);

    // Nine days later, another evening: the step-up was given this month: suspended.
    w.clock.advance(9 * DAY);
    const second = await evening();
    const stopped = await produce(partner, second);
    expect(stopped.statusCode, stopped.body).toBe(403);
    expect(await status(partner.account)).toBe('suspended');
    expect(await exportStatus(second)).toBe('approved');
    const [alert] = await w.t.driver.transaction((tx) =>
      tx.query<{ signals: unknown }>(
        `SELECT signals FROM guard_alerts WHERE account_id = $1 AND response = 'suspend'`,
        [partner.account.id],
      ),
    );
    const signals = typeof alert?.signals === 'string' ? JSON.parse(alert.signals) : alert?.signals;
    expect(signals?.[0]).toMatchObject({ name: 'off_hours_exports_month', escalated: true });
  });
});
