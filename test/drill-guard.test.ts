/**
 * The guard's drill scenarios (issue 5, item 5 and "Done means"), at small scale: one `runDrill`
 * on a fresh throwaway server (2,000 persons, no honest month: the scenarios' own owners work
 * alongside the attacks), every attack through the HTTP API only, on a simulated clock. The goals:
 * - T2 (a partner session stolen on the owner's machine: three weeks of probing, then bulk), T5
 *   and T9 (phished password, then a stolen cookie from the attacker's machine): no person outside
 *   the caseload, and suspended before 50 persons beyond the owner's normal day;
 * - T2b (an agency counselor's session, leaked identities read nationally one by one): suspended
 *   before 200 distinct persons;
 * - T8 (a manager session right after its second factor): nothing it files takes effect, no
 *   record exposed, the manager suspended;
 * - ENUM-ID and ENUM-NAME: throttled within 20 requests, then suspended;
 * - CANARY: suspended by the very request that touched the canary, which returned nothing of it.
 * Each scenario's owner works normally meanwhile and is not suspended before the attack.
 * With them, T2-scope (a stolen session walking every route: nobody outside the caseload) and T7:
 * the audit log's scope of T2-scope's attack, then the incidents opened from T2's and T5's alerts
 * and their notices, compared person for person and field for field (issue 12).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, ScenarioResult } from '../drill/report.ts';
import { toJson } from '../drill/report.ts';
import { runDrill } from '../drill/run.ts';
import { engine, serverUrl } from './helpers/db.ts';
import { notesOf, SCENARIO_KEYS, scenarioOf } from './helpers/drill-keys.ts';

const IDS = ['T2-scope', 'T2', 'T2b', 'T5', 'T7', 'T6', 'T8', 'T9', 'ENUM-ID', 'ENUM-NAME', 'CANARY'];

describe(`rempart drill: the guard's scenarios on ${engine}`, () => {
  let report: DrillReport;
  let started = 0;
  let seconds = 0;
  const scenario = (id: string): ScenarioResult => scenarioOf(report, id);
  const notes = notesOf;

  beforeAll(async () => {
    started = Date.now();
    report = await runDrill(
      { databaseUrl: serverUrl },
      { ids: IDS, persons: 2000, honestAccounts: 0, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    seconds = (Date.now() - started) / 1000;
  }, 900_000);

  it('runs every scenario, in the order asked, and the JSON report keeps its contract', () => {
    expect(report.scenarios.map((s) => s.id)).toEqual(IDS);
    const json = toJson(report);
    for (const entry of json.scenarios) {
      expect(Object.keys(entry).slice(0, SCENARIO_KEYS.length)).toEqual(SCENARIO_KEYS);
      // The figures agree with each other.
      expect(entry.suspended).toBe(entry.requestsToSuspension !== null);
      if (entry.requestsToSuspension !== null && entry.requestsToFirstResponse !== null) {
        expect(entry.requestsToFirstResponse).toBeLessThanOrEqual(entry.requestsToSuspension);
      }
    }
    // Modest in CI: setup and eight scenarios on PGlite in a few minutes at most.
    expect(seconds).toBeLessThan(900);
  });

  it.each(['T2', 'T5', 'T9'])(
    '%s: no one outside the caseload, and suspended before 50 persons beyond the normal day',
    (id) => {
      const s = scenario(id);
      expect(s.outsideCaseload, notes(s)).toBe(0);
      expect(s.suspended, notes(s)).toBe(true);
      expect(s.beyondBaseline ?? 0, notes(s)).toBeLessThan(50);
      expect(
        s.steps.every((step) => step.passed),
        notes(s),
      ).toBe(true);
      expect(notes(s)).not.toContain('OWNER was suspended before the attack');
      expect(s.passed, notes(s)).toBe(true);
    },
  );

  it('T2: three weeks of probing ran before the bulk, from the owner’s own machine', () => {
    const s = scenario('T2');
    expect(s.steps.map((step) => step.label)).toEqual(['(a)', '(b)']);
    // Three weeks of working days unless the guard suspended the account during the probing already.
    const days = Number(/searches of leaked identities over (\d+) days/.exec(notes(s))?.[1] ?? 0);
    expect(days).toBeGreaterThan(0);
    expect(days === 15 || s.steps[1]!.note.includes('during the probing')).toBe(true);
    expect(s.requests).toBeGreaterThan(20);
  });

  it.each(['T5', 'T9'])('%s: the phished password alone opens nothing', (id) => {
    const s = scenario(id);
    const password = s.steps.find((step) => step.label === '(a)')!;
    expect(password.passed, password.note).toBe(true);
    expect(password.note).toContain('next: verify_second_factor');
    expect(password.note).toContain('0 answered');
    // The stolen cookie from another network: the guard's first answer is the step-up it cannot give.
    expect(notes(s)).toContain('session_address_changed');
  });

  it('T2b: leaked identities read nationally, one by one: suspended before 200 distinct persons', () => {
    const s = scenario('T2b');
    expect(s.suspended, notes(s)).toBe(true);
    expect(s.recordsExposed, notes(s)).toBeLessThan(200);
    expect(s.recordsExposed).toBeGreaterThan(0);
    expect(s.passed, notes(s)).toBe(true);
  });

  it('T8: a stolen manager session files requests that take no effect, and is suspended', () => {
    const s = scenario('T8');
    expect(s.recordsExposed).toBe(0);
    expect(s.suspended, notes(s)).toBe(true);
    const [filed, effect] = s.steps;
    expect(filed!.passed, filed!.note).toBe(true);
    expect(effect!.passed, effect!.note).toBe(true);
    expect(effect!.note).toMatch(/0 approved\); 0 of the \d+ accounts asked for exist/);
    expect(notes(s)).toMatch(/provisioned_accounts_per_day|caseload_persons_per_day|blocked_per_hour/);
    expect(s.passed, notes(s)).toBe(true);
  });

  it.each(['ENUM-ID', 'ENUM-NAME'])('%s: throttled within 20 requests, then suspended', (id) => {
    const s = scenario(id);
    expect(s.requestsToFirstResponse, notes(s)).not.toBeNull();
    expect(s.requestsToFirstResponse!, notes(s)).toBeLessThanOrEqual(20);
    expect(notes(s)).toContain('(throttle)');
    expect(s.suspended, notes(s)).toBe(true);
    expect(s.passed, notes(s)).toBe(true);
  });

  it('CANARY: the request that touched the canary suspended the account and returned nothing of it', () => {
    const s = scenario('CANARY');
    const [sweep] = s.steps;
    expect(sweep!.note).toContain('answered 403 account_suspended');
    expect(sweep!.note).toContain('by that very request');
    expect(sweep!.note).toContain("the canary's data never came back");
    expect(s.suspended).toBe(true);
    expect(notes(s)).toContain('canary 1/1');
    expect(s.passed, notes(s)).toBe(true);
  });

  it('a stolen partner session (second factor included) reaches no one outside its caseload, and the audit log’s breach scope is exactly what it received', () => {
    const json = toJson(report).scenarios;
    const t2 = json.find((s) => s.id === 'T2-scope')!;
    const t7 = json.find((s) => s.id === 'T7')!;
    // T2-scope: nobody outside the caseload, and the session did work (not vacuous).
    expect(Object.keys(t2)).toEqual([...SCENARIO_KEYS, 'refused', 'notes']);
    expect(t2).toMatchObject({ passed: true, outsideCaseload: 0, beyondBaseline: null });
    expect(t2.recordsExposed).toBeGreaterThan(0);
    expect(t2.requests).toBeGreaterThan(500);
    expect(t2.refused).toBeGreaterThan(0);
    expect(t2.refused).toBeLessThan(t2.requests);
    for (const label of ['(a)', '(b)', '(c)', '(d)', '(e)', '(f)', '(g)']) expect(t2.notes).toContain(label);
    expect(t2.notes).not.toContain('FAILED');
    expect(t2.notes).not.toContain('skipped');
    expect(t2.notes).toContain('at assurance mfa');
    expect(t2.notes).toContain('real and guessed ids answered alike');
    expect(t2.notes).toContain('0 contact changes accepted');
    expect(t2.notes).toMatch(/the attacker received \d+ persons: all in the caseload/);

    // T7: the scope of the victim's account over the attack is exactly what the attacker received.
    expect(t7).toMatchObject({
      passed: true,
      scopeExact: true,
      missing: 0,
      extra: 0,
      fieldMismatches: 0,
      recordsExposed: t2.recordsExposed,
      outsideCaseload: 0,
      beyondBaseline: null,
      requestsToFirstResponse: null,
      requestsToSuspension: null,
      suspended: false,
      requests: 0,
    });
    expect(t7.personsInScope).toBe(t2.recordsExposed);
    expect(t7.personsReceived).toBe(t2.recordsExposed);
    expect(t7.notes).toContain('compared with the attack T2-scope ran in this drill');
    expect(t7.notes).toContain('the scope is exact');
  });

  it('T6 after T7: the notice it checks is one `rempart notify send` mailed to a person, genuine, and refused with one field changed', () => {
    const t6 = toJson(report).scenarios.find((s) => s.id === 'T6')!;
    expect(t6, notes(scenario('T6'))).toMatchObject({
      passed: true,
      forgedCodeRejected: true,
      reusedCodeShownAsIs: true,
      noticeGenuine: true,
      noticeSource: 'mailbox',
      alteredNoticeRejected: true,
    });
  });

  it('T7: the incidents opened from T2’s and T5’s alerts yield genuine notices, person for person and field for field what left through each account in its attack’s window', () => {
    const t7 = toJson(report).scenarios.find((s) => s.id === 'T7')!;
    const s = scenario('T7');
    for (const label of ['(c)', '(d)', '(e)', '(f)']) {
      const found = s.steps.find((x) => x.label === label);
      expect(found?.passed, found?.note ?? notes(s)).toBe(true);
    }
    expect(t7).toMatchObject({ notifiedExact: true, missingNotices: 0, genuineNotices: t7.notices });
    // T2's attacker received persons of the caseload: each has a notice naming exactly its fields.
    expect(t7.notified).toBeGreaterThan(0);
    expect(t7.notified).toBeGreaterThanOrEqual(scenario('T2').recordsExposed);
    // What the owner alone read in the stolen session is in the incident too (the log cannot tell it
    // apart): counted, never hidden; without it, the notices equal the attackers' answers.
    expect(t7.ownerOnly).toBeLessThanOrEqual(t7.notified as number);
    expect(t7.attackersExact).toBe(t7.ownerOnly === 0);
    expect(notes(s)).toContain('T2: incident of');
    expect(notes(s)).toMatch(/\d+ emails \(signature checked against [1-9]\d* published notice keys\)/);
  });

  it('the whole drill passes', () => {
    expect(
      report.passed,
      report.scenarios
        .filter((s) => !s.passed)
        .map((s) => `${s.id}: ${notes(s)}`)
        .join('\n'),
    ).toBe(true);
  });
});
