/**
 * Every threshold of the guard, in one configuration (docs/DESIGN.md section 6): each signal's levels
 * (the value at which it asks for a step-up, throttles or suspends), with its default and the reason
 * for it. Defaults hold for every role; a role's entry overrides some; an organisation's entry (by
 * code) overrides again. An operator changes any of them with a JSON file (REMPART_GUARD_CONFIG),
 * no code change: `{"defaults": {...}, "roles": {"partner_counselor": {...}}, "organisations":
 * {"CAP-75-001": {...}}}`, each `{...}` shaped like `GuardOverrides`. `rempart guard config` prints
 * the effective values; docs/GUARD.md has the table.
 */
import { readFileSync } from 'node:fs';
import { AppError, type FieldIssue } from '../errors.ts';
import { ROLES, type Role } from '../identity/accounts.ts';
import { ALPHA_QUIET_MS } from './state.ts';

/** What a signal can ask for, mildest first. `allow` is the absence of a response. */
export const RESPONSES = ['throttle', 'step_up', 'suspend'] as const;
export type GuardResponse = (typeof RESPONSES)[number];

/** The value of a signal at which each response starts (absent: that response is never asked for). */
export type Levels = Partial<Record<GuardResponse, number>>;

/** The signals, by name; the value each measures is described in SIGNAL_DOCS. */
export const SIGNALS = [
  'views_per_minute',
  'views_per_hour',
  'views_per_day',
  'searches_per_minute',
  'searches_per_hour',
  'searches_per_day',
  'persons_per_minute',
  'persons_per_hour',
  'persons_per_day',
  'beyond_baseline',
  'beyond_peers',
  'refused_per_day',
  'refused_per_week',
  'empty_searches_per_hour',
  'empty_searches_per_day',
  'empty_searches_per_week',
  'sequential_sweep',
  'alphabetical_sweep',
  'off_hours_persons',
  'national_persons',
  'blocked_per_hour',
  'session_address_changed',
  'concurrent_addresses',
  'canary',
  'provisioned_accounts_per_day',
  'caseload_persons_per_day',
  'off_hours_provisioning',
  'beyond_baseline_week',
  'beyond_baseline_month',
  'national_persons_week',
  'national_persons_month',
  'off_hours_persons_week',
  'response_days_week',
  'ahead_of_usual',
  'org_beyond_usual',
  'org_beyond_usual_week',
  'org_beyond_kind',
  'org_empty_searches_week',
  'org_refused_week',
  'org_caseload_week',
  'export_persons_week',
  'export_persons_month',
  'off_hours_exports_month',
] as const;
export type SignalName = (typeof SIGNALS)[number];

/** The parameters that are not levels. */
export interface GuardParameters {
  /** Weight of the latest day in the account's baseline (EWMA of distinct persons per working day). */
  baselineAlpha: number;
  /** Working days of history before the account's own baseline is trusted (before: its peers', or the floor). */
  baselineMinDays: number;
  /** Expected distinct persons per day when neither the account nor its peers have a history. */
  baselineFloor: number;
  /** `beyond_peers` measures persons today beyond this many times the peers' baseline. */
  peerFactor: number;
  /** Two agency-id searches this close (numeric part) count as consecutive in a sequential sweep. */
  sequentialGap: number;
  /**
   * The longest a throttle lasts (minutes): a daily quota or a sweep throttles this long; an hourly
   * quota to the end of its hour, at most this long; a per-minute quota to the end of its minute.
   */
  throttleMinutes: number;
  /** Volume levels are multiplied by this while the account is on probation (new or recovered). */
  probationFactor: number;
  /** Volume levels are multiplied by this in a session opened from an address or device not seen lately. */
  newSourceFactor: number;
  /** Days after which an address or device the account used counts as new again. */
  newSourceDays: number;
  /**
   * How much the account's usual day may grow in a working week without review: it is held to at
   * most its reviewed usual day (`ref`, moved once a working week) × (1 + this).
   */
  baselineGrowth: number;
  /**
   * beyond_baseline_week and _month: their step-up level is at least this many times the account's
   * own daily spread × √days in the window (its suspension level in proportion).
   */
  spreadFactor: number;
  /** Organisation signals: spreads of the organisation's usual allowed before anything counts as beyond it. */
  orgSpreadFactor: number;
  /** Share of its usual an organisation's honest busy day may add (a campaign) before anything counts. */
  orgMargin: number;
  /** ahead_of_usual: how much faster than its usual pace an honest busy day may go. */
  aheadMargin: number;
  /** An account drives an organisation's rise when it is this share of its usual day ahead of it. */
  driverShare: number;
  /** …and at least this many persons (or empty, or refused searches over the week) ahead. */
  driverMin: number;
}

