/**
 * `rempart bench guard-replay`: the guard's own decision code (src/guard: state.ts, signals.ts,
 * organisation.ts) replayed over simulated weeks, without a server: honest owners working by the
 * drill's traffic model (drill/honest-day.ts, with the organisation's day factor and campaign days),
 * and the patient attackers of issue 13 alongside their owners — RAMP (one account raising its
 * extra reads by one more person each working day), COLLUDE (2 or 5 accounts of one partner
 * organisation, each reading its owner's usual day again on top of the owner's), MIMIC (8 justified
 * national reads every working day). Thousands of account-days in seconds: what the levels cost
 * honest work and what they leave an attacker, before the drill measures it through HTTP.
 */

import { type HonestAction, organisationFactor, planDay } from '../drill/honest-day.ts';
import type { HonestAccountPlan } from '../drill/honest-plan.ts';
import { Random } from '../drill/random.ts';
import {
  type Coverage,
  type KindUsual,
  noHours,
  type OrgDay,
  type OrgToday,
  orgUsual,
} from '../src/guard/organisation.ts';
import { applyVerdict, evaluate, type Verdict } from '../src/guard/signals.ts';
import {
  addEvent,
  freshState,
  type GuardState,
  notePersons,
  type RollParameters,
  rollOver,
  settleStepUp,
} from '../src/guard/state.ts';
import { BUILT_IN, type GuardThresholds, thresholdsFor } from '../src/guard/thresholds.ts';

type Role = 'counselor' | 'partner_counselor';

interface SimAccount {
  plan: HonestAccountPlan;
  org: string;
  state: GuardState;
  t: GuardThresholds;
  suspended: boolean;
  /** A step-up asked and not given yet (the owner gives it at their next action). */
  pendingStepUp: boolean;
  responses: { day: string; response: Verdict['response']; signals: string[] }[];
}

interface Step {
  minute: number;
  account: SimAccount;
  who: 'owner' | 'attacker';
  kind: 'view' | 'lookup' | 'typo' | 'national' | 'login';
  person?: string;
}

const hex = (random: Random): string =>
  Array.from({ length: 8 }, () => random.int(0, 15).toString(16)).join('') + '-0000-4000-8000-000000000000';

/** Working days from a Monday, as YYYY-MM-DD (weekends skipped). */
function workingDays(count: number, from = '2026-03-02'): { day: string; weekday: number }[] {
  const out: { day: string; weekday: number }[] = [];
  const start = Date.parse(`${from}T00:00:00Z`);
  for (let i = 0; out.length < count; i += 1) {
    const d = new Date(start + i * 86_400_000);
    const weekday = d.getUTCDay();
    if (weekday !== 0 && weekday !== 6) out.push({ day: d.toISOString().slice(0, 10), weekday });
  }
  return out;
}

/** The attack to run alongside the honest owners. */
export type Attack =
  | { kind: 'none' }
  | { kind: 'ramp'; step: number; spread?: boolean }
  | { kind: 'collude'; accounts: number; spread?: boolean }
  | { kind: 'mimic'; perDay: number };

export interface ReplayOptions {
  seed: number;
  /** Honest accounts (80 % counselors in agencies, 20 % partners). */
  accounts: number;
  /** Working days: warm-up included. */
  days: number;
  /** Working days before the attack starts. */
  warmupDays: number;
  attack: Attack;
}

export interface ReplayResult {
  accountDays: number;
  /** Honest accounts (not victims): step-ups asked, suspensions. */
  honestStepUps: number;
  honestSuspensions: number;
  honestThrottles: number;
  /** Signals behind the honest responses, counted. */
  honestSignals: Record<string, number>;
  /** The attack's figures (absent without one). */
  attack?: {
    persons: number;
    beyond: number;
    daysToFirstResponse: number | null;
    suspendedAfter: number | null;
    suspended: boolean;
    signals: string[];
  };
}

const ROLL = (t: GuardThresholds): RollParameters => t.parameters;

