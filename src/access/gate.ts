/**
 * The gate (docs/DESIGN.md section 3): the one function through which personal data is read or
 * changed. Every route, job and command that touches a person calls `passGate`; nothing else in
 * Rempart decrypts an identity for staff. Its steps, in order:
 *
 *   1. who: the authenticated staff actor (account, organisation, role) and its session;
 *   2. why: a purpose from the fixed list, held by the organisation and allowed to the role;
 *   3. policy: which persons (scope) and which fields, for this role and purpose (policy.ts);
 *   4. guard, before: a throttle in force or a step-up asked for refuses the request (guard/guard.ts);
 *   5. database: the query runs inside the scope, under row-level security for this actor;
 *   6. audit: the event with the exact persons and fields returned, in the same transaction; if it
 *      cannot be written, the transaction fails and nothing is returned (fail closed);
 *   7. guard, after: the persons the read would return are counted and the signals evaluated, in the
 *      same transaction; a response other than allow refuses this request (nothing is returned), a
 *      suspension is carried out at once, and the audit event names the signals;
 *   8. decrypt only the allowed fields, inside the transaction, and return them once it commits.
 *
 * A refusal is itself an audit event (decision 'deny', with the reason), committed before the
 * error is raised, and counted by the guard (refused attempts are a signal). Out of scope and absent look the same (404), so ids cannot be probed.
 */