export interface GuardThresholds {
  levels: Record<SignalName, Levels>;
  parameters: GuardParameters;
}

/** An override: some levels (each replaces that signal's levels whole) and some parameters. */
export interface GuardOverrides {
  levels?: Partial<Record<SignalName, Levels>>;
  parameters?: Partial<GuardParameters>;
}

/** What each signal measures and why its default is what it is (docs/GUARD.md is built from this). */
export const SIGNAL_DOCS: Record<SignalName, { measures: string; reason: string }> = {
  views_per_minute: {
    measures: 'records opened (view, history, contact change) in the current minute',
    reason: 'nobody reads 30 records a minute by hand; scripts do',
  },
  views_per_hour: {
    measures: 'records opened in the current hour',
    reason: 'a busy counselor opens a few dozen an hour; 200 is a script or a bulk pull',
  },
  views_per_day: {
    measures: 'records opened today',
    reason: 'twice the busiest honest day of the traffic model, and far below a bulk pull',
  },
  searches_per_minute: {
    measures: 'searches in the current minute',
    reason: 'a human types a search in more than 3 seconds',
  },
  searches_per_hour: { measures: 'searches in the current hour', reason: 'as views_per_hour' },
  searches_per_day: { measures: 'searches today', reason: 'as views_per_day' },
  persons_per_minute: {
    measures: 'distinct persons first reached today, in the current minute',
    reason: 'a bulk pull reaches many new persons a minute; honest work a few',
  },
  persons_per_hour: {
    measures: 'distinct persons first reached today, in the current hour',
    reason: 'the morning peak of the busiest honest account stays under 40',
  },
  persons_per_day: {
    measures: 'distinct persons reached today',
    reason: 'an absolute ceiling whatever the baseline: a day of more is a bulk pull (T2, 2024)',
  },
  beyond_baseline: {
    measures:
      "distinct persons today beyond the account's usual day (EWMA over its past working days; its peers' or the floor until it has a history)",
    reason:
      'the measured goal: a stolen partner session is suspended before 50 persons beyond its usual day (T2, T5, T9)',
  },
  beyond_peers: {
    measures:
      "distinct persons today beyond peerFactor times the usual day of the account's peers (same role, same organisation)",
    reason: 'an account drifting far from everyone doing the same job, even slowly, is asked to prove itself',
  },
  refused_per_day: {
    measures: 'requests refused by the policy today (out of scope, purpose or search not allowed)',
    reason: 'honest agents hit a refusal a few times a week; probing hits many',
  },
  refused_per_week: {
    measures: "refused requests over the account's last 7 active days",
    reason: 'slow probing (2024: three weeks at low volume) adds up even when each day looks quiet',
  },
  empty_searches_per_hour: {
    measures: 'searches that found nobody, in the current hour',
    reason: 'guessing identities mostly finds nobody; an honest typo is retyped once',
  },
  empty_searches_per_day: { measures: 'searches that found nobody, today', reason: 'as per hour' },
  empty_searches_per_week: {
    measures: "searches that found nobody over the account's last 7 active days",
    reason: 'slow probing of identities outside the caseload shows as empty searches',
  },
  sequential_sweep: {
    measures: 'consecutive agency-id searches whose numbers are within sequentialGap of the previous one',
    reason: 'enumeration of sequential identifiers (ENUM-ID) is throttled within 20 requests',
  },
  alphabetical_sweep: {
    measures: `consecutive name searches that found nobody, in alphabetical order, each within ${ALPHA_QUIET_MS / 60_000} minutes of the previous`,
    reason: 'name sweeps (ENUM-NAME); honest searches come in no order',
  },
  off_hours_persons: {
    measures:
      "distinct persons reached today outside the organisation's working hours or on a public holiday",
    reason: 'the 2021 insider exported at night for years; honest late work is a handful of records',
  },
  national_persons: {
    measures: 'distinct persons reached today through justified national reads',
    reason: 'T2b: leaked identities looked up one by one; honest national searches are a few a week',
  },
  blocked_per_hour: {
    measures: 'requests this hour that the guard refused (throttled, or waiting for a step-up)',
    reason: 'an honest agent waits or steps up; a script keeps pushing',
  },
  session_address_changed: {
    measures: 'whether the request comes from another address than the one the session was opened from',
    reason: 'a stolen session cookie used elsewhere; the owner steps up once and goes on',
  },
  concurrent_addresses: {
    measures: 'other live sessions of the account from other addresses',
    reason: 'one agent, one desk: a second address at the same time is a stolen credential or session',
  },
  canary: {
    measures: 'canary persons among those a request would return',
    reason: 'no legitimate workflow reaches a canary: touching one suspends at once',
  },
  provisioned_accounts_per_day: {
    measures: 'accounts and roles a manager asked for today',
    reason: 'T8 (2025): a manager account creating fake accesses; a manager creates a few a week',
  },
  caseload_persons_per_day: {
    measures: 'persons a manager asked to add to caseloads today',
    reason: 'T8: widening caseloads to reach 1.6 million people',
  },
  off_hours_provisioning: {
    measures: 'provisioning requests outside working hours',
    reason: 'privileged acts at night are asked to prove who is at the keyboard',
  },
  beyond_baseline_week: {
    measures:
      "persons beyond the account's usual day over the last 7 days: the past days' differences, quiet days counting against busy ones, plus today's excess",
    reason:
      'RAMP, COLLUDE: an account a little above its usual day every day adds up; honest busy and quiet days cancel out',
  },
  beyond_baseline_month: {
    measures: 'the same over the last 30 days',
    reason: 'RAMP: a usual day raised slowly over weeks, each week below the weekly level',
  },
  national_persons_week: {
    measures:
      'distinct persons reached through justified national reads, each day counted, over the last 7 days',
    reason:
      'MIMIC: a few national reads every working day stays under the daily level; honest counselors make about 2 a week',
  },
  national_persons_month: {
    measures: 'the same over the last 30 days',
    reason: 'MIMIC slowed down to stay under the weekly level still adds up over a month',
  },
  off_hours_persons_week: {
    measures: 'persons reached outside working hours over the last 7 days',
    reason: 'the 2021 insider: a few records every evening, under the daily level, for years',
  },
  export_persons_week: {
    measures:
      'rows of approved exports the account produced over the last 7 days (outside working hours they also count as persons read)',
    reason:
      'T3: four eyes on each file do not see the sum; one export a year is routine, a file every week is a copy of the agency (2021)',
  },
  export_persons_month: {
    measures: 'the same over the last 30 days',
    reason:
      'T3: exports kept just under every level, repeated week after week; a step-up given for export volume is remembered a month',
  },
  off_hours_exports_month: {
    measures: 'rows of approved exports the account produced outside working hours over the last 30 days',
    reason:
      'the 2021 insider: a file every evening, each approved and under the off-hours size; honest exports are made in the day. A step-up given for it is remembered a month',
  },
  response_days_week: {
    measures:
      'days of the last 7 on which the account drew a response (throttle, step-up), this one included',
    reason:
      'a response every day that the owner’s routine login clears is no answer: responses on several days of a week send the account to review',
  },
  ahead_of_usual: {
    measures:
      "distinct persons today so far beyond the account's usual day times the share of its organisation's usual day done by the end of this hour",
    reason:
      'COLLUDE, RAMP: a stolen session reads its day right after the owner’s morning login; an honest day follows the organisation’s rhythm',
  },
  org_beyond_usual: {
    measures:
      "persons the organisation's accounts reached today so far beyond its usual by the end of this hour and orgSpreadFactor of its spread; counted for an account driving the rise only",
    reason:
      'COLLUDE: stolen accounts of one organisation, each near its own usual day, double the organisation’s day (FT 2024)',
  },
  org_beyond_usual_week: {
    measures:
      "the organisation's persons beyond its usual day over the last 7 days (quiet days against busy ones) beyond its spread; for an account driving it",
    reason: 'COLLUDE spread over days: each day a little above, the week far above',
  },
  org_beyond_kind: {
    measures:
      'persons the organisation read today so far beyond as many active accounts reading at the pace of organisations of its kind (median per account and day), twice over and orgSpreadFactor deviations; for an account driving it',
    reason:
      'a new organisation (a subcontractor created last week, T8) has no usual of its own: it is compared with the others of its kind from its first day',
  },
  org_empty_searches_week: {
    measures:
      "the organisation's searches that found nobody over the last 7 days beyond its usual; for an account with driverMin of them",
    reason: 'probing identities from several accounts: about 7 a week became about 50 (issue 13)',
  },
  org_refused_week: {
    measures:
      "the organisation's refused requests over the last 7 days beyond its usual; for an account with driverMin of them",
    reason: 'probing outside the scope spread over several accounts',
  },
  org_caseload_week: {
    measures:
      "distinct persons the organisation reached over the last 7 days (today's so far added) beyond its usual share of its caseload (median of its last full weeks, times today's caseload) twice over and orgSpreadFactor deviations; for an account reaching more persons than its own usual week, or driving the day's or the week's rise",
    reason:
      'COLLUDE reading new persons in place of the usual ones: every sum stays where it was, but the share of the caseload reached in a week doubles (issue 13: 100 % of a caseload in 3 to 6 days)',
  },
};

