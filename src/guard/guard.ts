/**
 * The guard (docs/DESIGN.md section 6), as the gate calls it: before a read (guardBefore: the responses
 * already pending on the account, from the session read, no database access) and after it, in the
 * gate's transaction (guardObserve: the persons the read would return are counted, the state folded
 * under a row lock, the signals evaluated, the response recorded and, for a suspension, carried out
 * at once). Provisioning acts (T8) are observed the same way (identity/provisioning.ts).
 *
 * Responses, mildest first: throttle (429 with Retry-After), step-up (a fresh second factor on this
 * session), suspend (account suspended, every session revoked, security officers and the
 * organisation's managers alerted). Each raises an alert for the review queue (guard_alerts).
 */
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { recordEvent } from '../identity/events.ts';
import { revokeAllSessions } from '../identity/sessions.ts';
import { isOffHours, localParts } from './calendar.ts';
import { ORG_SPAN_DAYS, type OrgDay, type OrgToday, orgUsual } from './organisation.ts';
import { applyVerdict, evaluate, limitOf, type Signal, type Situation, type Verdict } from './signals.ts';
import { networkOf } from './sources.ts';
import {
  addEvent,
  freshState,
  type GuardEvent,
  type GuardState,
  loadState,
  notePersons,
  rollOver,
  settleStepUp,
  stored,
} from './state.ts';
import { type GuardConfig, thresholdsFor } from './thresholds.ts';
import type { GuardView } from './view.ts';

/** Who is acting, as the guard needs it. */
export interface GuardActor {
  accountId: string;
  organisationId: string;
  role: string;
  /** The account is on probation (new or recovered, docs/DESIGN.md section 5). */
  probation: boolean;
  /** A demo account (`accounts.demo`): the demo layer of the thresholds applies. */
  demo?: boolean;
  /** When this session last verified a second factor. */
  mfaAt: Date | null;
  /** The address of this request. */
  requestAddress: string | null;
  /** The request's id and the session's reference, as in the audit event (links an alert to it). */
  requestId?: string;
  sessionRef?: string;
  view: GuardView;
}

/** What a request did or would do, as the guard counts it. */
export interface ObservedRequest {
  action: string;
  views: number;
  searches: number;
  /** The persons the request would return (or change). */
  personIds: readonly string[];
  national: boolean;
  refused: boolean;
  blocked: boolean;
  empty: boolean;
  sweep?: { kind: 'agencyId' | 'name'; key: number };
  provisionedAccounts?: number;
  caseloadPersons?: number;
}

/** An alert the guard raised, to be announced once the transaction has committed. */
export interface RaisedAlert {
  id: string;
  accountId: string;
  organisationId: string;
  response: Signal['response'];
  signals: Signal[];
}

export interface GuardOutcome extends Verdict {
  /** Set when this request raised a new alert (a suspension always does). */
  raised: RaisedAlert | null;
}

/** The responses pending on the account before any read: a throttle in force, a step-up not yet given. */
export function guardBefore(actor: GuardActor, now: Date): Verdict {
  const { throttledUntil, stepUpSince, state } = actor.view;
  if (throttledUntil && throttledUntil.getTime() > now.getTime()) {
    return {
      response: 'throttle',
      signals: (state?.throttleSignals ?? []) as Signal[],
      retryAfter: Math.ceil((throttledUntil.getTime() - now.getTime()) / 1000),
      retryAt: throttledUntil.toISOString(),
    };
  }
  if (stepUpSince && !(actor.mfaAt && actor.mfaAt.getTime() > stepUpSince.getTime())) {
    const asked = Object.entries(state?.stepUp?.signals ?? state?.proofSignals ?? {}).map(
      ([name, value]): Signal => ({ name: name as Signal['name'], value, limit: value, response: 'step_up' }),
    );
    return { response: 'step_up', signals: asked };
  }
  return { response: 'allow', signals: [] };
}

/**
 * `guard_accounts.step_up_since`: a session whose second factor is not newer than this is asked for a
 * step-up — the one pending, or the latest given (its floor).
 */
function stepUpColumn(state: GuardState): string | null {
  return state.stepUp?.since ?? state.proofFloor ?? null;
}

/**
 * The error a response answers with (AppError codes of the API contract). A throttle or a step-up
 * says which kind of limit was reached and, for a throttle, when it ends; never the level (T2: a
 * script told the threshold would stay just under it).
 */
