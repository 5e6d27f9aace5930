/**
 * Drills T3 and T4 (issue 14, "Done means"), copies that must not leave unseen, in one `runDrill` on
 * one throwaway server.
 *
 * T3: an honest-looking agent (last week's acting manager, who made a friend a manager) tries a
 * self-approved export of the whole agency, an approval by that friend, the manager-approved bulk
 * export made at night and on Saturday, then an evening file every week just under the size refused
 * after hours. Goal: 0 records leave without a second person's approval; the guard suspends them.
 *
 * T4: a subcontractor operator, with their own session and
 * authenticator, tries to search, to read their items after the deadline or once done, and to open
 * items not assigned to them, then pushes on. 1,000 persons (the smallest population whose agencies
 * hold the nine persons T4 hands over; no honest month), every request through the HTTP API, on a
 * simulated clock.
 * Goal: 0 records leave, the operator is suspended; `recordsExposed` and `requestsToSuspension` in
 * the JSON report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, ScenarioResult } from '../drill/report.ts';
import { toJson } from '../drill/report.ts';
import { runDrill } from '../drill/run.ts';
import { engine, serverUrl } from './helpers/db.ts';
import { SCENARIO_KEYS } from './helpers/drill-keys.ts';

describe(`rempart drill T3 T4 on ${engine}`, () => {
  let report: DrillReport;
  let t3: ScenarioResult;
  let t4: ScenarioResult;
  const notes = (s: ScenarioResult): string =>
    [...s.steps.map((x) => `${x.label} ${x.note}`), ...s.remarks].join('; ');

  beforeAll(async () => {
    report = await runDrill(
      { databaseUrl: serverUrl },
      { ids: ['T3', 'T4'], persons: 1000, honestAccounts: 0, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    [t3, t4] = report.scenarios as [ScenarioResult, ScenarioResult];
  }, 900_000);

  it('T3: 0 records leave without a second person’s approval, and the insider is suspended', () => {
    expect(t3.id).toBe('T3');
    expect(t3.recordsExposed, notes(t3)).toBe(0);
    expect(t3.suspended, notes(t3)).toBe(true);
    expect(t3.requestsToSuspension, notes(t3)).not.toBeNull();
    expect(t3.passed, notes(t3)).toBe(true);
  });

  it('T3: every attempt was made; the refusals name their rule; the control worked', () => {
    expect(t3.steps.map((s) => s.label)).toEqual(['(a)', '(b)', '(c)', '(d)', '(e)']);
    for (const s of t3.steps) expect(s.passed, `${s.label} ${s.note}`).toBe(true);
    const [control, self, friend, night, weekly] = t3.steps.map((x) => x.note);
    expect(control).toMatch(/approved: 200; made: 200 \((\d+) rows\); downloaded: 200/);
    expect(self).toContain('approved by the insider: 403 self_approval');
    expect(friend).toContain('approved by the friend: 403 provisioned_by_requester');
    expect(night).toMatch(/at 21:00: 403 export_off_hours; Saturday 10:00: 403 export_off_hours/);
    // The files that left were approved by the manager: the control and the evenings before the stop.
    expect(t3.figures?.approvedRows).toBeGreaterThan(0);
    expect(t3.figures?.files).toBeGreaterThanOrEqual(1);
    expect(weekly).toMatch(/suspended at request \d+/);
    expect(notes(t3)).toMatch(/off_hours_exports_month|off_hours_persons/);
  });

  it('0 records leave, and the operator is suspended', () => {
    expect(t4.id).toBe('T4');
    expect(t4.recordsExposed, notes(t4)).toBe(0);
    expect(t4.outsideCaseload).toBe(0);
    expect(t4.suspended, notes(t4)).toBe(true);
    expect(t4.requestsToSuspension).not.toBeNull();
    expect(t4.requestsToSuspension!, notes(t4)).toBeLessThanOrEqual(40);
    expect(t4.passed, notes(t4)).toBe(true);
  });

  it('every attempt was made and failed; the control worked', () => {
    expect(t4.steps.map((s) => s.label)).toEqual(['(a)', '(b)', '(c)', '(d)', '(e)', '(f)', '(g)']);
    for (const s of t4.steps) expect(s.passed, `${s.label} ${s.note}`).toBe(true);
    // Its own two items opened before the deadline (the session works), none after it.
    expect(t4.figures?.legitimateReads).toBe(2);
    const [, late, bulk, search, others] = t4.steps.map((x) => x.note);
    expect(late).toMatch(/^2 requests: 404 not_found ×2; 0 persons received/);
    expect(bulk).toMatch(/^4 requests: .*0 persons received/);
    expect(search).toContain('403 forbidden');
    expect(others).toContain('404 not_found');
    expect(notes(t4)).toMatch(/refused_per_day|blocked_per_hour/);
  });

  it('the JSON report carries recordsExposed and requestsToSuspension in its contract', () => {
    const [three, entry] = toJson(report).scenarios;
    expect(Object.keys(three!).slice(0, SCENARIO_KEYS.length)).toEqual(SCENARIO_KEYS);
    expect(three).toMatchObject({ id: 'T3', passed: true, recordsExposed: 0, suspended: true });
    expect(three!.requestsToSuspension).toBe(t3.requestsToSuspension);
    expect(Object.keys(entry!).slice(0, SCENARIO_KEYS.length)).toEqual(SCENARIO_KEYS);
    expect(entry).toMatchObject({ id: 'T4', passed: true, recordsExposed: 0, suspended: true });
    expect(entry!.requestsToSuspension).toBe(t4.requestsToSuspension);
    expect(entry!.refused).toBeGreaterThan(0);
  });
});
