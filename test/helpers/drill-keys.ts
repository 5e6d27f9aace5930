import type { DrillReport, ScenarioResult } from '../../drill/report.ts';

/**
 * The JSON contract of `rempart drill --json` (README, drill/report.ts `toJson`): every scenario's
 * entry starts with these nine keys, in this order; a scenario's own figures and `notes` follow.
 * Written out here rather than taken from drill/report.ts, so that the tests hold the code to it.
 */
export const SCENARIO_KEYS: readonly string[] = [
  'id',
  'passed',
  'recordsExposed',
  'outsideCaseload',
  'beyondBaseline',
  'requestsToFirstResponse',
  'requestsToSuspension',
  'suspended',
  'requests',
];

/** One scenario's result in a drill report, or a failure naming the id. */
export function scenarioOf(report: DrillReport, id: string): ScenarioResult {
  const found = report.scenarios.find((s) => s.id === id);
  if (!found) throw new Error(`no result for ${id}`);
  return found;
}

/** What a scenario said along the way (its steps' notes, then its remarks), for failure messages. */
export function notesOf(s: ScenarioResult): string {
  return [...s.steps.map((x) => x.note), ...s.remarks].join('; ');
}