export function guardError(verdict: Verdict): AppError {
  const limit = limitOf(verdict);
  if (verdict.response === 'throttle') {
    const retryAfter = verdict.retryAfter ?? 60;
    const retryAt = verdict.retryAt;
    const when = retryAt ? `after ${retryAt.slice(0, 19).replace('T', ' ')} UTC` : `in ${retryAfter} s`;
    return new AppError('throttled', `too many requests (${limit}): try again ${when}`, {
      retryAfter,
      limit,
      ...(retryAt ? { retryAt } : {}),
    });
  }
  if (verdict.response === 'step_up') {
    return new AppError(
      'step_up_required',
      `confirm it is you (${limit}): verify your second factor again, then retry`,
      { limit },
    );
  }
  return new AppError(
    'account_suspended',
    'this account is suspended; your organisation manager and the security officers have been told',
  );
}

/** A request folded into the account's state, ready to be written with the request's audit event. */
export interface GuardPlan extends GuardOutcome {
  state: GuardState;
  /** The version read with the state (null: the account has no row yet). */
  version: number | null;
  personIds: string[];
  /** What the request adds to its organisation's day (null: nothing). */
  orgDelta: OrgDelta | null;
}

/** A request's part of its organisation's day (guard_organisation_days). */
interface OrgDelta {
  day: string;
  hour: number;
  persons: number;
  empty: number;
  refused: number;
  /** 1 when this is the account's first person of its day. */
  accounts: number;
}

/** The SQL call that adds a request's part to its organisation's day, parameters from `first`. */
const orgAddCall = (first: number): string =>
  `rempart_guard_org_add($${first}::uuid, $${first + 1}::date, $${first + 2}::int, $${first + 3}::int, $${first + 4}::int, $${first + 5}::int, $${first + 6}::int)`;
const orgAddValues = (organisationId: string, d: OrgDelta): (string | number)[] => [
  organisationId,
  d.day,
  d.hour,
  d.persons,
  d.empty,
  d.refused,
  d.accounts,
];

/**
 * The common case, no lock: folds the request into the state read with the session and evaluates.
 * The caller writes it with `guardCommit` in the same round trip as the audit event; if the state
 * moved meanwhile or a canary is among the persons, the caller redoes the request with
 * `guardObserve` (locked). A plan whose response is not allow is not for committing: the caller
 * takes the locked path at once (responses are rare; they deserve the exact count).
 */
export async function guardPlan(
  tx: Tx,
  config: GuardConfig,
  actor: GuardActor,
  request: ObservedRequest,
  now: Date,
): Promise<GuardPlan> {
  // The state read with the session is this request's own copy: folded in place.
  return fold(tx, config, actor, request, now, actor.view.state, actor.view.version, 0);
}

/** SQLSTATE of `rempart_guard_kept` (migration 0028): the state moved, or a canary was touched. */
const GUARD_MOVED = 'RG001';

/** True if `error` is guardCommit's refusal: the request is to be redone on the locked path. */
export function guardMoved(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === GUARD_MOVED;
}

/**
 * Writes a plan if the state has not moved since it was read and no canary is among its persons;
 * otherwise the statement fails (SQLSTATE RG001, `guardMoved`) and aborts the transaction, so that it
 * can go to the server in one write with the audit event and COMMIT (the gate's last write).
 */
