/**
 * `rempart audit verify` (docs/DESIGN.md section 7): rebuilds the Merkle tree from the events in leaf
 * order and holds it against everything stored and published, naming the first event that does
 * not match. Against T7 (a scope that cannot be trusted) and against a database administrator who
 * rewrites history: a rewritten log must fork a checkpoint that is signed by a key the database
 * does not hold and published where the administrators cannot reach.
 *
 * What is checked, streaming the leaves in chunks (memory O(chunk + log n + checkpoints)):
 * - each leaf's event is recomputed (leaf.ts) and compared with the stored leaf: an altered event or
 *   link row, a leaf written by hand, or two leaves swapped is named by event id and position;
 *   a leaf whose event is gone is named too, and so is a gap in the leaves;
 * - each link's repeated account, organisation and time against its event, and links whose event
 *   does not exist;
 * - events with no leaf: not pending means written outside the application; pending for more than a
 *   minute means the sequencer is not running; a pending id with no event means a deleted event;
 * - every stored subtree (audit_nodes, what proofs are built from) against the rebuilt one;
 * - every stored checkpoint: signature with the verifier key given here, origin, row against note,
 *   root against the rebuilt root at its size, and a consistency proof (built from the rebuilt tree)
 *   between each and the next;
 * - every note of the published checkpoint file: signature, origin, root against the rebuilt tree.
 *
 * With `from`/`to` ([from, to) on the events' stored time), only the events in that window are
 * recomputed and looked for without a leaf; every other leaf enters the rebuilt tree as stored, so
 * the checkpoints, the subtrees and deleted events are still checked over the whole log. An event
 * whose time was moved out of the window is caught only by a verification without a window.
 */
import type { Clock } from '../context.ts';
import { systemClock } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { originHash } from '../witness/add-checkpoint.ts';
import { verifierKeyFromString } from './checkpoint.ts';
import type { CosignatureVerifier } from './cosignature.ts';
import { TreeEdge } from './edge.ts';
import { subtreeKey } from './ranges.ts';
import { treeSize } from './tree-store.ts';
import { ConsistencyChain } from './verify-chain.ts';
import { compare, publishedCheckpoints, storedCheckpoints } from './verify-checkpoints.ts';
import { type AuditReport, Findings } from './verify-report.ts';
import { findOrphanLinks, findUnsequenced } from './verify-rows.ts';
import {
  fetchWitnessCheckpoint,
  storedCosigned,
  witnessVerdict,
  witnessVerifiers,
} from './verify-witness.ts';
import { chunksInOrder } from './verify-workers.ts';

export type { AuditProblem, AuditReport, ProblemKind } from './verify-report.ts';

/** How to verify: the key to check checkpoints with, the published copy, an optional window. */
export interface VerifyOptions {
  /** The checkpoint verifier key (`name+keyid+key`), from the keyring or given by an auditor. */
  verifierKey: string;
  /** The published checkpoint file (a copy kept outside the database administrators' reach). */
  checkpointFile?: string;
  from?: Date;
  to?: Date;
  onProgress?: (leavesDone: number, leaves: number) => void;
  clock?: Clock;
  /** Leaves read per transaction (default 5000). */
  chunkSize?: number;
  /** Read the next chunk while checking this one (default true; `rempart bench verify` times both). */
  readAhead?: boolean;
  /**
   * Worker threads that read and recompute chunks, each over its own connection to `databaseUrl`
   * (a PostgreSQL server; ignored without it). Default 0: this thread only.
   */
  workers?: number;
  databaseUrl?: string;
  /** Witness cosignature verifier keys whose cosignatures are required (c2sp.org/tlog-cosignature). */
  witnesses?: string[];
  /** Witness URLs to ask for their latest cosigned checkpoint (catches a truncation to an older one). */
  witnessUrls?: string[];
}

