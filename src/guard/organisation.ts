/**
 * The organisation as a whole (issue 13, item 1). Several stolen accounts of one organisation, each
 * near its own usual day, pull the whole caseload while every account looks ordinary: only the
 * organisation's day shows it (FT 2024). The gate adds every account's distinct persons, empty and
 * refused searches to the organisation's day (`guard_organisation_days`, by local hour); each
 * account reads, at the start of its day, the organisation's usual (`OrgUsual`, from its past days:
 * medians, so a few odd days do not move it; days on which the organisation drew an alert left out,
 * so a rise does not become the usual). The signals compare the organisation's day so far with its
 * usual *by this hour*, beyond its own spread, and answer only the accounts driving the rise. Pure.
 */

/** One past day of the organisation, as stored. */
export interface OrgDay {
  day: string;
  /** Sum over its accounts of the distinct persons each reached that day. */
  persons: number;
  /** The same, by local hour (24 entries, not cumulative). */
  byHour: number[];
  empty: number;
  refused: number;
  /** An organisation signal drew a response that day: left out of the usual. */
  alerted: boolean;
}

/** The organisation's usual, read by each account at the start of its day. */
export interface OrgUsual {
  /** Working days it is computed from. */
  days: number;
  /** Median persons reached by the end of each local hour (cumulative, 24 entries). */
  byHour: number[];
  /** Robust spread (1.4826 × median absolute deviation) of those, by hour. */
  spreadByHour: number[];
  /** Over the past days of this week (today excluded): persons beyond the usual day, signed sum. */
  weekExcess: number;
  /** Past days of this week counted in weekExcess. */
  weekDays: number;
  /** Empty and refused searches over the past days of this week, and their usual per working day. */
  weekEmpty: number;
  weekRefused: number;
  usualEmpty: number;
  usualRefused: number;
}

/** The organisation's day so far (the session read's, plus this request). */
export interface OrgToday {
  persons: number;
  empty: number;
  refused: number;
  /** Accounts that reached someone today. */
  accounts: number;
}

/** Organisations of its kind: their median persons per active account and day, and from how many days. */
export interface KindUsual {
  perAccount: number;
  samples: number;
}

/** Organisation-days of its kind needed before an organisation is compared with them. */
export const KIND_MIN_SAMPLES = 10;

/** Working days of history the usual is computed from, at most. */
export const ORG_HISTORY_DAYS = 20;
/** Calendar days of the organisation's past read at the start of a day: ORG_HISTORY_DAYS working days and more. */
export const ORG_SPAN_DAYS = 42;
/** Working days of history before the organisation is compared with itself. */
export const ORG_MIN_DAYS = 5;

const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** 1.4826 × the median absolute deviation: the standard deviation of a normal sample, robust to outliers. */
export function robustSpread(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

const cumulative = (byHour: readonly number[]): number[] => {
  const out: number[] = [];
  let sum = 0;
  for (let h = 0; h < 24; h += 1) {
    sum += byHour[h] ?? 0;
    out.push(sum);
  }
  return out;
};

/**
 * The usual from the organisation's past days (any order; today's excluded by the caller): the
 * last ORG_HISTORY_DAYS working days without an alert give the medians; the days of the week that
 * ends today (`today`'s 6 previous calendar days) give the week's sums. Null below ORG_MIN_DAYS.
 */
export function orgUsual(days: readonly OrgDay[], today: string): OrgUsual | null {
  const worked = [...days]
    .filter((d) => d.persons > 0 && d.day < today)
    .sort((a, b) => (a.day < b.day ? -1 : 1));
  const history = worked.filter((d) => !d.alerted).slice(-ORG_HISTORY_DAYS);
  if (history.length < ORG_MIN_DAYS) return null;
  const curves = history.map((d) => cumulative(d.byHour));
  const byHour = Array.from({ length: 24 }, (_, h) => median(curves.map((c) => c[h]!)));
  const spreadByHour = Array.from({ length: 24 }, (_, h) => robustSpread(curves.map((c) => c[h]!)));
  const usualDay = byHour[23]!;
  const start = dayNumberOf(today) - 6;
  const week = worked.filter((d) => dayNumberOf(d.day) >= start);
  return {
    days: history.length,
    byHour,
    spreadByHour,
    weekExcess: week.reduce((s, d) => s + d.persons - usualDay, 0),
    weekDays: week.length,
    weekEmpty: week.reduce((s, d) => s + d.empty, 0),
    weekRefused: week.reduce((s, d) => s + d.refused, 0),
    usualEmpty: median(history.map((d) => d.empty)),
    usualRefused: median(history.map((d) => d.refused)),
  };
}

const dayNumberOf = (day: string): number => Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);