export async function guardCommit(tx: Tx, actor: GuardActor, plan: GuardPlan, now: Date): Promise<void> {
  const canaryCheck =
    plan.personIds.length > 0 ? 'cardinality(rempart_guard_canaries($10::uuid[]))::int' : '0::int';
  const { json, seen } = stored(plan.state);
  const values = [
    actor.accountId,
    json,
    plan.state.baseline,
    plan.state.throttledUntil,
    stepUpColumn(plan.state),
    now,
    plan.version,
    seen,
    plan.state.ref ?? null,
    ...(plan.personIds.length > 0 ? [plan.personIds] : []),
  ];
  // The organisation's day moves with the account's row, in the same statement: nothing added if
  // the state moved meanwhile (the locked path then adds it).
  const first = values.length + 1;
  const org = plan.orgDelta ? `, (SELECT ${orgAddCall(first)}) AS org` : '';
  if (plan.orgDelta) values.push(...orgAddValues(actor.organisationId, plan.orgDelta));
  const kept =
    'SELECT rempart_guard_kept((SELECT count(*)::int FROM w), (SELECT max(canaries) FROM w)) AS kept';
  if (plan.version === null) {
    // The account's first request: its row, unless a concurrent request made it first.
    await tx.query(
      `WITH w AS (
         INSERT INTO guard_accounts (account_id, state, baseline, throttled_until, step_up_since, updated_at,
           seen, organisation_id, role, version)
         VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, 1)
         ON CONFLICT (account_id) DO NOTHING
         RETURNING cardinality(rempart_guard_canaries($10::uuid[]))::int AS canaries
           ${plan.orgDelta ? `, (SELECT ${orgAddCall(11)}) AS org` : ''})
       ${kept}`,
      [
        ...values.slice(0, 6),
        seen,
        actor.organisationId,
        actor.role,
        plan.personIds,
        ...(plan.orgDelta ? orgAddValues(actor.organisationId, plan.orgDelta) : []),
      ],
    );
    return;
  }
  await tx.query(
    `WITH w AS (
       UPDATE guard_accounts SET state = $2::jsonb, baseline = $3, throttled_until = $4, step_up_since = $5,
         updated_at = $6, seen = $8, ref = $9, version = version + 1
       WHERE account_id = $1 AND version = $7 RETURNING ${canaryCheck} AS canaries${org})
     ${kept}`,
    values,
  );
}

/**
 * The exact path, under a row lock: reads the state (creating it), finds the canaries among the
 * persons, folds, evaluates, writes, and carries out a response (alert; suspension at once). Used
 * for refusals, for any response, and when the plan could not be committed.
 */
export async function guardObserve(
  tx: Tx,
  config: GuardConfig,
  actor: GuardActor,
  request: ObservedRequest,
  now: Date,
): Promise<GuardOutcome> {
  const { day } = localParts(now, actor.view.timeZone);
  const [row] = await tx.query<{
    state: Omit<GuardState, 'seen'>;
    seen: Uint8Array;
    version: number;
    canaries: number;
  }>(
    `WITH g AS (
       INSERT INTO guard_accounts (account_id, organisation_id, role, state, updated_at, version)
       VALUES ($1, $2, $3, $4::jsonb, $5, 0)
       ON CONFLICT (account_id) DO UPDATE SET updated_at = guard_accounts.updated_at
       RETURNING state, seen, version)
     SELECT g.state, g.seen, g.version, cardinality(rempart_guard_canaries($6::uuid[]))::int AS canaries FROM g`,
    [
      actor.accountId,
      actor.organisationId,
      actor.role,
      stored(freshState(now, day)).json,
      now,
      [...new Set(request.personIds)],
    ],
  );
  const loaded = loadState(row!.state, row!.seen);
  const plan = await fold(tx, config, actor, request, now, loaded, row!.version, row!.canaries);
  const written = stored(plan.state);
  await tx.query(
    `UPDATE guard_accounts SET state = $2::jsonb, baseline = $3, throttled_until = $4, step_up_since = $5,
       updated_at = $6, seen = $7, ref = $8, version = version + 1 WHERE account_id = $1`,
    [
      actor.accountId,
      written.json,
      plan.state.baseline,
      plan.state.throttledUntil,
      stepUpColumn(plan.state),
      now,
      written.seen,
      plan.state.ref ?? null,
    ],
  );
  if (plan.orgDelta) {
    await tx.query(`SELECT ${orgAddCall(1)}`, orgAddValues(actor.organisationId, plan.orgDelta));
  }
  // A response to the organisation's rise: the day is left out of its usual from now on.
  if (plan.raised && plan.signals.some((s) => s.name.startsWith('org_')) && plan.orgDelta) {
    await tx.query('SELECT rempart_guard_org_alerted($1, $2::date)', [
      actor.organisationId,
      plan.orgDelta.day,
    ]);
  }
  if (plan.raised) {
    await tx.query(
      `INSERT INTO guard_alerts (id, account_id, organisation_id, raised_at, response, signals, context)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)`,
      [
        plan.raised.id,
        actor.accountId,
        actor.organisationId,
        now,
        plan.response,
        JSON.stringify(plan.signals),
        JSON.stringify({
          action: request.action,
          ...(actor.requestId ? { requestId: actor.requestId } : {}),
          ...(actor.sessionRef ? { sessionRef: actor.sessionRef } : {}),
          sourceAddress: actor.requestAddress,
          sessionAddress: actor.view.sessionAddress,
          sessionFlags: actor.view.sessionFlags,
        }),
      ],
    );
    if (plan.response === 'suspend') await suspendAccount(tx, actor, plan.raised, now);
  }
  return {
    response: plan.response,
    signals: plan.signals,
    raised: plan.raised,
    ...(plan.retryAfter === undefined ? {} : { retryAfter: plan.retryAfter }),
    ...(plan.retryAt === undefined ? {} : { retryAt: plan.retryAt }),
  };
}

