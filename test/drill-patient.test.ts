/**
 * The patient and colluding attackers of issue 13, at small scale: one `runDrill` of COLLUDE (2 and
 * 5 stolen partner accounts of one organisation, with 3 honest colleagues), RAMP (one partner
 * account's day raised by one person more each working day) and MIMIC (8 justified national reads
 * every working day from a counselor's session), on a fresh throwaway server of 6,000 persons (the
 * Cap emploi caseloads must outlast a crew's first days: at 2,000 persons they hold about 35), no
 * honest month: each scenario's own owners and colleagues work alongside the attacks, through the
 * HTTP API only, on a simulated clock. The goals ("Done means"):
 * - COLLUDE-2, COLLUDE-5: every stolen account suspended before the organisation reads 50 persons
 *   beyond its usual day; the honest colleagues never suspended; nobody outside the caseload;
 * - RAMP: suspended before 100 persons beyond the account's first week;
 * - MIMIC: answered within its first week of attack and suspended before 40 persons outside the agency.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, ScenarioResult } from '../drill/report.ts';
import { toJson } from '../drill/report.ts';
import { runDrill } from '../drill/run.ts';
import { COLLUDE_GOAL } from '../drill/scenarios/collude.ts';
import { MIMIC_DAYS_GOAL, MIMIC_OUTSIDE_GOAL } from '../drill/scenarios/mimic.ts';
import { RAMP_GOAL } from '../drill/scenarios/ramp.ts';
import { engine, serverUrl } from './helpers/db.ts';
import { notesOf, SCENARIO_KEYS, scenarioOf } from './helpers/drill-keys.ts';

const IDS = ['COLLUDE', 'RAMP', 'MIMIC'];

// On PostgreSQL only (the CI's second pass, DATABASE_URL): the claim is the guard's decisions over
// simulated weeks, the same code on both engines, and the SQL it relies on (the organisation's days,
// the weeks of its caseload read) is tested on both in test/guard.test.ts and
// test/guard-coverage.test.ts. On PGlite it took 117 s of the suite's six minutes (62 s here).
describe.skipIf(engine === 'pglite')(`rempart drill: the patient attackers on ${engine}`, () => {
  let report: DrillReport;
  const scenario = (id: string): ScenarioResult => scenarioOf(report, id);
  const notes = notesOf;

  beforeAll(async () => {
    report = await runDrill(
      { databaseUrl: serverUrl },
      { ids: IDS, persons: 6000, honestAccounts: 0, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
  }, 900_000);

  it('runs COLLUDE as COLLUDE-2 and COLLUDE-5, then RAMP and MIMIC, each reporting daysToFirstResponse', () => {
    expect(report.scenarios.map((s) => s.id)).toEqual(['COLLUDE-2', 'COLLUDE-5', 'RAMP', 'MIMIC']);
    for (const entry of toJson(report).scenarios) {
      expect(Object.keys(entry).slice(0, SCENARIO_KEYS.length)).toEqual(SCENARIO_KEYS);
      expect(entry).toHaveProperty('daysToFirstResponse');
    }
  });

  for (const id of ['COLLUDE-2', 'COLLUDE-5']) {
    it(`${id}: every stolen account suspended before ${COLLUDE_GOAL} persons beyond the organisation's usual, the colleagues left alone`, () => {
      const s = scenario(id);
      expect(s.requests, notes(s)).toBeGreaterThan(0);
      expect(s.suspended, notes(s)).toBe(true);
      expect(s.beyondBaseline, notes(s)).not.toBeNull();
      expect(s.beyondBaseline!, notes(s)).toBeLessThan(COLLUDE_GOAL);
      expect(s.outsideCaseload, notes(s)).toBe(0);
      expect(s.steps.find((x) => x.label === '(b)')?.passed, notes(s)).toBe(true);
      expect(s.passed, notes(s)).toBe(true);
    });
  }

  it(`RAMP: suspended before ${RAMP_GOAL} persons beyond the account's first week`, () => {
    const s = scenario('RAMP');
    expect(s.suspended, notes(s)).toBe(true);
    expect(s.beyondBaseline, notes(s)).not.toBeNull();
    expect(s.beyondBaseline!, notes(s)).toBeLessThan(RAMP_GOAL);
    expect(s.outsideCaseload, notes(s)).toBe(0);
    expect(s.passed, notes(s)).toBe(true);
  });

  it(`MIMIC: answered by attack day ${MIMIC_DAYS_GOAL}, suspended before ${MIMIC_OUTSIDE_GOAL} persons outside the agency`, () => {
    const s = scenario('MIMIC');
    const days = s.figures?.daysToFirstResponse;
    expect(days, notes(s)).not.toBeNull();
    expect(days!, notes(s)).toBeLessThanOrEqual(MIMIC_DAYS_GOAL);
    expect(s.suspended, notes(s)).toBe(true);
    expect(s.outsideCaseload, notes(s)).toBeGreaterThan(0);
    expect(s.outsideCaseload, notes(s)).toBeLessThan(MIMIC_OUTSIDE_GOAL);
    expect(s.passed, notes(s)).toBe(true);
  });
});
