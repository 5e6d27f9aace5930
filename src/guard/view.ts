/**
 * What the guard learns about a request with the session read (identity/sessions.ts reads it in the
 * same statement, so the guard's check before the read costs no round trip): the organisation's
 * code and calendar, the session's origin and flags, other live sessions from other addresses, and
 * the responses pending on the account (a throttle in force, a step-up asked for).
 */

import { type WorkingHours, workingHoursOf } from './calendar.ts';
import type { OrgToday } from './organisation.ts';
import { type GuardState, loadState } from './state.ts';
import type { GuardConfig } from './thresholds.ts';
import { DEFAULTS } from './thresholds.ts';

export interface GuardView {
  organisationCode: string;
  timeZone: string;
  workingHours: WorkingHours;
  /** The address the session was opened from. */
  sessionAddress: string | null;
  /** What the guard noticed when the session was opened ('new_address', 'new_device'). */
  sessionFlags: string[];
  /** Other live sessions of the account, from other addresses. */
  concurrentAddresses: number;
  throttledUntil: Date | null;
  stepUpSince: Date | null;
  /** The account's guard state and its version, as read with the session (null: none yet). */
  state: GuardState | null;
  version: number | null;
  /** The organisation's day so far as read with the session, and which local day it is (null: nothing yet). */
  orgToday: (OrgToday & { day: string }) | null;
}

/** The columns of the session read that feed GuardView. */
export interface GuardSituationRow {
  organisation_code: string;
  time_zone: string;
  working_hours: unknown;
  source_address: string | null;
  guard_flags: string[] | null;
  concurrent_addresses: number;
  throttled_until: Date | null;
  step_up_since: Date | null;
  guard_state: Omit<GuardState, 'seen'> | null;
  guard_seen: Uint8Array | null;
  guard_version: number | null;
  org_day: string | null;
  org_persons: number | null;
  org_empty: number | null;
  org_refused: number | null;
  org_accounts: number | null;
}

export function guardViewOf(row: GuardSituationRow): GuardView {
  return {
    organisationCode: row.organisation_code,
    timeZone: row.time_zone,
    workingHours: workingHoursOf(row.working_hours),
    sessionAddress: row.source_address,
    sessionFlags: row.guard_flags ?? [],
    concurrentAddresses: row.concurrent_addresses ?? 0,
    throttledUntil: row.throttled_until,
    stepUpSince: row.step_up_since,
    state: loadState(row.guard_state, row.guard_seen),
    version: row.guard_version,
    orgToday:
      row.org_day === null || row.org_day === undefined
        ? null
        : {
            day: row.org_day,
            persons: row.org_persons ?? 0,
            empty: row.org_empty ?? 0,
            refused: row.org_refused ?? 0,
            accounts: row.org_accounts ?? 0,
          },
  };
}

/** Days after which a network or device counts as new again (the defaults layer of the configuration). */
export function newSourceDays(config: GuardConfig | undefined): number {
  return config?.defaults.parameters?.newSourceDays ?? DEFAULTS.parameters.newSourceDays;
}
