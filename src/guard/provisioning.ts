/**
 * The guard on privileged acts (T8: in December 2025 a compromised manager account created fake
 * accesses reaching 1.6 million people). Every provisioning request a manager files (an account, a
 * role, persons added to a caseload) is counted once it is valid and allowed, in the transaction
 * that would file it: volume per day and requests outside working hours call for a step-up or a
 * suspension, like reads do. A response other than allow keeps the request from being filed; it is
 * recorded as a security event with its signals and, when new, raises an alert for the review queue.
 */
import type { Tx } from '../db/types.ts';
import type { AppError } from '../errors.ts';
import { recordEvent } from '../identity/events.ts';
import type { ProvisioningRequest } from '../identity/provisioning.ts';
import { type GuardActor, guardBefore, guardError, guardObserve, type RaisedAlert } from './guard.ts';
import type { Verdict } from './signals.ts';
import type { GuardConfig } from './thresholds.ts';

/**
 * The admission check for `requestProvisioning`: counts the request and returns the guard's error
 * if it calls for a response (null: file it). `raised` receives an alert to announce after commit.
 */
export function admitProvisioning(
  config: GuardConfig,
  actor: GuardActor,
  request: ProvisioningRequest,
  now: Date,
  raised: (alert: RaisedAlert) => void,
): (tx: Tx) => Promise<AppError | null> {
  return async (tx) => {
    const pending = guardBefore(actor, now);
    const seen = await guardObserve(
      tx,
      config,
      actor,
      {
        action: `provisioning.${request.kind}`,
        views: 0,
        searches: 0,
        personIds: [],
        national: false,
        refused: false,
        blocked: pending.response !== 'allow',
        empty: false,
        ...(request.kind === 'widen_caseload'
          ? { caseloadPersons: new Set(request.personIds).size }
          : { provisionedAccounts: 1 }),
      },
      now,
    );
    if (seen.raised) raised(seen.raised);
    const verdict: Verdict = seen.response === 'allow' ? pending : seen;
    if (verdict.response === 'allow') return null;
    await recordEvent(tx, {
      at: now,
      action: `guard.${verdict.response}`,
      actorAccountId: actor.accountId,
      targetAccountId: actor.accountId,
      organisationId: actor.organisationId,
      ...(actor.requestAddress ? { sourceAddress: actor.requestAddress } : {}),
      details: {
        on: `provisioning.${request.kind}`,
        signals: verdict.signals.map((s) => ({ name: s.name, value: s.value, limit: s.limit })),
      },
    });
    return guardError(verdict);
  };
}