/** The defaults for every role. */
const DEFAULT_LEVELS: Record<SignalName, Levels> = {
  views_per_minute: { throttle: 30 },
  views_per_hour: { throttle: 200 },
  views_per_day: { throttle: 400 },
  searches_per_minute: { throttle: 20 },
  searches_per_hour: { throttle: 150 },
  searches_per_day: { throttle: 400 },
  persons_per_minute: { throttle: 15 },
  persons_per_hour: { throttle: 80 },
  persons_per_day: { suspend: 300 },
  beyond_baseline: { step_up: 60, suspend: 150 },
  beyond_peers: { step_up: 60 },
  refused_per_day: { step_up: 6, suspend: 20 },
  refused_per_week: { step_up: 12, suspend: 30 },
  empty_searches_per_hour: { throttle: 10 },
  empty_searches_per_day: { step_up: 20, suspend: 60 },
  empty_searches_per_week: { step_up: 40, suspend: 100 },
  sequential_sweep: { throttle: 6, suspend: 20 },
  alphabetical_sweep: { throttle: 8, suspend: 24 },
  off_hours_persons: { step_up: 15, suspend: 50 },
  national_persons: { step_up: 10, suspend: 40 },
  blocked_per_hour: { suspend: 20 },
  session_address_changed: { step_up: 1 },
  concurrent_addresses: { step_up: 1 },
  canary: { suspend: 1 },
  provisioned_accounts_per_day: { step_up: 5, suspend: 12 },
  caseload_persons_per_day: { step_up: 200, suspend: 500 },
  off_hours_provisioning: { step_up: 1 },
  beyond_baseline_week: { step_up: 35, suspend: 60 },
  beyond_baseline_month: { step_up: 60, suspend: 100 },
  national_persons_week: { step_up: 12, suspend: 30 },
  national_persons_month: { step_up: 30, suspend: 60 },
  off_hours_persons_week: { step_up: 30, suspend: 80 },
  response_days_week: { suspend: 3 },
  ahead_of_usual: { step_up: 12, suspend: 60 },
  org_beyond_usual: { step_up: 1, suspend: 10 },
  org_beyond_usual_week: { step_up: 20, suspend: 40 },
  org_beyond_kind: { step_up: 1, suspend: 20 },
  org_empty_searches_week: { step_up: 10, suspend: 30 },
  org_refused_week: { step_up: 10, suspend: 30 },
  org_caseload_week: { step_up: 1, suspend: 20 },
  export_persons_week: { step_up: 1000, suspend: 10_000 },
  export_persons_month: { step_up: 2000, suspend: 20_000 },
  off_hours_exports_month: { step_up: 15, suspend: 100 },
};

