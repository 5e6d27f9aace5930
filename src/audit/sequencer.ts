/**
 * The audit log's single sequencer (docs/DESIGN.md section 7): it takes the events the application
 * queued in audit_pending, gives each the next leaf of the RFC 6962 Merkle tree, stores every
 * subtree that completes (so proofs are O(log n) reads), and signs a C2SP checkpoint every
 * `checkpointEvents` events or `checkpointSeconds`, appended to a file published outside the
 * database. It runs as the rempart_sequencer role, which reaches the audit tables only.
 *
 * Several Rempart processes may share one database: a transaction-scoped advisory lock makes one
 * of them sequence at a time; the others find it taken and let it be.
 */
import type { Clock } from '../context.ts';
import { systemClock } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { formatCheckpoint, type NoteSigner, signNote } from './checkpoint.ts';
import { appendCheckpointNote } from './checkpoint-file.ts';
import type { TreeEdge } from './edge.ts';
import { eventLeafHash, loadEvents } from './leaf.ts';
import { loadEdge, treeSize } from './tree-store.ts';

/** pg_try_advisory_xact_lock key of the sequencer (migrations hold 7236001). */
export const SEQUENCER_LOCK = 7236002;

/** How the sequencer signs, when it checkpoints, and where it publishes. */
export interface SequencerOptions {
  /** Signs checkpoints; its name is the log's origin. */
  signer: NoteSigner;
  clock?: Clock;
  /** A checkpoint once this many leaves were added since the last one ... */
  checkpointEvents: number;
  /** ... or once the last one is this old and leaves were added since. */
  checkpointSeconds: number;
  /** Events sequenced per transaction (default 5000). */
  maxBatch?: number;
  /** Where each signed checkpoint is appended after commit (checkpoint-file.ts). */
  checkpointFile?: string;
}

/** A signed checkpoint just written. */
export interface SignedCheckpoint {
  treeSize: number;
  note: string;
}

/** What one sequencing transaction did. */
export interface BatchResult {
  sequenced: number;
  treeSize: number;
  /** Another process held the sequencer's lock: nothing was done. */
  busy: boolean;
  checkpoint?: SignedCheckpoint;
}

/**
 * Sequences up to maxBatch pending events (in event id order) in one transaction, and signs a
 * checkpoint when one is due. Events whose links disagree with them are sequenced as they are: the
 * leaf covers what the event says, and `audit verify` reports the disagreement.
 */
export async function sequenceBatch(db: Db, options: SequencerOptions): Promise<BatchResult> {
  const clock = options.clock ?? systemClock;
  const maxBatch = options.maxBatch ?? 5000;
  const result = await db.sequencerTx(async (tx): Promise<BatchResult> => {
    if (!(await tryLock(tx))) return { sequenced: 0, treeSize: await treeSize(tx), busy: true };
    const now = clock.now();
    const pending = await tx.query<{ event_id: string }>(
      'SELECT event_id::text AS event_id FROM audit_pending p ORDER BY p.event_id LIMIT $1',
      [maxBatch],
    );
    const edge = await loadEdge(tx, await treeSize(tx));
    const sequenced =
      pending.length === 0
        ? 0
        : await sequence(
            tx,
            edge,
            pending.map((r) => r.event_id),
            now,
          );
    const checkpoint = await checkpointIfDue(tx, edge, now, options, false);
    return { sequenced, treeSize: edge.size, busy: false, ...(checkpoint ? { checkpoint } : {}) };
  });
  await publish(result.checkpoint, options);
  return result;
}

/**
 * Signs a checkpoint of the tree as it is now, unless its size already has one (returns undefined
 * then, or when another process holds the sequencer's lock).
 */
export async function signCheckpointNow(
  db: Db,
  options: SequencerOptions,
): Promise<SignedCheckpoint | undefined> {
  const now = (options.clock ?? systemClock).now();
  const checkpoint = await db.sequencerTx(async (tx) => {
    if (!(await tryLock(tx))) return undefined;
    return checkpointIfDue(tx, await loadEdge(tx, await treeSize(tx)), now, options, true);
  });
  await publish(checkpoint, options);
  return checkpoint;
}

