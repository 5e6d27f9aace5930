/**
 * The evidence's organisation picture and baselines (docs/GUARD.md, "The review queue"): a rise
 * spread over colluding accounts shows only in the organisation's day, and a patient attacker moves
 * an account's usual day a little each week. The reviewer sees the organisation's last
 * ORG_PICTURE_DAYS days against its usual, the alert's day by hour against the usual by hour, the
 * accounts driving that day's rise, and the account's baseline with its reviewed reference, its
 * peers' median and its past days (what it read and what it was held to), so a moved baseline
 * shows. Figures and staff logins only: no person.
 */
import type { Tx } from '../db/types.ts';
import { localParts } from './calendar.ts';
import { ORG_SPAN_DAYS, type OrgDay, orgUsual, shareByNow } from './organisation.ts';
import { expectedPersons } from './signals.ts';
import type { GuardState } from './state.ts';
import { type GuardConfig, thresholdsFor } from './thresholds.ts';

/** Days of the organisation's picture, ending with the alert's day. */
export const ORG_PICTURE_DAYS = 28;
/** At most this many accounts listed as driving the rise. */
export const DRIVERS_LIMIT = 50;

export interface OrganisationPicture {
  organisationCode: string;
  /** The alert's local day. */
  day: string;
  /** Working days the alert day's usual is computed from (0: not enough history). */
  usualDays: number;
  /** Newest first: the organisation's days with a row, and its usual day as of each. */
  days: {
    day: string;
    persons: number;
    usual: number | null;
    empty: number;
    refused: number;
    accounts: number;
    alerted: boolean;
  }[];
  /** The alert's day by local hour: persons in that hour, cumulative, and the usual cumulative (median) and spread. */
  byHour: {
    hour: number;
    persons: number;
    cumulative: number;
    usual: number | null;
    spread: number | null;
  }[];
  /** Accounts ahead of their usual day on the alert's day as the guard's driver test measures, or answered for an organisation signal that day. */
  drivers: {
    accountId: string;
    login: string;
    role: string;
    persons: number;
    usual: number | null;
    drives: boolean;
    answered: boolean;
  }[];
  /**
   * The share of its caseload it reached (org_caseload_week), as counted at the start of the
   * alert's day: distinct persons in the 6 days before it (week 0) and in each of the three weeks
   * before, with the caseload at the end of each; null when no account started its day then.
   */
  coverage: { weeks: number[]; caseloads: number[] } | null;
}

export interface BaselineHistory {
  /** The account's usual day (EWMA of its working days) and how many days it has folded. */
  baseline: number | null;
  days: number;
  /** The reviewed reference and the most it lets the usual day reach (ref × (1 + growth)). */
  ref: number | null;
  refCap: number | null;
  growth: number;
  /** What the account is held to today. */
  expected: number;
  /** Its peers' median usual day now (same role and organisation), and from how many peers. */
  peer: number | null;
  peers: number;
  /** Newest first: persons read each past active day and the usual day it was held to. */
  past: { day: string; persons: number; expected: number | null }[];
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

const dayNumber = (day: string): number => Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);