/** Per role: partners reach a caseload of a few dozen to a few hundred persons, so their margins are narrower. */
const ROLE_LEVELS: Partial<Record<Role, Partial<Record<SignalName, Levels>>>> = {
  partner_counselor: {
    views_per_day: { throttle: 250 },
    persons_per_hour: { throttle: 50 },
    persons_per_day: { suspend: 150 },
    beyond_baseline: { step_up: 25, suspend: 40 },
    beyond_peers: { step_up: 40 },
    refused_per_day: { step_up: 4, suspend: 12 },
    refused_per_week: { step_up: 8, suspend: 20 },
    empty_searches_per_day: { step_up: 10, suspend: 30 },
    empty_searches_per_week: { step_up: 20, suspend: 45 },
    off_hours_persons: { step_up: 10, suspend: 30 },
    beyond_baseline_week: { step_up: 20, suspend: 35 },
    beyond_baseline_month: { step_up: 35, suspend: 60 },
    off_hours_persons_week: { step_up: 20, suspend: 60 },
    ahead_of_usual: { step_up: 6, suspend: 30 },
  },
  // T4: an operator has no search and no record to ask for; every refusal is a search tried, or an
  // item opened that is not theirs or no longer live, which the console never offers. A few are
  // slips (an item opened in the minute it closed); a dozen in a day is a copy being attempted.
  subcontractor_operator: {
    refused_per_day: { step_up: 4, suspend: 12 },
    refused_per_week: { step_up: 8, suspend: 20 },
  },
};

