/**
 * What `rempart drill` shows before it runs (its help and defaults), apart from the scenarios
 * themselves: the command line loads this, and drill/run.ts only when a drill runs (a start-up of
 * every `rempart` command without the drill's modules).
 */

/**
 * Defaults of `rempart drill`: 20,000 persons (ten agencies of about 2,000, partner caseloads of a
 * hundred or so: enough for a thousand honest worklists), 1,000 honest accounts over 30 days.
 */
export const DRILL_DEFAULTS = { persons: 20_000, honestAccounts: 1000, honestDays: 30 } as const;

/** The ids of drill/scenarios/index.ts's SCENARIOS, in its order (test/drill.test.ts checks they agree). */
export const SCENARIO_IDS: readonly string[] = [
  'T1',
  'T2-scope',
  'T2',
  'T2b',
  'T5',
  'T7',
  'T6',
  'T8',
  'T3',
  'T4',
  'T9',
  'ENUM-ID',
  'ENUM-NAME',
  'CANARY',
  'COLLUDE-2',
  'COLLUDE-5',
  'RAMP',
  'MIMIC',
];