/** Runs one replay. */
export function replay(options: ReplayOptions): ReplayResult {
  const random = new Random(options.seed);
  const accounts: SimAccount[] = [];
  const counselors = Math.round(options.accounts * 0.8);
  const agencies = Math.max(1, Math.round(counselors / 80));
  const partnerOrgs = Math.max(1, Math.round((options.accounts - counselors) / 7));
  const make = (role: Role, org: string, index: number): SimAccount => {
    const draw = random.fork(`account ${index}`);
    const [lo, hi] = role === 'counselor' ? [10, 25] : [6, 15];
    const [wlo, whi] = role === 'counselor' ? [60, 150] : [30, 100];
    const worklist = Array.from({ length: draw.int(wlo, whi) }, () => ({
      id: hex(draw),
      agencyId: '0000001A',
    }));
    const plan: HonestAccountPlan = {
      index,
      login: `a${index}`,
      role,
      organisation: org,
      workstation: { address: '10.0.0.1', userAgent: 'x' } as HonestAccountPlan['workstation'],
      worklist,
      elsewhere:
        role === 'counselor'
          ? Array.from({ length: 6 }, () => ({ lastName: 'X', firstNames: 'Y', birthDate: '1990-01-01' }))
          : [],
      dailyMean: Math.round(draw.uniform(lo, hi) * 10) / 10,
    };
    const t = thresholdsFor(BUILT_IN, role, org, false);
    return {
      plan,
      org,
      state: freshState(new Date(0), '2026-03-01'),
      t,
      suspended: false,
      pendingStepUp: false,
      responses: [],
    };
  };
  for (let i = 0; i < options.accounts; i += 1) {
    const role: Role = i < counselors ? 'counselor' : 'partner_counselor';
    const org = role === 'counselor' ? `FT-${i % agencies}` : `ML-${i % partnerOrgs}`;
    accounts.push(make(role, org, i));
  }
  // The attack's victims: partner accounts of the first partner organisation, or a counselor.
  const attack = options.attack;
  const victims: SimAccount[] =
    attack.kind === 'collude'
      ? accounts.filter((a) => a.org === 'ML-0').slice(0, attack.accounts)
      : attack.kind === 'ramp'
        ? accounts.filter((a) => a.org === 'ML-0').slice(0, 1)
        : attack.kind === 'mimic'
          ? accounts.filter((a) => a.plan.role === 'counselor').slice(0, 1)
          : [];
  const victimSet = new Set(victims);
  type OrgRecord = {
    days: (OrgDay & { accounts: number })[];
    today: OrgToday & { day: string; byHour: number[] };
  };
  const orgOf = new Map<string, OrgRecord>();
  const orgRecord = (org: string): OrgRecord => {
    let r = orgOf.get(org);
    if (!r) {
      r = { days: [], today: { day: '', persons: 0, byHour: noHours(), empty: 0, refused: 0, accounts: 0 } };
      orgOf.set(org, r);
    }
    return r;
  };
  // Organisations of its kind (the same prefix), as rempart_guard_kind_usual reads them.
  const kindOf = (org: string, day: string): KindUsual | null => {
    const from = Date.parse(`${day}T00:00:00Z`) - 28 * 86_400_000;
    const rates: number[] = [];
    for (const [other, record] of orgOf) {
      if (other === org || other.slice(0, 2) !== org.slice(0, 2)) continue;
      for (const d of record.days) {
        if (d.accounts > 0 && !d.alerted && d.day < day && Date.parse(`${d.day}T00:00:00Z`) >= from) {
          rates.push(d.persons / d.accounts);
        }
      }
    }
    return rates.length === 0 ? null : { perAccount: median(rates), samples: rates.length };
  };

  // The persons read, by organisation and by account and day number: the weeks rempart_guard_coverage
  // counts from the audit log's person links; the caseload: the union of its accounts' worklists.
  const dayNumber = (day: string): number => Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);
  const orgReads = new Map<string, Map<number, Set<string>>>();
  const ownReads = new Map<SimAccount, Map<number, Set<string>>>();
  const caseloadOf = new Map<string, number>();
  const worklists = new Map<string, Set<string>>();
  for (const a of accounts) {
    const set = worklists.get(a.org) ?? new Set<string>();
    for (const item of a.plan.worklist) set.add(item.id);
    worklists.set(a.org, set);
  }
  for (const [org, set] of worklists) caseloadOf.set(org, set.size);
  const noteRead = <K>(map: Map<K, Map<number, Set<string>>>, key: K, day: number, person: string): void => {
    let days = map.get(key);
    if (!days) {
      days = new Map();
      map.set(key, days);
    }
    let set = days.get(day);
    if (!set) {
      set = new Set();
      days.set(day, set);
    }
    set.add(person);
  };
  const weeksOf = (days: Map<number, Set<string>> | undefined, today: number): number[] =>
    [0, 1, 2, 3].map((w) => {
      const persons = new Set<string>();
      const [from, to] = w === 0 ? [today - 6, today - 1] : [today - 6 - 7 * w, today - 7 * w];
      for (let d = from; d <= to; d += 1) for (const p of days?.get(d) ?? []) persons.add(p);
      return persons.size;
    });
  // Once per organisation and day, as guard_organisation_coverage keeps it.
  const orgWeeks = new Map<string, number[]>();
  const coverOf = (account: SimAccount, day: string): Coverage => {
    const n = dayNumber(day);
    const caseload = caseloadOf.get(account.org) ?? 0;
    const key = `${account.org} ${day}`;
    let weeks = orgWeeks.get(key);
    if (!weeks) {
      weeks = weeksOf(orgReads.get(account.org), n);
      orgWeeks.set(key, weeks);
    }
    return {
      weeks,
      caseloads: [caseload, caseload, caseload, caseload],
      own: weeksOf(ownReads.get(account), n),
    };
  };

  const calendar = workingDays(options.days);
  const attackFigures = {
    persons: 0,
    beyond: 0,
    firstDay: null as number | null,
    suspendedAfter: null as number | null,
    signals: new Set<string>(),
  };
  const orgUsualDay = new Map<string, number[]>();
  const firstWeek: number[] = [];
  let accountDays = 0;
  for (const [dayIndex, { day }] of calendar.entries()) {
    const attackDay = dayIndex - options.warmupDays + 1; // 1 = first attack day
    const steps: Step[] = [];
    const orgFactors = new Map<string, number>();
    for (const account of accounts) {
      if (account.suspended) continue;
      let f = orgFactors.get(account.org);
      if (f === undefined) {
        f = organisationFactor(random.fork(`${account.org} ${day}`));
        orgFactors.set(account.org, f);
      }
      const actions: HonestAction[] = planDay(account.plan, random.fork(`${account.plan.index} ${day}`), f);
      if (actions.length > 0) accountDays += 1;
      for (const a of actions) {
        if (a.kind === 'logout') continue;
        steps.push({
          minute: a.minute,
          account,
          who: 'owner',
          kind: a.kind,
          ...(a.kind === 'view' || a.kind === 'lookup' || a.kind === 'typo' ? { person: a.item.id } : {}),
          ...(a.kind === 'national' ? { person: hex(random) } : {}),
        });
      }
      if (victimSet.has(account) && attackDay >= 1 && actions.length > 0) {
        const login = actions[0]!.minute;
        const extra =
          attack.kind === 'ramp'
            ? attack.step * attackDay
            : attack.kind === 'collude'
              ? Math.round(account.plan.dailyMean)
              : attack.kind === 'mimic'
                ? attack.perDay
                : 0;
        const draw = random.fork(`attack ${account.plan.index} ${day}`);
        let minute = login + 2;
        const spread = (attack.kind === 'ramp' || attack.kind === 'collude') && attack.spread === true;
        for (let i = 0; i < extra; i += 1) {
          // A spread attacker follows the owner's day (one read between two of the owner's actions).
          minute = spread
            ? (actions[1 + Math.floor((i * (actions.length - 1)) / Math.max(1, extra))]?.minute ?? minute + 5)
            : minute + (attack.kind === 'mimic' ? draw.int(10, 25) : draw.int(1, 2));
          steps.push({
            minute,
            account,
            who: 'attacker',
            kind: attack.kind === 'mimic' ? 'national' : 'view',
            person: hex(draw),
          });
        }
      }
    }
    steps.sort((a, b) => a.minute - b.minute);
    const stoppedToday = new Set<SimAccount>();
    const personsToday = new Map<SimAccount, number>();
    for (const step of steps) {
      const account = step.account;
      if (account.suspended) continue;
      if (step.who === 'attacker' && stoppedToday.has(account)) continue;
      const at = new Date(Date.parse(`${day}T00:00:00Z`) + step.minute * 60_000);
      const t = account.t;
      const org = orgRecord(account.org);
      if (org.today.day !== day) {
        if (org.today.day !== '')
          org.days.push({
            day: org.today.day,
            persons: org.today.persons,
            byHour: org.today.byHour,
            empty: org.today.empty,
            refused: org.today.refused,
            alerted: (org.today as { alerted?: boolean }).alerted === true,
            accounts: org.today.accounts,
          });
        org.today = { day, persons: 0, byHour: noHours(), empty: 0, refused: 0, accounts: 0 };
      }
      const state = account.state;
      if (rollOver(state, at, day, ROLL(t))) {
        state.peer = null;
        state.org = orgUsual(org.days, day);
        state.kind = kindOf(account.org, day);
        state.cover = coverOf(account, day);
      }
      // The owner proves a pending step-up at their next action (a fresh second factor).
      if (step.who === 'owner' && account.pendingStepUp) {
        settleStepUp(state, new Date(at.getTime() + 1000));
        account.pendingStepUp = false;
      }
      if (step.who === 'attacker' && account.pendingStepUp) {
        stoppedToday.add(account);
        continue;
      }
      const firstOfDay = state.d.persons === 0;
      const person = step.person ?? hex(random);
      const fresh = step.kind === 'typo' || step.kind === 'login' ? 0 : notePersons(state, [person]);
      const empty = step.kind === 'typo';
      if (step.kind !== 'typo' && step.kind !== 'login') {
        noteRead(orgReads, account.org, dayNumber(day), person);
        noteRead(ownReads, account, dayNumber(day), person);
      }
      addEvent(
        state,
        {
          at,
          day,
          offHours: step.minute < 8 * 60 || step.minute >= 19 * 60,
          views: step.kind === 'typo' || step.kind === 'login' ? 0 : 1,
          searches: step.kind === 'lookup' || step.kind === 'typo' || step.kind === 'national' ? 1 : 0,
          newPersons: fresh,
          national: step.kind === 'national',
          refused: false,
          blocked: false,
          empty,
          canaries: 0,
        },
        t.parameters.sequentialGap,
      );
      const hour = Math.floor(step.minute / 60);
      org.today.persons += fresh;
      if (firstOfDay && fresh > 0) org.today.accounts += 1;
      org.today.byHour[hour]! += fresh;
      org.today.empty += empty ? 1 : 0;
      if (step.who === 'attacker') personsToday.set(account, (personsToday.get(account) ?? 0) + fresh);
      const verdict = evaluate(
        state,
        {
          at,
          probation: false,
          newSource: false,
          addressChanged: false,
          concurrentAddresses: 0,
          canaries: 0,
          orgToday: org.today,
          minutes: step.minute,
        },
        t,
      );
      applyVerdict(state, verdict, at);
      if (verdict.response === 'allow') continue;
      if (verdict.signals.some((s) => s.name.startsWith('org_')))
        (org.today as { alerted?: boolean }).alerted = true;
      const victim = victimSet.has(account);
      if (!victim) {
        account.responses.push({
          day,
          response: verdict.response,
          signals: verdict.signals.map((s) => s.name),
        });
      } else if (attackDay >= 1) {
        attackFigures.firstDay ??= attackDay;
        for (const s of verdict.signals) attackFigures.signals.add(`${s.name}:${s.response}`);
      }
      if (verdict.response === 'suspend') {
        account.suspended = true;
        if (victim && attackDay < 1) attackFigures.signals.add('suspended in warm-up');
      }
      if (verdict.response === 'step_up') {
        account.pendingStepUp = true;
        if (step.who === 'attacker') stoppedToday.add(account);
      }
      if (verdict.response === 'throttle' && step.who === 'attacker') stoppedToday.add(account);
    }
    // The day's figures for the attack.
    if (attackDay < 1) {
      if (victims.length > 0) {
        const orgDay = orgRecord(victims[0]!.org).today.persons;
        orgUsualDay.set('org', [...(orgUsualDay.get('org') ?? []), orgDay]);
        if (attack.kind === 'ramp') firstWeek.push(victims[0]!.state.d.persons);
      }
    } else if (victims.length > 0 && attackFigures.suspendedAfter === null) {
      const got = [...personsToday.values()].reduce((a, b) => a + b, 0);
      attackFigures.persons += got;
      if (attack.kind === 'collude') {
        const usual = median(orgUsualDay.get('org') ?? []);
        attackFigures.beyond += Math.max(0, orgRecord(victims[0]!.org).today.persons - usual);
      } else if (attack.kind === 'ramp') {
        attackFigures.beyond += Math.max(0, victims[0]!.state.d.persons - median(firstWeek));
      } else attackFigures.beyond += got;
      if (victims.every((v) => v.suspended)) attackFigures.suspendedAfter = attackFigures.beyond;
    }
  }
  const honest = accounts.filter((a) => !victimSet.has(a));
  const honestSignals: Record<string, number> = {};
  for (const a of honest)
    for (const r of a.responses)
      for (const s of r.signals)
        honestSignals[`${s}:${r.response}`] = (honestSignals[`${s}:${r.response}`] ?? 0) + 1;
  const count = (response: string): number =>
    honest.reduce((n, a) => n + a.responses.filter((r) => r.response === response).length, 0);
  return {
    accountDays,
    honestStepUps: count('step_up'),
    honestSuspensions: honest.filter((a) => a.suspended).length,
    honestThrottles: count('throttle'),
    honestSignals,
    ...(attack.kind === 'none'
      ? {}
      : {
          attack: {
            persons: attackFigures.persons,
            beyond: Math.round(attackFigures.beyond),
            daysToFirstResponse: attackFigures.firstDay,
            suspendedAfter:
              attackFigures.suspendedAfter === null ? null : Math.round(attackFigures.suspendedAfter),
            suspended: attackFigures.suspendedAfter !== null,
            signals: [...attackFigures.signals],
          },
        }),
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** What `rempart bench guard-replay` prints: the honest month, then each attack beside honest owners. */
export interface ReplaySummary {
  accounts: number;
  days: number;
  seed: number;
  accountDays: number;
  honestSuspensions: number;
  honestStepUps: number;
  stepUpsPerThousandAccountDays: number;
  honestSignals: Record<string, number>;
  attacks: { name: string; goal: number; result: NonNullable<ReplayResult['attack']> }[];
}

/** The attacks replayed, with their goal (persons beyond the baseline before suspension), the spread variants with none. */
export const REPLAYED: { name: string; attack: Attack; goal: number | null }[] = [
  { name: 'COLLUDE-2', attack: { kind: 'collude', accounts: 2 }, goal: 50 },
  { name: 'COLLUDE-5', attack: { kind: 'collude', accounts: 5 }, goal: 50 },
  { name: 'RAMP', attack: { kind: 'ramp', step: 1 }, goal: 100 },
  { name: 'MIMIC', attack: { kind: 'mimic', perDay: 8 }, goal: 40 },
  {
    name: 'COLLUDE-2, spread over the day',
    attack: { kind: 'collude', accounts: 2, spread: true },
    goal: null,
  },
  {
    name: 'COLLUDE-5, spread over the day',
    attack: { kind: 'collude', accounts: 5, spread: true },
    goal: null,
  },
  { name: 'RAMP, spread over the day', attack: { kind: 'ramp', step: 1, spread: true }, goal: null },
];

/** The benchmark: an honest month, then each attack beside honest owners, with progress lines on stderr. */
export function benchGuardReplay(options: { accounts: number; days: number; seed: number }): ReplaySummary {
  const base = { seed: options.seed, accounts: options.accounts, days: options.days, warmupDays: 5 };
  const honest = replay({ ...base, attack: { kind: 'none' } });
  process.stderr.write(`honest: ${honest.accountDays} account-days replayed\n`);
  const attacks = REPLAYED.map(({ name, attack, goal }) => {
    const result = replay({ ...base, attack }).attack!;
    process.stderr.write(`${name}: ${JSON.stringify(result)}\n`);
    return { name, goal: goal ?? 0, result };
  });
  return {
    ...options,
    accountDays: honest.accountDays,
    honestSuspensions: honest.honestSuspensions,
    honestStepUps: honest.honestStepUps,
    stepUpsPerThousandAccountDays: Math.round((100_000 * honest.honestStepUps) / honest.accountDays) / 100,
    honestSignals: honest.honestSignals,
    attacks,
  };
}
