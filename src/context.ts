/**
 * Ctx: who is acting, and the outside things passed in (CONVENTIONS.md, "Time, randomness").
 * Later issues add the authenticated staff actor, the session and the declared purpose.
 */

/** A source of time; the guard, retention and the drill inject a simulated one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The actor on whose behalf a transaction runs; it becomes the row-level security context.
 * `system` is the operator's CLI (init, seed, import, migrations); staff actors come with identity;
 * a `person` is someone on file, logged in to the portal, who reaches only their own rows.
 */
export type Actor =
  | { kind: 'system'; operation: string }
  | { kind: 'staff'; accountId: string; organisationId: string; role: string }
  | { kind: 'person'; personId: string };

export interface Ctx {
  actor: Actor;
  requestId: string;
  clock: Clock;
}

/** A context for operator commands run from the CLI. */
export function systemCtx(operation: string, clock: Clock = systemClock): Ctx {
  return { actor: { kind: 'system', operation }, requestId: `cli-${operation}`, clock };
}