/** A running sequencer. */
export interface Sequencer {
  /** Sequences until nothing is pending (and, with `checkpoint`, signs the tree as it then is). */
  flush(options?: {
    checkpoint?: boolean;
    /** How long to wait for another holder of the sequencer's lock before failing (default 30 s). */
    maxWaitMs?: number;
  }): Promise<{ sequenced: number; treeSize: number }>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs sequenceBatch every `sequenceMs` (an unref'd timer: it never keeps the process alive), one
 * run at a time; a failed run is reported to `onError` and retried at the next tick.
 */
export function startSequencer(
  db: Db,
  options: SequencerOptions & { sequenceMs: number; onError?: (error: unknown) => void },
): Sequencer {
  const onError =
    options.onError ??
    ((error: unknown) => console.error('rempart: audit sequencer:', (error as Error).message ?? error));
  let queue: Promise<unknown> = Promise.resolve();
  let idle = true;
  let stopped = false;
  // One run at a time: the timer's and flush's runs queue behind each other.
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(() => {
    if (!idle || stopped) return;
    idle = false;
    exclusive(() => sequenceBatch(db, options))
      .catch(onError)
      .finally(() => {
        idle = true;
      });
  }, options.sequenceMs);
  timer.unref();

  return {
    flush: (flushOptions = {}) =>
      exclusive(async () => {
        let sequenced = 0;
        let size = 0;
        const maxWaits = Math.ceil((flushOptions.maxWaitMs ?? 30_000) / 50);
        for (let waits = 0; ; ) {
          const batch = await sequenceBatch(db, options);
          sequenced += batch.sequenced;
          size = batch.treeSize;
          if (batch.busy) {
            // Another process is sequencing: wait for it rather than report a stale tree.
            waits += 1;
            if (waits > maxWaits) {
              throw new Error(
                `another process has held the audit sequencer lock for ${Math.round((maxWaits * 50) / 1000)} s`,
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
            continue;
          }
          if (batch.sequenced === 0) break;
        }
        if (flushOptions.checkpoint) await signCheckpointNow(db, options);
        return { sequenced, treeSize: size };
      }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await queue;
    },
  };
}

async function tryLock(tx: Tx): Promise<boolean> {
  const [row] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
    SEQUENCER_LOCK,
  ]);
  return row?.ok === true;
}

/** Appends the leaves of these events to the tree, with the subtrees they complete; returns how many. */
async function sequence(tx: Tx, edge: TreeEdge, ids: string[], now: Date): Promise<number> {
  const { events } = await loadEvents(tx, ids);
  // A pending row written back for an event already in the tree (by hand): drop the row, not the leaf.
  const already = await tx.query<{ event_id: string }>(
    'SELECT event_id::text AS event_id FROM audit_leaves WHERE event_id = ANY($1::bigint[])',
    [ids],
  );
  const skip = new Set(already.map((r) => r.event_id));
  const leaves: { seq: number; eventId: string; hash: string }[] = [];
  const nodes: { level: number; idx: number; hash: string }[] = [];
  for (const event of events) {
    if (skip.has(event.id)) continue;
    const [leaf, ...completed] = edge.append(eventLeafHash(event));
    leaves.push({ seq: leaf!.idx, eventId: event.id, hash: leaf!.hash.toString('hex') });
    for (const node of completed)
      nodes.push({ level: node.level, idx: node.idx, hash: node.hash.toString('hex') });
  }
  if (leaves.length > 0) {
    await tx.query(
      `INSERT INTO audit_leaves (seq, event_id, hash, sequenced_at)
       SELECT s, e, decode(h, 'hex'), $4 FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS x (s, e, h)`,
      [leaves.map((l) => l.seq), leaves.map((l) => l.eventId), leaves.map((l) => l.hash), now],
    );
  }
  if (nodes.length > 0) {
    await tx.query(
      `INSERT INTO audit_nodes (level, idx, hash)
       SELECT l, i, decode(h, 'hex') FROM unnest($1::int[], $2::bigint[], $3::text[]) AS x (l, i, h)`,
      [nodes.map((n) => n.level), nodes.map((n) => n.idx), nodes.map((n) => n.hash)],
    );
  }
  // A pending id whose event is missing stays pending: `audit verify` reports it (a deleted event).
  const done = events.map((e) => e.id);
  if (done.length > 0) {
    await tx.query('DELETE FROM audit_pending WHERE event_id = ANY($1::bigint[])', [done]);
  }
  return leaves.length;
}

/** Signs and stores a checkpoint of `edge` when due (or `force`d) and the size has none yet. */
async function checkpointIfDue(
  tx: Tx,
  edge: TreeEdge,
  now: Date,
  options: SequencerOptions,
  force: boolean,
): Promise<SignedCheckpoint | undefined> {
  if (edge.size === 0) return undefined;
  const [last] = await tx.query<{ tree_size: string; signed_at: Date }>(
    'SELECT tree_size, signed_at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1',
  );
  const lastSize = last ? Number(last.tree_size) : 0;
  if (edge.size <= lastSize) return undefined;
  if (!force) {
    // Before the first checkpoint, time counts from the first leaf.
    const since =
      last?.signed_at ??
      (await tx.query<{ at: Date }>('SELECT sequenced_at AS at FROM audit_leaves WHERE seq = 0'))[0]?.at ??
      now;
    const due =
      edge.size - lastSize >= options.checkpointEvents ||
      now.getTime() - since.getTime() >= options.checkpointSeconds * 1000;
    if (!due) return undefined;
  }
  const root = edge.root();
  const body = formatCheckpoint({
    origin: options.signer.name,
    size: edge.size,
    rootHash: root,
    extensions: [],
  });
  const note = signNote(body, [options.signer]);
  await tx.query(
    `INSERT INTO audit_checkpoints (tree_size, root_hash, signed_at, note) VALUES ($1, decode($2, 'hex'), $3, $4)`,
    [edge.size, root.toString('hex'), now, note],
  );
  return { treeSize: edge.size, note };
}

/** After commit: the checkpoint goes to the published file. */
async function publish(checkpoint: SignedCheckpoint | undefined, options: SequencerOptions): Promise<void> {
  if (checkpoint && options.checkpointFile)
    await appendCheckpointNote(options.checkpointFile, checkpoint.note);
}
