/** The database seen by the rest of Rempart: transactions that carry the actor, on PGlite or PostgreSQL. */
import type { Actor } from '../context.ts';

/** Something that runs parameterised SQL and returns rows. */
export interface Queryable {
  /** True on a Citus coordinator (see Db.distributed). */
  readonly distributed?: boolean;
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `fn`, whose statements (sent before its first await) leave in one write to the server
   * (pipeline mode: they still run in order). Absent where there is no socket (PGlite).
   */
  together?<T>(fn: () => T): T;
  /**
   * A transaction's last step: sends the statements `fn` starts (before its first await) and COMMIT
   * in one write, and resolves once the server has acknowledged the commit. If one of them fails,
   * the server rolls the whole transaction back and its error is raised. So `fn` must fail in SQL to
   * stop the commit: a JavaScript check made after its statements comes too late. After it, the
   * transaction is over. Absent where there is no socket (PGlite): the transaction then commits when
   * its function returns, as usual.
   */
  commitWith?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Sends the statements `fn` starts in one write where the driver can (see Queryable.together). */
export function sendTogether<T>(tx: Queryable, fn: () => T): T {
  return tx.together ? tx.together(fn) : fn();
}

/** Runs `fn` as the transaction's last step, with COMMIT in the same write where the driver can. */
export function commitWith<T>(tx: Queryable, fn: () => Promise<T>): Promise<T> {
  return tx.commitWith ? tx.commitWith(fn) : fn();
}

/** A transaction: every statement in it runs under the actor's row-level security context. */
export type Tx = Queryable;

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  /**
   * True on a Citus coordinator (docs/SCALING.md): the settings the policies read reach the workers
   * only as SET LOCAL commands, so no statement may set them with set_config.
   */
  readonly distributed?: boolean;
  /**
   * Set when this process reaches the embedded database through the `rempart serve` that holds it
   * (pglite-share.ts): that server's pid. Its sequencer is then the one that folds the audit log.
   */
  readonly servedBy?: number;
  /**
   * Runs `fn` in one transaction as the application role, with the actor's RLS context set
   * (SET LOCAL, so it cannot leak to the next transaction on the same connection).
   * Commits if `fn` resolves, rolls back if it throws; the error is rethrown unchanged.
   */
  tx<T>(actor: Actor, fn: (tx: Tx) => Promise<T>, options?: TxOptions): Promise<T>;
  /**
   * Runs one read-only statement as the application role with the actor's RLS context, in its own
   * READ ONLY transaction (a write fails). On PostgreSQL, BEGIN, the context, the statement and
   * COMMIT are sent together: one round trip.
   */
  read<R = Record<string, unknown>>(actor: Actor, sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `fn` in one transaction as the audit sequencer's role (SEQUENCER_ROLE): it reads the log,
   * moves events from pending into the Merkle tree and writes checkpoints, and reaches nothing else.
   */
  sequencerTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** True once migrations are applied and a trivial query answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface TxOptions {
  /**
   * Plan every statement generically (plan_cache_mode = force_generic_plan): a prepared statement
   * is then planned once per connection. For point lookups whose best plan does not depend on the
   * values, such as the gate's: left to choose, PostgreSQL re-plans at every call a statement whose
   * generic estimate looks worse (an array parameter counts as ten elements), and planning costs
   * more than the lookup. Not for range scans whose plan depends on the bounds.
   */
  genericPlans?: boolean;
}

/** A transaction with the connecting (owner) role's rights: migrations, and tests that act as a DBA. */
export interface OwnerTx extends Queryable {
  /** Runs several statements with no parameters (a migration file). */
  exec(sql: string): Promise<void>;
}

/**
 * The low-level connection under `Db`, with the rights of the connecting role (the schema owner).
 * Only `db/` uses it directly: application code gets a `Db`, whose transactions drop to APP_ROLE.
 */
export interface Driver {
  readonly kind: Db['kind'];
  /** See Db.distributed. */
  readonly distributed?: boolean;
  /** See Db.servedBy. */
  readonly servedBy?: number;
  /**
   * Runs `fn` in one transaction; `settings` are applied first, transaction-local (SET LOCAL
   * semantics: they die with the transaction), so every statement of `fn` runs under them.
   */
  transaction<T>(fn: (tx: OwnerTx) => Promise<T>, settings?: TxSettings): Promise<T>;
  /** Runs one statement in its own READ ONLY transaction, `settings` applied first. */
  readOnly<R>(sql: string, params: readonly unknown[], settings?: TxSettings): Promise<R[]>;
  close(): Promise<void>;
}

/** Settings a transaction starts with, as (name, value) pairs: the role and the actor's RLS context. */
export type TxSettings = readonly (readonly [name: string, value: string])[];

/** One statement applying `settings` transaction-locally, and its parameters. */
export function settingsQuery(settings: TxSettings): { sql: string; params: string[] } {
  const calls = settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
  return { sql: `SELECT ${calls.join(', ')}`, params: settings.flat() };
}

/** Name of the role the application runs as: no superuser, no BYPASSRLS, owns nothing. */
export const APP_ROLE = 'rempart_app';
/** Name of the audit sequencer's role: the audit tables only (migration 0006). */
export const SEQUENCER_ROLE = 'rempart_sequencer';