/** Parameters of the organisation signals (thresholds.ts). */
export interface OrgParameters {
  /** Spreads of the organisation's usual allowed before anything counts as beyond it. */
  orgSpreadFactor: number;
  /** Share of its usual an organisation's honest busy day may add (a campaign) before anything counts. */
  orgMargin: number;
  /** An account drives a rise when it is this share of its usual day ahead of it (by this hour). */
  driverShare: number;
  /** …and at least this many persons ahead. */
  driverMin: number;
}

/** The organisation signals' values for one account's request (zero where the account does not drive them). */
export interface OrgValues {
  org_beyond_usual: number;
  org_beyond_kind: number;
  org_beyond_usual_week: number;
  org_empty_searches_week: number;
  org_refused_week: number;
  org_caseload_week: number;
}

/** The account's own figures the driver tests need. */
export interface OwnFigures {
  /** Distinct persons today. */
  persons: number;
  /** Its usual day. */
  expected: number;
  /** Its persons beyond its usual over the week (beyond_baseline_week). */
  weekExcess: number;
  /** Its empty and refused searches over the week. */
  weekEmpty: number;
  weekRefused: number;
}

export const NO_ORG_VALUES: OrgValues = {
  org_beyond_usual: 0,
  org_beyond_kind: 0,
  org_beyond_usual_week: 0,
  org_empty_searches_week: 0,
  org_refused_week: 0,
  org_caseload_week: 0,
};

/**
 * The organisation's excess now, beyond its usual and orgSpreadFactor of its spread, for an account
 * whose own figures drive it; zero for the others (an honest colleague of colluders is not asked
 * about a rise it has no part in).
 */
export function orgValues(
  usual: OrgUsual | null | undefined,
  kind: KindUsual | null | undefined,
  today: OrgToday | null,
  hour: number,
  own: OwnFigures,
  p: OrgParameters,
  cover?: Coverage | null,
): OrgValues {
  if (!today || (!usual && !(kind && kind.samples >= KIND_MIN_SAMPLES))) {
    return {
      ...NO_ORG_VALUES,
      org_caseload_week: today ? coverageValue(cover, { drives: false }, p) : 0,
    };
  }
  const share = shareByNow(usual, hour * 60 + 59);
  const drives = own.persons - own.expected * share >= Math.max(p.driverMin, p.driverShare * own.expected);
  const coverValue = coverageValue(cover, { drives: drives || own.weekExcess >= p.driverMin }, p);
  // Organisations of its kind: as many active accounts reading at their pace, with the same margins.
  let kindBeyond = 0;
  if (kind && kind.samples >= KIND_MIN_SAMPLES) {
    const expected = kind.perAccount * Math.max(1, today.accounts) * share;
    kindBeyond = today.persons - expected * (1 + p.orgMargin) - p.orgSpreadFactor * Math.sqrt(expected);
  }
  const kindValue = drives && kindBeyond > 0 ? Math.round(kindBeyond) : 0;
  if (!usual) return { ...NO_ORG_VALUES, org_beyond_kind: kindValue, org_caseload_week: coverValue };
  const k = p.orgSpreadFactor;
  const usualDay = usual.byHour[23]!;
  const byNow = usual.byHour[hour]!;
  // A campaign day (orgMargin more than usual, all day long) and the organisation's own spread are
  // allowed; beyond them, the rise counts.
  const dayBeyond = today.persons - byNow * (1 + p.orgMargin) - k * usual.spreadByHour[hour]!;
  const daySpread = usual.spreadByHour[23]!;
  const weekDays = usual.weekDays + 1;
  const weekBeyond =
    usual.weekExcess +
    Math.max(0, today.persons - usualDay) -
    p.orgMargin * usualDay -
    k * daySpread * Math.sqrt(weekDays);
  const emptyUsual = usual.usualEmpty * weekDays;
  const refusedUsual = usual.usualRefused * weekDays;
  const emptyBeyond = usual.weekEmpty + today.empty - emptyUsual - k * Math.sqrt(emptyUsual + 1);
  const refusedBeyond = usual.weekRefused + today.refused - refusedUsual - k * Math.sqrt(refusedUsual + 1);
  const positive = (v: number, driver: boolean): number => (driver && v > 0 ? Math.round(v) : 0);
  return {
    org_beyond_usual: positive(dayBeyond, drives),
    org_beyond_kind: kindValue,
    org_beyond_usual_week: positive(weekBeyond, drives || own.weekExcess >= p.driverMin),
    org_empty_searches_week: positive(emptyBeyond, own.weekEmpty >= p.driverMin),
    org_refused_week: positive(refusedBeyond, own.weekRefused >= p.driverMin),
    org_caseload_week: coverValue,
  };
}

