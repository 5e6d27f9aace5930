/**
 * A gated read in two round trips (issue 15, decision 1). The common request — a search or a
 * record in the staff member's everyday scope — goes to PostgreSQL in two writes:
 *
 *   1. BEGIN; the session read (identity/sessions.ts `staffSessionSql`), which also switches the
 *      transaction to the account's actor context when the session is live by its times; and the
 *      persons read in the account's own organisation (registered with it or in its caseload:
 *      person-reads.ts `ownCandidates`, `ownPerson`), under row-level security for that account;
 *   2. after the session, the request, the policy and the guard are checked here exactly as on the
 *      other path, and the persons decrypted in memory: the audit event, the guard's write and
 *      COMMIT (gate.ts).
 *
 * The session, the account, its role, its organisation's purposes and the guard's state are read
 * from the database in that first write, for this request only (decision 2: nothing is remembered
 * between requests). Anything out of the common case — no live session, a session to revoke or to
 * mark used, a failed CSRF or assurance check, a refusal to put on record, a response pending,
 * another scope, the guard's state moved — rolls the transaction back before anything is decrypted
 * or written, and the request takes the other path (`authenticateStaff`, then `passGate` in its
 * own transaction), which answers it as it always did: this path only ever answers what that one
 * would, with one round trip fewer.
 */
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { StaffAuth } from '../http/plugins/auth.ts';
import {
  type StaffSessionRow,
  staffSessionOf,
  staffSessionParams,
  staffSessionSql,
} from '../identity/sessions.ts';
import { type OwnRow, ownCandidates, ownPerson } from '../registry/person-reads.ts';
import { type IndexLookup, indexLookup } from '../registry/persons.ts';
import { type GateCtx, type GateDeps, type GateRequest, passGate, Reenter, type ResultOf } from './gate.ts';
import { SEARCH_CAP } from './policy.ts';

/** The requests this path takes: a search or a record, in the everyday scope (not national). */
export type EverydayRead = Extract<GateRequest, { action: 'person.search' } | { action: 'person.view' }>;

/** The request's session and what the route checks of it. */
export interface SessionEntry {
  /** The session cookie's value. */
  sessionId: string;
  /** The route's checks on the live session (CSRF, assurance); throws as `requireStaff` does. */
  check(auth: StaffAuth): void;
  /** The gate's actor, from the live session (the route keeps it as request.staff). */
  ctxOf(auth: StaffAuth): GateCtx;
}

/** Returned when the request is to take the other path: authenticateStaff, then passGate. */
export const OTHER_PATH = Symbol('other path');

/** Passes an everyday read with its session in two round trips, or says to take the other path. */
export async function passGateWithSession<R extends EverydayRead>(
  deps: GateDeps & { sessions: Pick<Config, 'sessions'> },
  entry: SessionEntry,
  request: R,
): Promise<ResultOf<R> | typeof OTHER_PATH> {
  // PGlite has no wire to save round trips on; a national read opens its own scope. On Citus the
  // session's statement cannot enter the actor's context for the workers (set_config does not reach
  // them; SET LOCAL cannot wait for the session's check): the other path sets it once checked.
  if (deps.db.kind !== 'postgres' || deps.db.distributed || request.national === true) return OTHER_PATH;
  const now = deps.clock.now();
  const params = staffSessionParams(entry.sessionId, now, deps.sessions);
  if (!params) return OTHER_PATH;
  let lookup: IndexLookup | undefined;
  if (request.action === 'person.search') {
    try {
      lookup = indexLookup(deps.keys, request.query);
    } catch {
      // A malformed query: the other path says so, after the session (as it always did).
      return OTHER_PATH;
    }
  }
  let ctx: GateCtx | undefined;
  try {
    return await deps.db.tx(
      systemCtx('session').actor,
      async (tx) => {
        // Both statements leave with BEGIN, in one write.
        const session = tx.query<StaffSessionRow & { entered: string | null }>(staffSessionSql(true), params);
        const persons: Promise<OwnRow[]> = lookup
          ? ownCandidates(tx, lookup, request.action === 'person.search' ? (request.cap ?? SEARCH_CAP) : 1)
          : ownPerson(tx, (request as Extract<EverydayRead, { action: 'person.view' }>).personId);
        const [[row], own] = await Promise.all([session, persons]);
        if (!row || row.entered === null) throw new Reenter();
        const read = staffSessionOf(row, now, deps.sessions);
        if (!('live' in read) || read.touch) throw new Reenter();
        try {
          entry.check(read.live);
        } catch {
          throw new Reenter();
        }
        ctx = entry.ctxOf(read.live);
        return await passGate(deps, ctx, request, { entered: { tx, own } });
      },
      { genericPlans: true },
    );
  } catch (error) {
    if (!(error instanceof Reenter)) throw error;
    // Rolled back. With a live session read, the gate takes the request on its own; without one,
    // the route authenticates it first.
    if (!ctx) return OTHER_PATH;
    return passGate(deps, ctx, request, { locked: error.locked });
  }
}