const DEFAULT_PARAMETERS: GuardParameters = {
  baselineAlpha: 0.2,
  baselineMinDays: 5,
  baselineFloor: 25,
  peerFactor: 2,
  sequentialGap: 20,
  throttleMinutes: 15,
  probationFactor: 0.25,
  newSourceFactor: 0.5,
  newSourceDays: 30,
  baselineGrowth: 0.15,
  spreadFactor: 4,
  orgSpreadFactor: 3,
  orgMargin: 1,
  aheadMargin: 1,
  driverShare: 0.5,
  driverMin: 5,
};

/** Why each parameter has its default. */
export const PARAMETER_DOCS: Record<keyof GuardParameters, string> = {
  baselineAlpha: 'a week of new habits moves the baseline most of the way; one odd day does not',
  baselineMinDays: 'a week of work before the account is compared with itself',
  baselineFloor: 'a new account with no peers is expected to read up to about 25 persons a day',
  peerFactor: 'twice what colleagues in the same job read is unusual but happens; beyond is asked about',
  sequentialGap: 'agency ids handed out in order sit close together; honest searches land far apart',
  throttleMinutes:
    'the longest throttle (daily quotas, sweeps; an hourly quota ends with its hour or after this, whichever comes first; a per-minute one with its minute): long enough to break a script, short enough for an honest agent to carry on',
  probationFactor:
    'a recovered or new account gets a quarter of the usual quotas for its first 7 days (T1, T8)',
  newSourceFactor: 'a session from an unknown address or device gets half the usual quotas',
  newSourceDays: 'an address not used for a month is new again',
  baselineGrowth:
    'RAMP: an honest usual day moves a few percent a week; a usual day raised faster than 15 % a week is held back until a security officer reviews it',
  spreadFactor:
    'an honest week is a sum of independent days: four of its spreads are passed about once in 30,000 weeks, while reading a usual day again each day is ten or more',
  orgSpreadFactor:
    'an organisation’s day varies with campaigns and absences: three robust spreads of its own history are allowed before counting',
  orgMargin:
    'a campaign day (a mass convocation) adds up to half of an organisation’s usual day, and its own day varies besides: up to twice its usual is left to the accounts’ own signals',
  aheadMargin:
    'an honest busy day (a heavy personal day in a campaign) reads up to about twice its usual pace, all day long',
  driverShare:
    'a colluding account reads its usual day again on top of its owner’s; an honest colleague is rarely half a day ahead',
  driverMin: 'a handful of persons ahead is noise for a small usual day',
};