/**
 * The share of the organisation's usual day done by `minutes` after local midnight (1 without a
 * history), from its usual by the end of each hour, straight between two hours: an account's usual
 * day so far is its usual day times this.
 */
export function shareByNow(usual: OrgUsual | null | undefined, minutes: number): number {
  if (!usual) return 1;
  const day = usual.byHour[23]!;
  if (day <= 0) return 1;
  const hour = Math.min(23, Math.floor(minutes / 60));
  const before = hour === 0 ? 0 : usual.byHour[hour - 1]!;
  const within = (minutes - hour * 60) / 60;
  return Math.min(1, (before + (usual.byHour[hour]! - before) * within) / day);
}

/**
 * The persons an organisation and an account reached over weeks (`rempart_guard_coverage`, read at
 * the start of the account's day): distinct persons in the 6 days before today (week 0) and in each
 * of the three full weeks before (1 to 3), and the organisation's caseload at the end of each.
 */
export interface Coverage {
  weeks: number[];
  caseloads: number[];
  own: number[];
}

/** Full weeks of history with reads needed before the share of the caseload is compared with its usual. */
export const COVERAGE_MIN_WEEKS = 2;

/**
 * The usual of a week: the median over the full weeks with reads, as a share of the caseload when
 * known, leaving out a week under half the largest (a first week begun midway, a week of holidays: a
 * usual pulled down by them would make an ordinary week look like a rise). Null below
 * COVERAGE_MIN_WEEKS such weeks.
 */
function usualWeek(
  weeks: readonly number[],
  caseloads: readonly number[] | null,
): { share: boolean; usual: number } | null {
  const withReads = [1, 2, 3].filter((i) => (weeks[i] ?? 0) > 0);
  const share =
    caseloads !== null && withReads.every((i) => (caseloads[i] ?? 0) > 0) && (caseloads[0] ?? 0) > 0;
  const values = withReads.map((i) => (share ? weeks[i]! / caseloads![i]! : weeks[i]!));
  const largest = Math.max(0, ...values);
  const kept = values.filter((v) => v >= largest / 2);
  if (kept.length < COVERAGE_MIN_WEEKS) return null;
  return { share, usual: median(kept) };
}

/**
 * `org_caseload_week`: the distinct persons the organisation reached in the 6 days before today
 * beyond its usual share of its caseload (median of its full weeks, times the caseload now) ×
 * (1 + orgMargin) and orgSpreadFactor spreads of a count; for an account driving it: its own 6 days
 * at least driverShare of its own usual week and driverMin persons beyond it (or a driver of the
 * day's or the week's rise). A crew reading new persons in place of the usual ones moves this and
 * none of the sums. Today's persons are not added: the organisation's day is a sum over its accounts
 * of each one's distinct persons, and where an organisation reads its whole caseload every week (an
 * agency), that sum is mostly persons already counted: added, it made 665 honest counselors look
 * like a crew in the drill's honest month. A day's rise is the day's signals' to see; this one
 * answers the next morning, exactly.
 */
export function coverageValue(
  cover: Coverage | null | undefined,
  own: { drives: boolean },
  p: OrgParameters,
): number {
  if (!cover) return 0;
  const org = usualWeek(cover.weeks, cover.caseloads);
  if (!org) return 0;
  const expected = org.share ? org.usual * cover.caseloads[0]! : org.usual;
  const reached = cover.weeks[0] ?? 0;
  const beyond = reached - expected * (1 + p.orgMargin) - p.orgSpreadFactor * Math.sqrt(expected);
  if (beyond <= 0) return 0;
  const mine = usualWeek(cover.own, null);
  const ownUsual = mine?.usual ?? 0;
  const ownBeyond = (cover.own[0] ?? 0) - ownUsual;
  const drives = own.drives || ownBeyond >= Math.max(p.driverMin, p.driverShare * ownUsual);
  return drives ? Math.round(beyond) : 0;
}

/** An empty day by hour. */
export const noHours = (): number[] => Array.from({ length: 24 }, () => 0);