/** Verifies the whole audit log (or, with from/to, the events of a window) and reports what is wrong. */
export async function verifyAudit(db: Db, options: VerifyOptions): Promise<AuditReport> {
  let origin: string;
  try {
    origin = verifierKeyFromString(options.verifierKey).name;
  } catch (error) {
    throw new AppError('validation_failed', `the verifier key is invalid: ${(error as Error).message}`, {
      field: 'key',
    });
  }
  let verifiers: CosignatureVerifier[];
  try {
    verifiers = witnessVerifiers(options.witnesses ?? []);
  } catch (error) {
    throw new AppError('validation_failed', (error as Error).message, { field: 'witness' });
  }
  if ((options.witnessUrls ?? []).length > 0 && verifiers.length === 0) {
    throw new AppError('validation_failed', 'a witness URL needs the witness key (--witness)', {
      field: 'witness',
    });
  }
  const report = new Findings();
  const now = (options.clock ?? systemClock).now();
  if (options.from || options.to) {
    report.notes.push(
      'only the events in the window were recomputed; the tree and checkpoints cover the whole log',
    );
  }

  // Everything is append-only: checkpoints first (a note reaches the file only after its leaves
  // are committed), then the size; what is added meanwhile is left for the next verification.
  // Reads go through the sequencer's role, the one that may read audit_pending; nothing is written.
  // Witnesses first: what they cosigned was stored (and published) before anything read below.
  const remote = await Promise.all(
    (options.witnessUrls ?? []).map((url) =>
      fetchWitnessCheckpoint(url, originHash(origin), verifiers, options.verifierKey, origin),
    ),
  );
  const cosigned = await storedCosigned(db, verifiers, options.verifierKey, origin);
  const published = options.checkpointFile
    ? await publishedCheckpoints(options.checkpointFile, options.verifierKey, origin)
    : undefined;
  const stored = await storedCheckpoints(db, options.verifierKey, origin);
  const size = await db.sequencerTx(treeSize);
  if (options.checkpointFile && published === undefined) {
    report.notes.push(`no published checkpoint file at ${options.checkpointFile}`);
  }
  const all = [...stored, ...(published ?? []), ...cosigned, ...remote];
  const targets = new Map<number, Buffer | undefined>(
    all.filter((c) => c.size >= 0).map((c) => [c.size, undefined]),
  );
  const chain = new ConsistencyChain(
    stored.filter((c) => c.size <= size),
    report,
  );

  const edge = TreeEdge.empty();
  const atSize = (): void => {
    if (targets.has(edge.size)) targets.set(edge.size, edge.root());
    chain.at(edge);
  };
  atSize();
  const chunkSize = options.chunkSize ?? 5000;
  let events = 0;
  const chunks = chunksInOrder(db, {
    size,
    chunkSize,
    ...(options.from ? { from: options.from } : {}),
    ...(options.to ? { to: options.to } : {}),
    ...(options.readAhead === undefined ? {} : { readAhead: options.readAhead }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
  });
  for await (const chunk of chunks) {
    const { hi } = chunk;
    events += chunk.events;
    const storedByHash = new Map(chunk.leaves.map((l) => [l.hash.toString('hex'), l]));
    const { recomputed } = chunk;
    const eventByHash = new Map([...recomputed].map(([id, h]) => [h.toString('hex'), id]));
    for (const leaf of chunk.leaves) {
      while (edge.size < leaf.seq) {
        report.add({ kind: 'missing_leaf', seq: edge.size, message: `leaf ${edge.size} is missing` });
        appendChecked(edge, Buffer.alloc(32), chunk.nodes, report, chain);
        atSize();
      }
      const at = `leaf ${leaf.seq} (event ${leaf.eventId})`;
      let hash = leaf.hash;
      if (!leaf.present) {
        report.add({
          kind: 'deleted',
          eventId: leaf.eventId,
          seq: leaf.seq,
          message: `${at}: the event is gone`,
        });
      } else {
        const own = recomputed.get(leaf.eventId);
        if (own !== undefined) {
          hash = own;
          if (!own.equals(leaf.hash)) {
            const holder = eventByHash.get(leaf.hash.toString('hex'));
            const movedTo = storedByHash.get(own.toString('hex'));
            if (holder !== undefined || movedTo !== undefined) {
              const why =
                holder !== undefined
                  ? `it holds the leaf of event ${holder}`
                  : `the event's leaf is at ${movedTo?.seq}`;
              report.add({
                kind: 'reordered',
                eventId: leaf.eventId,
                seq: leaf.seq,
                message: `${at}: ${why} (leaves reordered)`,
              });
            } else {
              report.add({
                kind: 'altered',
                eventId: leaf.eventId,
                seq: leaf.seq,
                message: `${at}: the event and its links no longer hash to the leaf (altered, or a leaf written by hand)`,
              });
            }
          }
          for (const personId of chunk.linkMismatches.get(leaf.eventId) ?? []) {
            report.add({
              kind: 'link',
              eventId: leaf.eventId,
              seq: leaf.seq,
              message: `${at}: the link to person ${personId} differs from the event (account, organisation or time)`,
            });
          }
        }
      }
      appendChecked(edge, hash, chunk.nodes, report, chain);
      atSize();
    }
    options.onProgress?.(hi, size);
  }

  await findUnsequenced(db, options, now, report);
  await findOrphanLinks(db, options, report);
  for (const c of stored) compare(c, size, targets, 'checkpoint', report);
  for (const c of published ?? []) compare(c, size, targets, 'published', report);
  const witnessed = witnessVerdict(verifiers, [...cosigned, ...remote], size, targets, report);

  return {
    ok: report.count === 0,
    events,
    leaves: size,
    checkpoints: stored.length,
    publishedCheckpoints: (published ?? []).length,
    ...(report.first ? { firstMismatch: report.first } : {}),
    problems: report.list,
    problemCount: report.count,
    notes: report.notes,
    ...witnessed,
  };
}

/** Appends a leaf to the rebuilt tree and holds each subtree it completes against the stored one. */
function appendChecked(
  edge: TreeEdge,
  leaf: Buffer,
  stored: Map<string, Buffer>,
  report: Findings,
  chain: ConsistencyChain,
): void {
  for (const node of edge.append(leaf)) {
    chain.completed(node, node.hash);
    if (node.level === 0) continue;
    const key = subtreeKey(node);
    const found = stored.get(key);
    const leaves = `leaves ${node.idx * 2 ** node.level}–${(node.idx + 1) * 2 ** node.level - 1}`;
    if (found === undefined) {
      report.add({
        kind: 'node',
        message: `stored subtree ${key} (${leaves}) is missing: proofs through it fail`,
      });
    } else if (!found.equals(node.hash)) {
      report.add({
        kind: 'node',
        message: `stored subtree ${key} (${leaves}) differs from the one rebuilt from the events`,
      });
    }
  }
}