/** Folds one request into a state (a fresh one if null) and evaluates it. */
async function fold(
  tx: Tx,
  config: GuardConfig,
  actor: GuardActor,
  request: ObservedRequest,
  now: Date,
  loaded: GuardState | null,
  version: number | null,
  canaries: number,
): Promise<GuardPlan> {
  const local = localParts(now, actor.view.timeZone);
  const { day } = local;
  const thresholds = thresholdsFor(config, actor.role, actor.view.organisationCode, actor.demo === true);
  const state = loaded ?? freshState(now, day);
  // Once a day per account (and on its first request: a new account is compared from its first
  // day): the peers' usual day, the organisation's past days and its kind's, one round trip.
  if (rollOver(state, now, day, thresholds.parameters) || state.org === undefined) {
    const [peers] = await tx.query<{
      baseline: number | null;
      peers: number;
      org: OrgDay[] | null;
      kind_per_account: number | null;
      kind_samples: number;
      weeks: number[] | null;
      caseloads: number[] | null;
      own: number[] | null;
    }>(
      `SELECT p.baseline, p.peers,
         (SELECT json_agg(json_build_object('day', h.day, 'persons', h.persons, 'byHour', h.by_hour,
                   'empty', h.empty, 'refused', h.refused, 'alerted', h.alerted))
          FROM rempart_guard_org_history($1, $5::date, $6) h) AS org,
         k.per_account AS kind_per_account, k.samples AS kind_samples, c.weeks, c.caseloads, c.own
       FROM rempart_guard_peer_baseline($1, $2, $3, $4) p, rempart_guard_kind_usual($1, $5::date, $7) k,
         rempart_guard_coverage($1, $3, $5::date, $8::timestamptz) c`,
      [
        actor.organisationId,
        actor.role,
        actor.accountId,
        thresholds.parameters.baselineGrowth,
        day,
        ORG_SPAN_DAYS,
        KIND_SPAN_DAYS,
        // The local midnight that started the day (to the minute; a change of hour that day moves
        // the weeks' edges by an hour).
        new Date(Math.floor(now.getTime() / 60_000) * 60_000 - local.minutes * 60_000).toISOString(),
      ],
    );
    state.peer = peers && peers.peers > 0 && peers.baseline !== null ? Number(peers.baseline) : null;
    state.org = orgUsual(peers?.org ?? [], day);
    state.kind =
      peers && peers.kind_per_account !== null
        ? { perAccount: Number(peers.kind_per_account), samples: peers.kind_samples }
        : null;
    state.cover =
      peers?.weeks && peers.caseloads && peers.own
        ? {
            weeks: peers.weeks.map(Number),
            caseloads: peers.caseloads.map(Number),
            own: peers.own.map(Number),
          }
        : null;
  }
  settleStepUp(state, actor.mfaAt);
  // What was pending once a step-up just given is settled: a new one asked now is a new alert.
  const pending = {
    throttled: state.throttledUntil !== null && Date.parse(state.throttledUntil) > now.getTime(),
    stepUp: state.stepUp !== null,
  };
  const personIds = [...new Set(request.personIds)];
  const offHours = isOffHours(now, actor.view.timeZone, actor.view.workingHours, local);
  // T3: an approved export's rows are scored by the export windows; in working hours they are not
  // the account's own reading (a second person vouched for them), outside them they are, like reads.
  const exporting = request.action === 'person.export';
  const event: GuardEvent = {
    at: now,
    day,
    offHours,
    views: request.views,
    searches: request.searches,
    newPersons: exporting && !offHours ? 0 : notePersons(state, personIds),
    national: request.national,
    refused: request.refused,
    blocked: request.blocked,
    empty: request.empty,
    ...(request.sweep ? { sweep: request.sweep } : {}),
    canaries,
    ...(request.provisionedAccounts ? { provisionedAccounts: request.provisionedAccounts } : {}),
    ...(request.caseloadPersons ? { caseloadPersons: request.caseloadPersons } : {}),
    ...(exporting && personIds.length > 0 ? { exported: personIds.length } : {}),
  };
  // The account's first person of its day counts it among the organisation's active accounts.
  const firstOfDay = state.d.persons === 0;
  addEvent(state, event, thresholds.parameters.sequentialGap);
  const hour = Math.floor(local.minutes / 60);
  const orgDelta: OrgDelta | null =
    event.newPersons > 0 || request.empty || request.refused
      ? {
          day,
          hour,
          persons: event.newPersons,
          empty: request.empty ? 1 : 0,
          refused: request.refused ? 1 : 0,
          accounts: firstOfDay && event.newPersons > 0 ? 1 : 0,
        }
      : null;
  const situation: Situation = {
    at: now,
    probation: actor.probation,
    newSource: actor.view.sessionFlags.length > 0,
    addressChanged:
      actor.requestAddress !== null &&
      actor.view.sessionAddress !== null &&
      networkOf(actor.requestAddress) !== networkOf(actor.view.sessionAddress),
    concurrentAddresses: actor.view.concurrentAddresses,
    canaries,
    orgToday: orgToday(actor.view.orgToday, day, orgDelta),
    minutes: local.minutes,
  };
  const verdict = evaluate(state, situation, thresholds);
  // An export the guard stops makes no file: its rows are not exported (its retry after a step-up
  // is the same file, counted once, when it is made).
  if (event.exported && verdict.response !== 'allow') {
    state.d.exported = Math.max(0, (state.d.exported ?? 0) - event.exported);
    if (event.offHours)
      state.d.offHoursExported = Math.max(0, (state.d.offHoursExported ?? 0) - event.exported);
  }
  // A request already refused for a pending response does not extend it; it may still escalate.
  if (!(request.blocked && verdict.response === 'throttle')) applyVerdict(state, verdict, now);
  const isNew =
    verdict.response === 'suspend' ||
    (verdict.response === 'throttle' && !pending.throttled && !request.blocked) ||
    (verdict.response === 'step_up' && !pending.stepUp);
  const raised: RaisedAlert | null =
    verdict.response !== 'allow' && isNew
      ? {
          id: randomUUID(),
          accountId: actor.accountId,
          organisationId: actor.organisationId,
          response: verdict.response,
          signals: verdict.signals,
        }
      : null;
  return { ...verdict, raised, state, version, personIds, orgDelta };
}

