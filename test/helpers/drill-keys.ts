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