/**
 * The demo layer: applied last, and only to the accounts `rempart serve --demo` created (marked
 * `accounts.demo` in the database by the operator's CLI; no API sets it). Someone trying Rempart
 * searches fast, in the evening, and types ids at random: at the real levels the fifth search of a
 * minute or the sixteenth person after hours would stop them. Volume, refusal and off-hours levels
 * are relaxed; what shows the guard at work is kept: sweeps (ENUM-ID, ENUM-NAME), canaries, a
 * session used from another address, and pushing on while refused.
 */
const DEMO_LEVELS = {
  views_per_minute: { throttle: 60 },
  views_per_hour: { throttle: 600 },
  views_per_day: { throttle: 2000 },
  searches_per_minute: { throttle: 60 },
  searches_per_hour: { throttle: 600 },
  searches_per_day: { throttle: 2000 },
  persons_per_minute: { throttle: 60 },
  persons_per_hour: { throttle: 400 },
  persons_per_day: { suspend: 1500 },
  beyond_baseline: { step_up: 500, suspend: 1000 },
  beyond_peers: { step_up: 500 },
  refused_per_day: { step_up: 20, suspend: 60 },
  refused_per_week: { step_up: 40, suspend: 120 },
  empty_searches_per_hour: { throttle: 30 },
  empty_searches_per_day: { step_up: 60, suspend: 200 },
  empty_searches_per_week: { step_up: 120, suspend: 300 },
  off_hours_persons: { step_up: 200, suspend: 600 },
  national_persons: { step_up: 30, suspend: 100 },
  beyond_baseline_week: { step_up: 2000, suspend: 4000 },
  beyond_baseline_month: { step_up: 4000, suspend: 8000 },
  national_persons_week: { step_up: 100, suspend: 300 },
  national_persons_month: { step_up: 300, suspend: 900 },
  off_hours_persons_week: { step_up: 600, suspend: 1800 },
  response_days_week: { suspend: 7 },
  ahead_of_usual: { step_up: 500, suspend: 1000 },
  org_beyond_usual: { step_up: 2000, suspend: 4000 },
  org_beyond_usual_week: { step_up: 4000, suspend: 8000 },
  org_beyond_kind: { step_up: 2000, suspend: 4000 },
  org_empty_searches_week: { step_up: 300, suspend: 900 },
  org_refused_week: { step_up: 300, suspend: 900 },
  org_caseload_week: { step_up: 4000, suspend: 8000 },
} satisfies Partial<Record<SignalName, Levels>>;

const FAST = 'someone trying the demo clicks through results and searches much faster than an agent at work';
const FIRST_DAY = 'a demo account has no usual day yet and reads many persons on its first';
const TRIAL = 'trying what a role may not do, and typing ids at random, is part of the tour';

/** Why the demo layer relaxes each level it relaxes (docs/GUARD.md, `rempart guard config --demo --markdown`). */
export const DEMO_REASONS: Record<keyof typeof DEMO_LEVELS, string> = {
  views_per_minute: FAST,
  views_per_hour: FAST,
  views_per_day: FAST,
  searches_per_minute: FAST,
  searches_per_hour: FAST,
  searches_per_day: FAST,
  persons_per_minute: FAST,
  persons_per_hour: FAST,
  persons_per_day: FIRST_DAY,
  beyond_baseline: FIRST_DAY,
  beyond_peers: FIRST_DAY,
  refused_per_day: TRIAL,
  refused_per_week: TRIAL,
  empty_searches_per_hour: TRIAL,
  empty_searches_per_day: TRIAL,
  empty_searches_per_week: TRIAL,
  off_hours_persons: 'the demo is often tried in the evening or at the weekend',
  national_persons:
    'security officers and the DPO reach persons through national reads only: it is their whole tour',
  beyond_baseline_week: FIRST_DAY,
  beyond_baseline_month: FIRST_DAY,
  national_persons_week:
    'security officers and the DPO reach persons through national reads only: it is their whole tour',
  national_persons_month:
    'security officers and the DPO reach persons through national reads only: it is their whole tour',
  off_hours_persons_week: 'the demo is often tried in the evening or at the weekend',
  ahead_of_usual: FIRST_DAY,
  response_days_week: 'a demo is tried again day after day, and meets the throttles it is meant to show',
  org_beyond_usual: 'every demo account is in one organisation with no usual day, each trying the same tour',
  org_beyond_usual_week: 'as org_beyond_usual',
  org_beyond_kind: 'as org_beyond_usual',
  org_empty_searches_week: TRIAL,
  org_refused_week: TRIAL,
  org_caseload_week: 'as org_beyond_usual',
};