/** The organisation picture of an alert of `organisationId` raised at `raisedAt`. */
export async function organisationPicture(
  tx: Tx,
  config: GuardConfig,
  organisationId: string,
  raisedAt: Date,
  now: Date,
): Promise<OrganisationPicture> {
  const [org] = await tx.query<{ code: string; time_zone: string }>(
    'SELECT code, time_zone FROM organisations WHERE id = $1',
    [organisationId],
  );
  const timeZone = org?.time_zone ?? 'Europe/Paris';
  const day = localParts(raisedAt, timeZone).day;
  const first = dayNumber(day) - (ORG_PICTURE_DAYS - 1);
  const rows = await tx.query<OrgDay & { accounts: number }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, persons, by_hour AS "byHour", empty, refused, accounts, alerted
     FROM guard_organisation_day_totals
     WHERE organisation_id = $1 AND day <= $2::date AND day >= $2::date - $3::int
     ORDER BY day`,
    [organisationId, day, ORG_PICTURE_DAYS - 1 + ORG_SPAN_DAYS],
  );
  const usualOf = (d: string) => {
    const n = dayNumber(d);
    return orgUsual(
      rows.filter((r) => dayNumber(r.day) >= n - ORG_SPAN_DAYS),
      d,
    );
  };
  const days = rows
    .filter((r) => dayNumber(r.day) >= first)
    .reverse()
    .map((r) => {
      const usual = usualOf(r.day);
      return {
        day: r.day,
        persons: r.persons,
        usual: usual ? round1(usual.byHour[23]!) : null,
        empty: r.empty,
        refused: r.refused,
        accounts: r.accounts,
        alerted: r.alerted,
      };
    });
  const usual = usualOf(day);
  const today = rows.find((r) => r.day === day);
  let cumulative = 0;
  const byHour = Array.from({ length: 24 }, (_, hour) => {
    const persons = today?.byHour[hour] ?? 0;
    cumulative += persons;
    return {
      hour,
      persons,
      cumulative,
      usual: usual ? round1(usual.byHour[hour]!) : null,
      spread: usual ? round1(usual.spreadByHour[hour]!) : null,
    };
  });

  // The accounts of that day: today's from their day counters, an earlier day's from their past days.
  const accounts = await tx.query<{
    account_id: string;
    login: string;
    role: string;
    demo: boolean;
    state: Omit<GuardState, 'seen'>;
    answered: boolean;
  }>(
    `SELECT g.account_id, a.login, g.role, coalesce(a.demo, false) AS demo, g.state,
       EXISTS (SELECT 1 FROM guard_alerts x
               WHERE x.account_id = g.account_id
                 AND (x.raised_at AT TIME ZONE $3)::date = $2::text::date
                 AND EXISTS (SELECT 1 FROM jsonb_array_elements(x.signals) s WHERE s->>'name' LIKE 'org\\_%')) AS answered
     FROM guard_accounts g JOIN accounts a ON a.id = g.account_id
     WHERE g.organisation_id = $1
       AND (g.state->>'day' = $2::text OR g.state->'past' @> jsonb_build_array(jsonb_build_object('day', $2::text)))`,
    [organisationId, day, timeZone],
  );
  const nowParts = localParts(now, timeZone);
  const share = nowParts.day === day ? shareByNow(usual, nowParts.minutes) : 1;
  const drivers = accounts
    .map((row) => {
      const state = row.state as GuardState;
      const t = thresholdsFor(config, row.role, org?.code ?? '', row.demo);
      let persons: number;
      let expected: number | null;
      if (state.day === day) {
        persons = Math.max(0, (state.d?.persons ?? 0) - (state.pardon?.persons ?? 0));
        expected = expectedPersons(state, t);
      } else {
        const past = (state.past ?? []).find((p) => p.day === day);
        persons = past?.persons ?? 0;
        expected = past?.expected ?? null;
      }
      const p = t.parameters;
      const drives =
        expected !== null && persons - expected * share >= Math.max(p.driverMin, p.driverShare * expected);
      return {
        accountId: row.account_id,
        login: row.login,
        role: row.role,
        persons,
        usual: expected === null ? null : round1(expected),
        drives,
        answered: row.answered,
        ahead: persons - (expected ?? 0) * share,
      };
    })
    .filter((d) => d.drives || d.answered)
    .sort((a, b) => b.ahead - a.ahead || a.login.localeCompare(b.login))
    .slice(0, DRIVERS_LIMIT)
    .map(({ ahead: _, ...d }) => d);
  const [coverage] = await tx.query<{ weeks: number[]; caseloads: number[] }>(
    'SELECT weeks, caseloads FROM guard_organisation_coverage WHERE organisation_id = $1 AND day = $2::date',
    [organisationId, day],
  );
  return {
    organisationCode: org?.code ?? '',
    day,
    usualDays: usual?.days ?? 0,
    days,
    byHour,
    drivers,
    coverage: coverage
      ? { weeks: coverage.weeks.map(Number), caseloads: coverage.caseloads.map(Number) }
      : null,
  };
}

/** The account's baseline, its reviewed reference, its peers' median and its past days. */
export async function baselineHistory(
  tx: Tx,
  config: GuardConfig,
  accountId: string,
): Promise<BaselineHistory | null> {
  const [row] = await tx.query<{
    state: Omit<GuardState, 'seen'>;
    role: string;
    organisation_id: string;
    code: string;
    demo: boolean;
  }>(
    `SELECT g.state, g.role, g.organisation_id, o.code, coalesce(a.demo, false) AS demo
     FROM guard_accounts g JOIN accounts a ON a.id = g.account_id JOIN organisations o ON o.id = g.organisation_id
     WHERE g.account_id = $1`,
    [accountId],
  );
  if (!row) return null;
  const state = row.state as GuardState;
  const t = thresholdsFor(config, row.role, row.code, row.demo);
  const growth = t.parameters.baselineGrowth;
  const [peers] = await tx.query<{ baseline: number | null; peers: number }>(
    'SELECT baseline, peers FROM rempart_guard_peer_baseline($1, $2, $3, $4)',
    [row.organisation_id, row.role, accountId, growth],
  );
  const ref = state.ref ?? null;
  return {
    baseline: state.baseline === null ? null : round1(state.baseline),
    days: state.days,
    ref: ref === null ? null : round1(ref),
    refCap: ref === null ? null : round1(ref * (1 + growth)),
    growth,
    expected: round1(expectedPersons(state, t)),
    peer: peers && peers.peers > 0 && peers.baseline !== null ? round1(Number(peers.baseline)) : null,
    peers: peers?.peers ?? 0,
    past: [...(state.past ?? [])].reverse().map((p) => ({
      day: p.day,
      persons: p.persons,
      expected: p.expected === null ? null : round1(p.expected),
    })),
  };
}