import { createHash } from 'node:crypto';
import { type AuditCtx, type AuditEntry, appendAudit } from '../audit/append.ts';
import { type AccessEntry, personAccessHistory } from '../audit/scope.ts';
import type { ExportsConfig } from '../config-exports.ts';
import type { Clock } from '../context.ts';
import { commitWith, type Db, sendTogether, type Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import {
  auditGuard,
  type GuardOutcome,
  type GuardPlan,
  guardBefore,
  guardCommit,
  guardError,
  guardMoved,
  guardObserve,
  guardPlan,
  type ObservedRequest,
  type RaisedAlert,
} from '../guard/guard.ts';
import type { Verdict } from '../guard/signals.ts';
import type { GuardConfig } from '../guard/thresholds.ts';
import type { GuardView } from '../guard/view.ts';
import type { Role } from '../identity/accounts.ts';
import type {
  Address,
  Identity,
  IdentityField,
  PersonStatus,
  RegistrationPeriod,
} from '../registry/person.ts';
import { IDENTITY_FIELDS } from '../registry/person.ts';
import {
  confirmFound,
  findInScope,
  type OwnRow,
  openPerson,
  personInScope,
  type ReadScope,
  registrationPeriodsOf,
  type StoredPerson,
  withinScope,
  writeSealed,
} from '../registry/person-reads.ts';
import {
  emailIndex,
  indexLookup,
  type PersonQuery,
  type RegistryKeys,
  resealRow,
} from '../registry/persons.ts';
import { setPolicyClock } from '../registry/work-items.ts';
import { validateContact } from './contact.ts';
import {
  decideExportRead,
  type ExportReadRequest,
  type ExportReadResult,
  isExportRequest,
  runExportRead,
} from './gate-exports.ts';
import {
  ALLOW,
  announce,
  GuardRedo,
  guardActor,
  isNational,
  observe,
  observed,
  worse,
} from './gate-guard.ts';
import {
  type AnyWorkItemResult,
  decideWorkItem,
  isWorkItemRequest,
  runWorkItem,
  type WorkItemRequest,
  type WorkItemResult,
  workItemShape,
} from './gate-work-items.ts';
import {
  type ContactField,
  JUSTIFICATION_MAX,
  JUSTIFICATION_MIN,
  type Rule,
  ruleFor,
  SEARCH_CAP,
  type ViewField,
} from './policy.ts';
import { isPurpose, PURPOSES, type Purpose } from './purposes.ts';

/** What the gate needs from outside. */
export interface GateDeps {
  db: Db;
  keys: RegistryKeys;
  clock: Clock;
  /**
   * The guard's thresholds (config.guard); null only with REMPART_GUARD=off, which exists to measure
   * the guard's cost (`rempart bench gate`) and is never for a deployment.
   */
  guard: GuardConfig | null;
  /** Announces an alert the guard raised (a suspension: security officers, managers), after commit. */
  announce?: (alert: RaisedAlert) => Promise<void>;
  /** Exports' limits (config.exports); the defaults of gate-exports.ts when absent. */
  exports?: ExportsConfig;
}

/** Step 1, who: the authenticated staff member, as the auth layer established it for this request. */
export interface GateCtx {
  accountId: string;
  organisationId: string;
  role: Role;
  /** The purposes the organisation holds (read with the session, so a change applies at once). */
  organisationPurposes: readonly string[];
  /** SHA-256 of the session id (the stored hash), from which the audit's session reference comes. */
  sessionIdHash: Buffer;
  requestId: string;
  sourceAddress: string | null;
  /** The account is on probation (new or recovered): the guard's quotas shrink. */
  probation: boolean;
  /** A demo account: the guard's demo levels (docs/GUARD.md). */
  demo?: boolean;
  /** When this session last verified a second factor (a step-up asked for after it is still pending). */
  mfaAt: Date | null;
  /** What the session read told the guard (identity/sessions.ts). */
  guard: GuardView;
}

interface Justified {
  /** Read outside the everyday scope (agency counselors, security officers, the DPO). */
  national?: boolean;
  justification?: string;
}

export type GateRequest =
  | ({ action: 'person.search'; purpose: string; query: PersonQuery; cap?: number } & Justified)
  | ({ action: 'person.view'; purpose: string; personId: string } & Justified)
  | ({ action: 'person.access_history'; purpose: string; personId: string } & Justified)
  | { action: 'person.update_contact'; purpose: string; personId: string; changes: ContactChanges }
  | ExportReadRequest
  | WorkItemRequest;

/** New contact details; null clears one, absent leaves it. */
export type ContactChanges = { email?: string | null; phone?: string | null; address?: Address | null };

/** A person as the gate returns them: the id, and only the fields the policy allowed. */
export interface PersonView {
  id: string;
  agencyId?: string;
  nir?: string;
  nirMasked?: string;
  lastName?: string;
  birthName?: string | null;
  firstNames?: string;
  sex?: 'M' | 'F';
  birthDate?: string;
  birthPlace?: Identity['birthPlace'];
  email?: string | null;
  phone?: string | null;
  address?: Address | null;
  status?: PersonStatus;
  registrationPeriods?: RegistrationPeriod[];
}

export interface SearchResult {
  results: PersonView[];
  /** More persons matched inside the scope than the cap: refine the search (no count is given). */
  more: boolean;
  cap: number;
  fields: ViewField[];
}

export interface ViewResult {
  person: PersonView;
  fields: ViewField[];
}

export interface UpdateResult {
  updated: ContactField[];
}

/** Who accessed a person's record: the person's id and the entries, newest first. */
export interface HistoryResult {
  id: string;
  accessHistory: AccessEntry[];
}

export type ResultOf<R extends GateRequest> = R extends WorkItemRequest
  ? WorkItemResult<R>
  : R extends ExportReadRequest
    ? ExportReadResult
    : R['action'] extends 'person.search'
      ? SearchResult
      : R['action'] extends 'person.view'
        ? ViewResult
        : R['action'] extends 'person.access_history'
          ? HistoryResult
          : UpdateResult;

/** What one pass through the gate returns, before it is typed by its request. */
type AnyResult =
  | SearchResult
  | ViewResult
  | UpdateResult
  | HistoryResult
  | AnyWorkItemResult
  | ExportReadResult;

/** The field name under which an access history is returned and audited. */
export const HISTORY_FIELD = 'accessHistory';

/** The policy's answer for one request (step 3). */
export interface Decision {
  purpose: Purpose;
  rule: Rule;
  /** The persons a person route reaches; null for a work item's own acts (gate-work-items.ts). */
  scope: ReadScope | null;
  national: boolean;
  justification: string | null;
}

/** A refusal decided before or inside the transaction: audited, then raised. */
export class Refusal {
  readonly reason: string;
  readonly error: AppError;
  readonly query: Record<string, unknown>;
  constructor(reason: string, error: AppError, query: Record<string, unknown>) {
    this.reason = reason;
    this.error = error;
    this.query = query;
  }
}

/**
 * A transaction that gate-session.ts opened with the session read, and the persons it read with it
 * in the organisation's own scope (agency or caseload, not yet told apart).
 */
export interface Entered {
  tx: Tx;
  own: OwnRow[];
}

/**
 * Thrown inside an entered transaction when the request is not for it (a refusal to audit, a
 * response pending, another scope, the guard's state moved): the caller rolls it back and passes
 * the request again on its own (`locked`: straight to the guard's locked path).
 */
export class Reenter extends Error {
  readonly locked: boolean;
  constructor(locked = false) {
    super('the request is passed again in its own transaction');
    this.locked = locked;
  }
}

/**
 * Passes one request through the gate (steps 1–8 above), in its own transaction, or in one
 * gate-session.ts opened (`entered`).
 */
export async function passGate<R extends GateRequest>(
  deps: GateDeps,
  ctx: GateCtx,
  request: R,
  options: { entered?: Entered; locked?: boolean } = {},
): Promise<ResultOf<R>> {
  const entered = options.entered;
  const at = deps.clock.now();
  const audit: AuditCtx = {
    actor: { kind: 'staff', accountId: ctx.accountId, organisationId: ctx.organisationId, role: ctx.role },
    sessionRef: sessionRef(ctx.sessionIdHash),
    requestId: ctx.requestId,
    sourceAddress: ctx.sourceAddress,
    at,
  };
  const shape = queryShape(request);
  const purpose = isPurpose(request.purpose) ? request.purpose : null;
  const decided = decide(ctx, request, shape, at);
  if (decided instanceof Refusal) {
    if (entered) throw new Reenter();
    return refuse(deps, ctx, audit, request, purpose, decided);
  }
  // Step 4, guard (before): a throttle in force or a step-up not yet given refuses the request.
  const pending = deps.guard ? guardBefore(guardActor(ctx), at) : ALLOW;
  if (pending.response !== 'allow') {
    if (entered) throw new Reenter();
    const blocked = new Refusal(`guard.${pending.response}`, guardError(pending), shape);
    return refuse(deps, ctx, audit, request, purpose, blocked, pending);
  }
  if (entered) {
    // The persons read with the session, if the scope decided holds them all; else read again.
    const own = decided.scope && !decided.national ? withinScope(entered.own, decided.scope) : null;
    if (!own) throw new Reenter();
    let done: { result: AnyResult | Refusal; guard: GuardOutcome };
    try {
      done = await run(entered.tx, deps, ctx, audit, request, decided, shape, false, own);
    } catch (error) {
      // The guard's state moved or a canary is among the persons: the locked path, on its own. A
      // record that fails to decrypt: on its own too, where the attempt is put on record.
      if (error instanceof GuardRedo) throw new Reenter(true);
      if (error instanceof AppError && error.code === 'decryption_failed') throw new Reenter();
      throw error;
    }
    if (done.result instanceof Refusal) throw done.result.error;
    return done.result as ResultOf<R>;
  }
  let outcome: { result: AnyResult | Refusal; guard: GuardOutcome };
  // Generic plans: the gate's statements are point lookups planned once per connection (TxOptions).
  const attempt = (locked: boolean) =>
    deps.db.tx(
      audit.actor,
      async (tx) => {
        // The scope the policy opened, for row-level security: a justified national read, or the archive.
        // SET LOCAL (not set_config): on Citus only SET commands reach the workers' shards.
        if (decided.national) await tx.query(`SET LOCAL rempart.scope = 'national'`);
        else if (decided.scope?.kind === 'archive') await tx.query(`SET LOCAL rempart.scope = 'archive'`);
        // Work items' deadlines are the application's clock, in the row-level security policies too.
        if (isWorkItemRequest(request)) await setPolicyClock(tx, at);
        return run(tx, deps, ctx, audit, request, decided, shape, locked);
      },
      { genericPlans: true },
    );
  try {
    try {
      outcome = await attempt(options.locked === true);
    } catch (error) {
      // The guard's state moved meanwhile, a response is due or a canary was touched: the request
      // is redone, nothing of the first attempt kept, with the account's guard row locked.
      if (!(error instanceof GuardRedo)) throw error;
      outcome = await attempt(true);
    }
  } catch (error) {
    // A record that fails to decrypt (altered or swapped ciphertext, OWASP ASVS 11.3.3) returns
    // nothing; the attempt is on record.
    if (error instanceof AppError && error.code === 'decryption_failed') {
      await refuse(deps, ctx, audit, request, purpose, new Refusal('decryption_failed', error, shape));
    }
    throw error;
  }
  await announce(deps, outcome.guard.raised);
  if (outcome.result instanceof Refusal) throw outcome.result.error;
  return outcome.result as ResultOf<R>;
}

/** The first 16 hex digits of SHA-256 of the session's stored id hash: one session's events, linkable. */
export function sessionRef(idHash: Buffer): string {
  return createHash('sha256').update(idHash).digest('hex').slice(0, 16);
}

/** Steps 2 and 3: the purpose and the policy. A validation error is thrown; a refusal is returned. */
function decide(
  ctx: GateCtx,
  request: GateRequest,
  shape: Record<string, unknown>,
  at: Date,
): Decision | Refusal {
  if (!isPurpose(request.purpose)) {
    throw new AppError('validation_failed', 'purpose is not one of the declared purposes', {
      field: 'purpose',
    });
  }
  const purpose = request.purpose;
  const forbidden = (reason: string, message: string, field?: string): Refusal =>
    new Refusal(reason, new AppError('forbidden', message, field ? { field } : {}), shape);
  if (!(PURPOSES[purpose].roles as readonly string[]).includes(ctx.role)) {
    return forbidden('purpose_not_allowed_for_role', 'this purpose is not open to your role', 'purpose');
  }
  if (!ctx.organisationPurposes.includes(purpose)) {
    return forbidden('purpose_not_held', 'your organisation does not hold this purpose', 'purpose');
  }
  const rule = ruleFor(ctx.role, purpose);
  if (!rule) return forbidden('no_policy', 'no access is defined for your role and this purpose', 'purpose');
  if (isWorkItemRequest(request)) return decideWorkItem(ctx, request, purpose, rule, shape, at);
  if (isExportRequest(request)) return decideExportRead(ctx, purpose, rule, shape);
  if (rule.scope === 'work_item') {
    // T4: no search and no record; persons only through the work items assigned (gate-work-items.ts).
    return forbidden(
      'work_items_only',
      'your role reads persons only through the work items assigned to you',
      'purpose',
    );
  }

  let national = false;
  let justification: string | null = null;
  if (request.action !== 'person.update_contact') {
    national = request.national === true;
    if (national) {
      if (!rule.national) {
        return forbidden(
          'national_not_allowed',
          'national reads are not open to your role for this purpose',
          'national',
        );
      }
      const text = (request.justification ?? '').trim();
      if (text.length < JUSTIFICATION_MIN || text.length > JUSTIFICATION_MAX) {
        throw new AppError(
          'validation_failed',
          `a national read needs a justification of ${JUSTIFICATION_MIN} to ${JUSTIFICATION_MAX} characters`,
          { field: 'justification' },
        );
      }
      justification = text;
    } else if (request.justification !== undefined) {
      throw new AppError('validation_failed', 'a justification goes with a national read only', {
        field: 'justification',
      });
    } else if (rule.scope === 'none') {
      return forbidden(
        'national_required',
        'your role reads persons only through a justified national read',
        'national',
      );
    }
  }
  if (request.action === 'person.access_history' && !rule.history) {
    return forbidden(
      'history_not_allowed',
      'access histories are not open to your role for this purpose',
      'purpose',
    );
  }
  if (request.action === 'person.search' && !rule.search.includes(request.query.by)) {
    return forbidden('search_not_allowed', 'this search is not open to your role for this purpose', 'by');
  }
  if (request.action === 'person.update_contact') {
    const changed = Object.keys(request.changes) as ContactField[];
    if (changed.length === 0) {
      throw new AppError('validation_failed', 'give at least one contact field to change', {
        field: 'email',
      });
    }
    const refused = changed.find((f) => !rule.update.includes(f));
    if (refused) return forbidden('update_not_allowed', `you may not change ${refused}`, refused);
    validateContact(request.changes);
  }
  const scope: ReadScope = national
    ? { kind: 'national' }
    : rule.scope === 'agency'
      ? { kind: 'agency', organisationId: ctx.organisationId }
      : rule.scope === 'archive'
        ? { kind: 'archive' }
        : { kind: 'caseload', organisationId: ctx.organisationId };
  return { purpose, rule, scope, national, justification };
}

/** What the audit records of a request: which filters, never their values (docs/DESIGN.md section 7). */
function queryShape(request: GateRequest): Record<string, unknown> {
  if (isWorkItemRequest(request)) return workItemShape(request);
  if (isExportRequest(request)) return { exportId: request.exportId };
  if (request.action === 'person.search') {
    return {
      by: request.query.by,
      cap: request.cap ?? SEARCH_CAP,
      national: request.national === true,
    };
  }
  if (request.action === 'person.view' || request.action === 'person.access_history') {
    return { personId: request.personId, national: request.national === true };
  }
  return { personId: request.personId, changed: Object.keys(request.changes).sort() };
}

/**
 * Writes the refusal's audit event in its own transaction, with the guard's count of it (a policy
 * refusal, or a request blocked by a pending response), then raises its error — or the guard's, if
 * the refusals add up to a response.
 */
async function refuse(
  deps: GateDeps,
  ctx: GateCtx,
  audit: AuditCtx,
  request: GateRequest,
  purpose: Purpose | null,
  refusal: Refusal,
  pending?: Verdict,
): Promise<never> {
  const counted: ObservedRequest = {
    ...observed(request, isNational(request)),
    refused: pending === undefined && refusal.reason !== 'decryption_failed',
    blocked: pending !== undefined,
  };
  const verdict = await deps.db.tx(audit.actor, async (tx) => {
    const seen = await observe(tx, deps, ctx, counted, audit.at);
    const response = seen.response === 'allow' ? pending : worse(seen, pending);
    await appendAudit(tx, audit, denyEntry(request, purpose, refusal, response));
    return { seen, response };
  });
  await announce(deps, verdict.seen.raised);
  if (verdict.response && verdict.response.response !== 'allow') throw guardError(verdict.response);
  throw refusal.error;
}

/** The audit entry of a refusal: decision 'deny', its reason, the guard's response if any. */
export function denyEntry(
  request: GateRequest,
  purpose: Purpose | null,
  refusal: Refusal,
  guard?: Verdict,
): AuditEntry {
  return {
    action: request.action,
    purpose,
    query:
      guard && guard.response !== 'allow' ? { ...refusal.query, guard: auditGuard(guard) } : refusal.query,
    justification: 'justification' in request ? (request.justification?.trim() ?? null) : null,
    decision: 'deny',
    reason: refusal.reason,
    resultCount: 0,
    persons: [],
  };
}

/**
 * Steps 5 to 8 inside the actor's transaction. Step 7 has two paths: in the common case (`locked`
 * false) the guard folds the request into the state read with the session and writes it in the same
 * round trip as the audit event (guardPlan, guardCommit); if a response is due, the state moved
 * meanwhile or a canary is among the persons, GuardRedo rolls everything back and the request is
 * redone with the account's guard row locked (guardObserve), where responses are carried out.
 */
async function run(
  tx: Tx,
  deps: GateDeps,
  ctx: GateCtx,
  audit: AuditCtx,
  request: GateRequest,
  decision: Decision,
  shape: Record<string, unknown>,
  locked: boolean,
  own?: OwnRow[],
): Promise<{ result: AnyResult | Refusal; guard: GuardOutcome }> {
  const base = { action: request.action, purpose: decision.purpose, justification: decision.justification };
  const counted = observed(request, decision.national);
  let plan: GuardPlan | null = null;
  // Step 7: the guard counts what this request would return; any response but allow refuses it,
  // on record with its signals, and nothing is returned.
  const after = async (personIds: string[], extra: Partial<ObservedRequest> = {}): Promise<GuardOutcome> => {
    if (!deps.guard) return ALLOW;
    const observedRequest = { ...counted, ...extra, personIds };
    if (locked) return guardObserve(tx, deps.guard, guardActor(ctx), observedRequest, audit.at);
    plan = await guardPlan(tx, deps.guard, guardActor(ctx), observedRequest, audit.at);
    if (plan.response !== 'allow') throw new GuardRedo();
    return ALLOW;
  };
  // Step 6, with the guard's state written in the same write (pipelined) on the common path. `last`:
  // the transaction's last write, sent with COMMIT; the answer waits for the commit to be acknowledged.
  const record = async (entry: AuditEntry, last = false): Promise<void> => {
    const pending: GuardPlan | null = plan;
    const write = (): Promise<unknown> =>
      pending
        ? Promise.all([appendAudit(tx, audit, entry), guardCommit(tx, guardActor(ctx), pending, audit.at)])
        : appendAudit(tx, audit, entry);
    try {
      await (last ? commitWith(tx, write) : sendTogether(tx, write));
    } catch (error) {
      // The guard's state moved since the session read it, or a canary is among the persons: the
      // server rolled everything back; the request is redone on the locked path.
      if (guardMoved(error)) throw new GuardRedo();
      throw error;
    }
  };
  const stopped = async (outcome: GuardOutcome, query: Record<string, unknown>): Promise<Refusal> => {
    const refusal = new Refusal(`guard.${outcome.response}`, guardError(outcome), query);
    await appendAudit(tx, audit, denyEntry(request, decision.purpose, refusal, outcome));
    return refusal;
  };
  if (isWorkItemRequest(request)) {
    return runWorkItem(tx, deps, ctx, request, decision, shape, { after, record, stopped });
  }
  if (isExportRequest(request)) {
    return runExportRead(tx, deps, ctx, request, decision, shape, { after, record, stopped });
  }
  const scope = decision.scope;
  if (!scope) throw new AppError('internal', 'a person route without a scope');
  if (request.action === 'person.search') {
    const cap = request.cap ?? SEARCH_CAP;
    const fields = [...decision.rule.list];
    const decrypt = identityFieldsOf(fields);
    const found = own
      ? await confirmFound(deps.keys, indexLookup(deps.keys, request.query), own, cap, decrypt)
      : await findInScope(tx, deps.keys, scope, request.query, cap, decrypt);
    const guard = await after(
      found.persons.map((p) => p.id),
      { empty: found.persons.length === 0 },
    );
    if (guard.response !== 'allow') return { result: await stopped(guard, shape), guard };
    // Decrypted in memory first; nothing leaves before the audit event below is committed.
    const results = await reveal(tx, deps.keys, found.persons, fields);
    await record(
      {
        ...base,
        query: { ...shape, more: found.more },
        decision: 'allow',
        resultCount: found.persons.length,
        persons: found.persons.map((p) => ({ personId: p.id, fields })),
      },
      true,
    );
    return { result: { results, more: found.more, cap, fields }, guard };
  }

  const person = own
    ? own[0]
    : await personInScope(tx, scope, request.personId, {
        periods: request.action === 'person.view' && decision.rule.view.includes('registrationPeriods'),
      });
  if (!person) {
    // Absent and out of scope answer alike (no probing of ids); the attempt is on record and counted.
    const guard = await after([], { refused: true });
    if (guard.response !== 'allow') return { result: await stopped(guard, shape), guard };
    const refusal = new Refusal(
      'not_found_or_out_of_scope',
      new AppError('not_found', 'no such person'),
      shape,
    );
    await record(denyEntry(request, decision.purpose, refusal), true);
    return { result: refusal, guard };
  }
  const guard = await after([person.id]);
  if (guard.response !== 'allow') return { result: await stopped(guard, shape), guard };
  if (request.action === 'person.access_history') {
    // The read is on record before the history is read, so it shows in it: "you, just now".
    await record({
      ...base,
      query: shape,
      decision: 'allow',
      resultCount: 1,
      persons: [{ personId: person.id, fields: [HISTORY_FIELD] }],
    });
    return { result: { id: person.id, accessHistory: await personAccessHistory(tx, person.id) }, guard };
  }
  if (request.action === 'person.view') {
    const fields = [...decision.rule.view];
    // Decrypted in memory first; nothing leaves before the audit event below is committed.
    const [view] = await reveal(tx, deps.keys, [person], fields);
    await record(
      {
        ...base,
        query: shape,
        decision: 'allow',
        resultCount: 1,
        persons: [{ personId: person.id, fields }],
      },
      true,
    );
    return { result: { person: view!, fields }, guard };
  }

  // Contact details: the record is re-sealed whole under the same data key; the audit names the
  // fields that held a value before and after, never the values.
  const current = (await openPerson(deps.keys, person, IDENTITY_FIELDS)) as Identity;
  const changes = validateContact(request.changes);
  const next: Identity = { ...current, ...changes };
  const updated = (Object.keys(changes) as ContactField[]).sort();
  const present = (identity: Identity): ContactField[] => updated.filter((f) => identity[f] !== null);
  await record({
    ...base,
    query: { ...shape, before: present(current), after: present(next) },
    decision: 'allow',
    resultCount: 1,
    persons: [{ personId: person.id, fields: updated }],
  });
  const sealed = await resealRow(deps.keys, person, next);
  const emailBi = changes.email === undefined ? undefined : emailIndex(deps.keys.blindIndex, next.email);
  if (!(await writeSealed(tx, scope, person.id, sealed, audit.at, emailBi))) {
    throw new AppError('internal', 'a person read in scope could not be written');
  }
  return { result: { updated }, guard };
}

/** Step 8: decrypts only the allowed fields and shapes each person's view. */
export async function reveal(
  tx: Tx,
  keys: RegistryKeys,
  persons: readonly (StoredPerson & { identity?: Partial<Identity> })[],
  fields: readonly ViewField[],
): Promise<PersonView[]> {
  const identityFields = identityFieldsOf(fields);
  // Periods read with the rows (personInScope) are not read again.
  const periods =
    fields.includes('registrationPeriods') && persons.some((p) => p.periods === undefined)
      ? await registrationPeriodsOf(
          tx,
          persons.map((p) => p.id),
        )
      : undefined;
  const views: PersonView[] = [];
  for (const person of persons) {
    // A search hands its persons over with these fields already decrypted (one key unwrap each).
    const identity =
      person.identity ?? (identityFields.length > 0 ? await openPerson(keys, person, identityFields) : {});
    const view: Record<string, unknown> = { id: person.id };
    for (const field of fields) {
      if (field === 'nirMasked') view.nirMasked = maskNir(identity.nir ?? '');
      else if (field === 'status') view.status = person.status;
      else if (field === 'registrationPeriods')
        view.registrationPeriods = person.periods ?? periods?.get(person.id) ?? [];
      else view[field] = identity[field] ?? null;
    }
    views.push(view as unknown as PersonView);
  }
  return views;
}

/** The identity fields to decrypt for these view fields (a masked NIR is made from the NIR). */
function identityFieldsOf(fields: readonly ViewField[]): IdentityField[] {
  const out = new Set<IdentityField>();
  for (const field of fields) {
    if (field === 'nirMasked') out.add('nir');
    else if (field !== 'status' && field !== 'registrationPeriods') out.add(field);
  }
  return [...out];
}

/** The NIR with only sex, year and month of birth shown: "1 85 05 •• ••• ••• ••". */
export function maskNir(nir: string): string {
  if (nir.length !== 15) return '••• •• •• ••• ••• ••';
  return `${nir[0]} ${nir.slice(1, 3)} ${nir.slice(3, 5)} •• ••• ••• ••`;
}