/** The guard's configuration: defaults, per-role and per-organisation overrides, and the demo layer. */
export interface GuardConfig {
  defaults: GuardOverrides;
  roles: Partial<Record<Role, GuardOverrides>>;
  organisations: Record<string, GuardOverrides>;
  /** Applied last, to demo accounts only (`accounts.demo`). */
  demo: GuardOverrides;
}

/** The built-in configuration: the defaults above, the per-role entries and the demo layer. */
export const BUILT_IN: GuardConfig = {
  defaults: {},
  roles: Object.fromEntries(Object.entries(ROLE_LEVELS).map(([role, levels]) => [role, { levels }])),
  organisations: {},
  demo: { levels: DEMO_LEVELS },
};

/** The built-in default levels and parameters (for `rempart guard config` and docs). */
export const DEFAULTS: GuardThresholds = { levels: DEFAULT_LEVELS, parameters: DEFAULT_PARAMETERS };

/**
 * The effective thresholds for one account's role and organisation (code): the defaults, then the
 * operator's defaults, then the role's entry (built in, with the operator's role entry on top), then
 * the organisation's, then for a demo account the demo layer. Each layer replaces the levels of the
 * signals it names.
 */
export function thresholdsFor(
  config: GuardConfig,
  role: string,
  organisationCode: string,
  demo = false,
): GuardThresholds {
  // Every request asks: the answer for a configuration, role and organisation never changes.
  let cached = resolved.get(config);
  if (!cached) {
    cached = new Map();
    resolved.set(config, cached);
  }
  const key = `${role}\u0000${organisationCode}\u0000${demo}`;
  let thresholds = cached.get(key);
  if (!thresholds) {
    const fresh = resolve(config, role, organisationCode, demo);
    for (const levels of Object.values(fresh.levels)) Object.freeze(levels);
    thresholds = Object.freeze({
      levels: Object.freeze(fresh.levels),
      parameters: Object.freeze(fresh.parameters),
    });
    cached.set(key, thresholds);
  }
  return thresholds;
}

const resolved = new WeakMap<GuardConfig, Map<string, GuardThresholds>>();

function resolve(
  config: GuardConfig,
  role: string,
  organisationCode: string,
  demo: boolean,
): GuardThresholds {
  const levels = { ...DEFAULT_LEVELS };
  let parameters = { ...DEFAULT_PARAMETERS };
  const layers = [config.defaults, config.roles[role as Role], config.organisations[organisationCode]];
  if (demo) layers.push(config.demo);
  for (const layer of layers) {
    if (!layer) continue;
    Object.assign(levels, layer.levels);
    parameters = { ...parameters, ...layer.parameters };
  }
  for (const name of SIGNALS) levels[name] = { ...levels[name] };
  return { levels, parameters };
}

/**
 * Reads an operator's configuration file; throws `bad_configuration` naming every unknown signal,
 * response or parameter and every value that is not a positive number.
 */
export function loadGuardConfig(file: string | undefined): GuardConfig {
  if (file === undefined) return BUILT_IN;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new AppError('bad_configuration', 'REMPART_GUARD_CONFIG is not a readable JSON file', {
      field: 'REMPART_GUARD_CONFIG',
    });
  }
  return parseGuardConfig(raw);
}

