/**
 * The gate's side of the guard (steps 4 and 7 of gate.ts): who the guard sees, what a request counts
 * for it, the locked path's redo signal, and the announcement of a suspension after commit. The
 * guard's own logic is in src/guard.
 */
import { systemCtx } from '../context.ts';
import type { Tx } from '../db/types.ts';
import {
  type GuardActor,
  type GuardOutcome,
  guardObserve,
  type ObservedRequest,
  type RaisedAlert,
} from '../guard/guard.ts';
import type { Verdict } from '../guard/signals.ts';
import { agencyIdSweepKey, nameSweepKey } from '../guard/state.ts';
import { recordEvent } from '../identity/events.ts';
import { normaliseName } from '../registry/normalise.ts';
import { type GateCtx, type GateDeps, type GateRequest, sessionRef } from './gate.ts';

export const ALLOW: GuardOutcome = { response: 'allow', signals: [], raised: null };

/** Thrown inside the gate's transaction to roll it back and redo the request on the guard's locked path. */
export class GuardRedo extends Error {}

/** Step 7 for one request, in the gate's transaction (allow without counting when the guard is off). */
export function observe(
  tx: Tx,
  deps: GateDeps,
  ctx: GateCtx,
  request: ObservedRequest,
  at: Date,
): Promise<GuardOutcome> {
  return deps.guard ? guardObserve(tx, deps.guard, guardActor(ctx), request, at) : Promise.resolve(ALLOW);
}

/** The acting account as the guard sees it. */
export function guardActor(ctx: GateCtx): GuardActor {
  return {
    accountId: ctx.accountId,
    organisationId: ctx.organisationId,
    role: ctx.role,
    probation: ctx.probation,
    demo: ctx.demo === true,
    mfaAt: ctx.mfaAt,
    requestAddress: ctx.sourceAddress,
    requestId: ctx.requestId,
    sessionRef: sessionRef(ctx.sessionIdHash),
    view: ctx.guard,
  };
}

/** Tells the security officers and managers about a suspension, after commit; a failure loses nothing (the alert is queued). */
export async function announce(deps: GateDeps, raised: RaisedAlert | null): Promise<void> {
  if (!raised || !deps.announce) return;
  await deps.announce(raised).catch(() =>
    // The alert is queued whatever happens; a failed announcement is on record for the officers.
    deps.db
      .tx(systemCtx('guard').actor, (tx) =>
        recordEvent(tx, {
          at: deps.clock.now(),
          action: 'guard.announce_failed',
          targetAccountId: raised.accountId,
          organisationId: raised.organisationId,
          details: { alertId: raised.id },
        }),
      )
      .catch(() => undefined),
  );
}

/** Whether a request is a justified national read (work items never are). */
export function isNational(request: GateRequest): boolean {
  return 'national' in request && request.national === true;
}

/**
 * What a request counts for the guard, before the persons it reaches are known. Every request but a
 * search is a view (a record, an item opened or created), except marking a work item done, which
 * reads nothing; its refusals still count.
 */
export function observed(request: GateRequest, national: boolean): ObservedRequest {
  const search = request.action === 'person.search';
  let sweep: ObservedRequest['sweep'];
  if (search && request.query.by === 'agencyId') {
    const key = agencyIdSweepKey(request.query.agencyId);
    if (key !== undefined) sweep = { kind: 'agencyId', key };
  } else if (search && request.query.by === 'nameBirth') {
    sweep = { kind: 'name', key: nameSweepKey(normaliseName(request.query.lastName)) };
  }
  return {
    action: request.action,
    views: search || request.action === 'work_item.complete' ? 0 : 1,
    searches: search ? 1 : 0,
    personIds: [],
    national,
    refused: false,
    blocked: false,
    empty: false,
    ...(sweep ? { sweep } : {}),
  };
}

/** The more severe of two verdicts. */
export function worse(a: Verdict, b: Verdict | undefined): Verdict {
  const rank = { allow: 0, throttle: 1, step_up: 2, suspend: 3 } as const;
  // A tie goes to the pending response: its Retry-After is the time really left.
  return b && rank[b.response] >= rank[a.response] ? b : a;
}
