/**
 * Guard configurations for tests. Tests of the policy wall (a partner walks all persons to prove it
 * reaches exactly its caseload) are not honest work: the guard would rightly stop them. They run
 * with LENIENT_GUARD, in which no signal has a level, so they test the policy alone; the guard's own
 * tests run with the built-in thresholds.
 */
import { type GuardConfig, parseGuardConfig, SIGNALS } from '../../src/guard/thresholds.ts';

const none = Object.fromEntries(SIGNALS.map((name) => [name, {}]));

export const LENIENT_GUARD: GuardConfig = parseGuardConfig({
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
});
