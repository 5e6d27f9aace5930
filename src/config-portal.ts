/**
 * The REMPART_PORTAL_* part of the configuration (docs/PORTAL.md). Called by loadConfig with its
 * environment: config.ts stays the only reader of process.env.
 */
import { integerVar } from './config-integer.ts';
import type { FieldIssue } from './errors.ts';

/** The person's portal. */
export interface PortalConfig {
  /** A person session unused this long is over (REMPART_PORTAL_IDLE_MINUTES, default 15). */
  idleMinutes: number;
  /** A person session is over this long after login (REMPART_PORTAL_MAX_HOURS, default 2). */
  maxHours: number;
  /** A login code is valid this long (REMPART_PORTAL_CODE_MINUTES, default 10). */
  codeMinutes: number;
  /**
   * Whether a person's access history names the staff member who read (REMPART_PORTAL_SHOW_STAFF_NAMES,
   * `on` or `off`, default off: organisation, role and purpose only).
   */
  showStaffNames: boolean;
}

/** Reads the REMPART_PORTAL_* variables; pushes an issue naming the variable for each bad one. */
export function loadPortal(env: NodeJS.ProcessEnv, issues: FieldIssue[]): PortalConfig {
  const names = env.REMPART_PORTAL_SHOW_STAFF_NAMES?.trim() || 'off';
  if (names !== 'on' && names !== 'off') {
    issues.push({ field: 'REMPART_PORTAL_SHOW_STAFF_NAMES', message: 'must be on or off' });
  }
  return {
    idleMinutes: integerVar(env, 'REMPART_PORTAL_IDLE_MINUTES', 15, 1, 120, issues),
    maxHours: integerVar(env, 'REMPART_PORTAL_MAX_HOURS', 2, 1, 24, issues),
    codeMinutes: integerVar(env, 'REMPART_PORTAL_CODE_MINUTES', 10, 2, 60, issues),
    showStaffNames: names === 'on',
  };
}
