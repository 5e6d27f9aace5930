/** The database seen by the rest of Rempart: transactions that carry the actor, on PGlite or PostgreSQL. */
import type { Actor } from '../context.ts';

/** Something that runs parameterised SQL and returns rows. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A transaction: every statement in it runs under the actor's row-level security context. */
export type Tx = Queryable;

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction as the application role, with the actor's RLS context set
   * (SET LOCAL, so it cannot leak to the next transaction on the same connection).
   * Commits if `fn` resolves, rolls back if it throws; the error is rethrown unchanged.
   */
  tx<T>(actor: Actor, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction as the audit sequencer's role (SEQUENCER_ROLE): it reads the log,
   * moves events from pending into the Merkle tree and writes checkpoints, and reaches nothing else.
   */
  sequencerTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** True once migrations are applied and a trivial query answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
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
  transaction<T>(fn: (tx: OwnerTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Name of the role the application runs as: no superuser, no BYPASSRLS, owns nothing. */
export const APP_ROLE = 'rempart_app';
/** Name of the audit sequencer's role: the audit tables only (migration 0006). */
export const SEQUENCER_ROLE = 'rempart_sequencer';
