/**
 * Guard configurations for tests. Tests of the policy wall (a partner walks all persons to prove it
 * reaches exactly its caseload) are not honest work: the guard would rightly stop them. They run
 * with LENIENT_GUARD, in which no signal has a level, so they test the policy alone; the guard's own
 * tests run with the built-in thresholds.
 */
import { type GuardConfig, parseGuardConfig, SIGNALS } from '../../src/guard/thresholds.ts';

const none = Object.fromEntries(SIGNALS.map((name) => [name, {}]));

/**
 * LENIENT_GUARD as an operator's file holds it (REMPART_GUARD_CONFIG): for a `rempart serve` child
 * process, write `JSON.stringify(LENIENT_GUARD_FILE)` to a file. The guard still counts; it never answers.
 */
export const LENIENT_GUARD_FILE = {
  defaults: { levels: none },
  roles: Object.fromEntries(
    [
      'counselor',
      'partner_counselor',
      'subcontractor_operator',
      'security_officer',
      'dpo',
      'org_manager',
      'helpdesk',
      'administrator',
      'archivist',
    ].map((role) => [role, { levels: none }]),
  ),
};

export const LENIENT_GUARD: GuardConfig = parseGuardConfig(LENIENT_GUARD_FILE);