/** Validates a configuration object (the file's content). */
export function parseGuardConfig(raw: unknown): GuardConfig {
  const issues: FieldIssue[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) {
    throw new AppError('bad_configuration', 'guard configuration: must be a JSON object', {
      field: 'REMPART_GUARD_CONFIG',
    });
  }
  const overrides = (value: unknown, at: string): GuardOverrides => {
    if (!isObject(value)) {
      issues.push({ field: at, message: 'must be an object' });
      return {};
    }
    const out: GuardOverrides = {};
    for (const key of Object.keys(value)) {
      if (key !== 'levels' && key !== 'parameters')
        issues.push({ field: `${at}.${key}`, message: 'is not known' });
    }
    if (value.levels !== undefined) {
      if (!isObject(value.levels)) issues.push({ field: `${at}.levels`, message: 'must be an object' });
      else {
        const levels: Partial<Record<SignalName, Levels>> = {};
        for (const [name, given] of Object.entries(value.levels)) {
          const where = `${at}.levels.${name}`;
          if (!(SIGNALS as readonly string[]).includes(name)) {
            issues.push({ field: where, message: 'is not a signal' });
            continue;
          }
          if (!isObject(given)) {
            issues.push({ field: where, message: 'must be an object of responses' });
            continue;
          }
          const parsed: Levels = {};
          for (const [response, n] of Object.entries(given)) {
            if (!(RESPONSES as readonly string[]).includes(response)) {
              issues.push({
                field: `${where}.${response}`,
                message: `is not one of ${RESPONSES.join(', ')}`,
              });
            } else if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
              issues.push({ field: `${where}.${response}`, message: 'must be a positive number' });
            } else parsed[response as GuardResponse] = n;
          }
          levels[name as SignalName] = parsed;
        }
        out.levels = levels;
      }
    }
    if (value.parameters !== undefined) {
      if (!isObject(value.parameters))
        issues.push({ field: `${at}.parameters`, message: 'must be an object' });
      else {
        const parameters: Partial<GuardParameters> = {};
        for (const [name, n] of Object.entries(value.parameters)) {
          const where = `${at}.parameters.${name}`;
          if (!(name in DEFAULT_PARAMETERS)) issues.push({ field: where, message: 'is not a parameter' });
          else if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
            issues.push({ field: where, message: 'must be a positive number' });
          else if (name === 'baselineAlpha' && n > 1)
            issues.push({ field: where, message: 'must be at most 1' });
          else parameters[name as keyof GuardParameters] = n;
        }
        out.parameters = parameters;
      }
    }
    return out;
  };
  for (const key of Object.keys(raw)) {
    if (!['defaults', 'roles', 'organisations', 'demo'].includes(key))
      issues.push({ field: key, message: 'is not known' });
  }
  const config: GuardConfig = {
    defaults: raw.defaults === undefined ? {} : overrides(raw.defaults, 'defaults'),
    roles: { ...BUILT_IN.roles },
    organisations: {},
    demo: BUILT_IN.demo,
  };
  if (raw.demo !== undefined) {
    const parsed = overrides(raw.demo, 'demo');
    config.demo = {
      levels: { ...BUILT_IN.demo.levels, ...parsed.levels },
      ...(parsed.parameters ? { parameters: parsed.parameters } : {}),
    };
  }
  if (raw.roles !== undefined) {
    if (!isObject(raw.roles)) issues.push({ field: 'roles', message: 'must be an object' });
    else
      for (const [role, value] of Object.entries(raw.roles)) {
        if (!(ROLES as readonly string[]).includes(role)) {
          issues.push({ field: `roles.${role}`, message: `is not a role (${ROLES.join(', ')})` });
          continue;
        }
        const parsed = overrides(value, `roles.${role}`);
        const builtIn = BUILT_IN.roles[role as Role];
        config.roles[role as Role] = {
          levels: { ...builtIn?.levels, ...parsed.levels },
          parameters: { ...builtIn?.parameters, ...parsed.parameters },
        };
      }
  }
  if (raw.organisations !== undefined) {
    if (!isObject(raw.organisations)) issues.push({ field: 'organisations', message: 'must be an object' });
    else
      for (const [code, value] of Object.entries(raw.organisations)) {
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(code)) {
          issues.push({ field: `organisations.${code}`, message: 'is not an organisation code' });
          continue;
        }
        config.organisations[code] = overrides(value, `organisations.${code}`);
      }
  }
  if (issues.length > 0) {
    const reasons = issues.map((i) => `${i.field} ${i.message}`).join('; ');
    throw new AppError('bad_configuration', `guard configuration: ${reasons}`, {
      field: 'REMPART_GUARD_CONFIG',
      issues,
    });
  }
  return config;
}
