/**
 * Drill T4 (issue 14, "Done means"): a subcontractor operator, with their own session and
 * authenticator, tries to search, to read their items after the deadline or once done, and to open
 * items not assigned to them, then pushes on. One `runDrill` with T4 alone on a throwaway server
 * (1,000 persons, the smallest population whose agencies hold the nine persons the scenario hands
 * over; no honest month), every request through the HTTP API, on a simulated clock.
 * Goal: 0 records leave, the operator is suspended; `recordsExposed` and `requestsToSuspension` in
 * the JSON report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, ScenarioResult } from '../drill/report.ts';
import { toJson } from '../drill/report.ts';
import { runDrill } from '../drill/run.ts';
import { engine, serverUrl } from './helpers/db.ts';
import { SCENARIO_KEYS } from './helpers/drill-keys.ts';

describe(`rempart drill T4 on ${engine}`, () => {
  let report: DrillReport;
  let t4: ScenarioResult;
  const notes = (s: ScenarioResult): string =>
    [...s.steps.map((x) => `${x.label} ${x.note}`), ...s.remarks].join('; ');

  beforeAll(async () => {
    report = await runDrill(
      { databaseUrl: serverUrl },
      { ids: ['T4'], persons: 1000, honestAccounts: 0, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    t4 = report.scenarios[0]!;
  }, 600_000);

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
    const [entry] = toJson(report).scenarios;
    expect(Object.keys(entry!).slice(0, SCENARIO_KEYS.length)).toEqual(SCENARIO_KEYS);
    expect(entry).toMatchObject({ id: 'T4', passed: true, recordsExposed: 0, suspended: true });
    expect(entry!.requestsToSuspension).toBe(t4.requestsToSuspension);
    expect(entry!.refused).toBeGreaterThan(0);
  });
});