/** Calendar days of organisations of its kind read at the start of a day: four weeks. */
const KIND_SPAN_DAYS = 28;

/** The organisation's day so far with this request, from the session read's (another day's counts nothing). */
function orgToday(read: (OrgToday & { day: string }) | null, day: string, delta: OrgDelta | null): OrgToday {
  const base = read && read.day === day ? read : null;
  return {
    persons: (base?.persons ?? 0) + (delta?.persons ?? 0),
    empty: (base?.empty ?? 0) + (delta?.empty ?? 0),
    refused: (base?.refused ?? 0) + (delta?.refused ?? 0),
    accounts: (base?.accounts ?? 0) + (delta?.accounts ?? 0),
  };
}

/** Suspends the account at once: status, every session, and a security event naming the alert. */
async function suspendAccount(tx: Tx, actor: GuardActor, alert: RaisedAlert, now: Date): Promise<void> {
  await tx.query(
    `UPDATE accounts SET status = 'suspended'
     WHERE id = $1 AND status IN ('pending_enrolment', 'active', 'probation', 'locked')`,
    [actor.accountId],
  );
  await revokeAllSessions(tx, actor.accountId, 'guard', now);
  await recordEvent(tx, {
    at: now,
    action: 'account.suspend',
    targetAccountId: actor.accountId,
    organisationId: actor.organisationId,
    ...(actor.requestAddress ? { sourceAddress: actor.requestAddress } : {}),
    details: { by: 'guard', alertId: alert.id, signals: alert.signals.map((s) => s.name) },
  });
}

/** The guard's part of an audit event: the response and the signals behind it (names and numbers only). */
export function auditGuard(verdict: Verdict): Record<string, unknown> {
  return {
    response: verdict.response,
    signals: verdict.signals.map((s) => ({
      name: s.name,
      value: s.value,
      limit: s.limit,
      response: s.response,
      ...(s.escalated ? { escalated: true } : {}),
    })),
    ...(verdict.retryAfter === undefined ? {} : { retryAfter: verdict.retryAfter }),
  };
}
