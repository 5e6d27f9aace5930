/**
 * The reads of `audit verify` (verify.ts), all through the sequencer's role, the one allowed to
 * read audit_pending; nothing is written. Each is bounded: a chunk of leaves, or a capped list.
 */
import type { Db } from '../db/types.ts';
import { eventLeafHash, loadEvents, type StoredEvent } from './leaf.ts';
import { subtreeKey } from './ranges.ts';
import type { Findings } from './verify-report.ts';

/** A queued event older than this means the sequencer is not running. */
const STUCK_MS = 60_000;

/** A time window [from, to) on the events' stored time; either end may be open. */
export interface Window {
  from?: Date | undefined;
  to?: Date | undefined;
}

/** One chunk of leaves, the events recomputed among them, and the stored subtrees they complete. */
export interface Chunk {
  leaves: { seq: number; eventId: string; hash: Buffer; present: boolean }[];
  events: Map<string, StoredEvent>;
  linkMismatches: Map<string, string[]>;
  /** The stored subtrees (level ≥ 1) completed by this chunk's leaves, by subtreeKey. */
  nodes: Map<string, Buffer>;
}

/** One chunk of leaves [lo, hi) with their events (those in the window) and the subtrees they complete. */
export function readChunk(db: Db, lo: number, hi: number, inWindow: (at: Date) => boolean): Promise<Chunk> {
  return db.sequencerTx(async (tx) => {
    const rows = await tx.query<{
      seq: string;
      event_id: string;
      hash: Uint8Array;
      occurred_at: Date | null;
    }>(
      // Each leaf's event is probed by its key (a subquery per leaf): a join let the planner hash the
      // whole events table for every chunk, a verification quadratic in the log's size (bench verify).
      `SELECT l.seq, l.event_id::text AS event_id, l.hash,
              (SELECT e.occurred_at FROM audit_events e WHERE e.id = l.event_id) AS occurred_at
         FROM audit_leaves l
        WHERE l.seq >= $1 AND l.seq < $2 ORDER BY l.seq`,
      [lo, hi],
    );
    const ids = rows.filter((r) => r.occurred_at !== null && inWindow(r.occurred_at)).map((r) => r.event_id);
    const { events, mismatches } = await loadEvents(tx, ids);
    const linkMismatches = new Map<string, string[]>();
    for (const m of mismatches)
      linkMismatches.set(m.eventId, [...(linkMismatches.get(m.eventId) ?? []), m.personId]);
    // Node (level, idx) completes at size (idx + 1) · 2^level: those completing in (lo, hi].
    const levels: number[] = [];
    const froms: number[] = [];
    const tos: number[] = [];
    for (let level = 1; 2 ** level <= hi; level += 1) {
      const width = 2 ** level;
      const from = Math.floor(lo / width);
      const to = Math.floor(hi / width) - 1;
      if (to >= from) [levels.push(level), froms.push(from), tos.push(to)];
    }
    const nodeRows = await tx.query<{ level: number; idx: string; hash: Uint8Array }>(
      // One range scan of the key per level (OFFSET 0 keeps the subquery apart): a plain join let
      // the planner hash the whole table for every chunk.
      `SELECT n.level::int AS level, n.idx::text AS idx, n.hash
         FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS w (level, lo, hi)
         CROSS JOIN LATERAL (
           SELECT a.level, a.idx, a.hash FROM audit_nodes a
            WHERE a.level = w.level AND a.idx BETWEEN w.lo AND w.hi OFFSET 0) n`,
      [levels, froms, tos],
    );
    return {
      leaves: rows.map((r) => ({
        seq: Number(r.seq),
        eventId: r.event_id,
        hash: Buffer.from(r.hash),
        present: r.occurred_at !== null,
      })),
      events: new Map(events.map((e) => [e.id, e])),
      linkMismatches,
      nodes: new Map(
        nodeRows.map((r) => [subtreeKey({ level: r.level, idx: Number(r.idx) }), Buffer.from(r.hash)]),
      ),
    };
  });
}

/**
 * A chunk as the verification folds it into the tree: its leaves, each recomputed leaf hash of the
 * events in the window (by event id), how many events that is, the links that differ from their
 * event, and the stored subtrees the chunk completes. What a worker thread sends back
 * (verify-workers.ts): plain data, no event.
 */
export interface CheckedChunk {
  leaves: Chunk['leaves'];
  recomputed: Map<string, Buffer>;
  events: number;
  linkMismatches: Map<string, string[]>;
  nodes: Map<string, Buffer>;
}

/** Reads the chunk [lo, hi) and recomputes the leaf of each of its events in the window. */
export async function checkChunk(
  db: Db,
  lo: number,
  hi: number,
  inWindow: (at: Date) => boolean,
): Promise<CheckedChunk> {
  const chunk = await readChunk(db, lo, hi, inWindow);
  const recomputed = new Map<string, Buffer>();
  for (const event of chunk.events.values()) recomputed.set(event.id, eventLeafHash(event));
  return {
    leaves: chunk.leaves,
    recomputed,
    events: chunk.events.size,
    linkMismatches: chunk.linkMismatches,
    nodes: chunk.nodes,
  };
}

/** `[from, to)` as a test on an event's time; either end may be open. */
export function windowTest(window: Window): (at: Date) => boolean {
  return (at) =>
    (window.from === undefined || at >= window.from) && (window.to === undefined || at < window.to);
}

/** Events without a leaf: written outside the application, or stuck in the queue; and queued ids with no event. */
export async function findUnsequenced(db: Db, options: Window, now: Date, report: Findings): Promise<void> {
  const { unsequenced, orphans } = await db.sequencerTx(async (tx) => ({
    // Pending events younger than a minute are the sequencer's ordinary backlog: left out in SQL.
    unsequenced: await tx.query<{ id: string; occurred_at: Date; pending: boolean }>(
      `SELECT e.id::text AS id, e.occurred_at, (q.event_id IS NOT NULL) AS pending
         FROM audit_events e LEFT JOIN audit_pending q ON q.event_id = e.id
        WHERE NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.event_id = e.id)
          AND (q.event_id IS NULL OR e.occurred_at < $3)
          AND ($1::timestamptz IS NULL OR e.occurred_at >= $1) AND ($2::timestamptz IS NULL OR e.occurred_at < $2)
        ORDER BY e.id LIMIT 1000`,
      [options.from ?? null, options.to ?? null, new Date(now.getTime() - STUCK_MS)],
    ),
    orphans: await tx.query<{ id: string }>(
      `SELECT q.event_id::text AS id FROM audit_pending q
        WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = q.event_id) ORDER BY q.event_id LIMIT 100`,
    ),
  }));
  for (const e of unsequenced) {
    if (!e.pending) {
      report.add({
        kind: 'inserted',
        eventId: e.id,
        message: `event ${e.id} has no leaf and was never queued: it was written outside the application`,
      });
    } else {
      report.add({
        kind: 'stuck',
        eventId: e.id,
        message: `event ${e.id} has waited more than a minute for the sequencer (is one running?)`,
      });
    }
  }
  for (const o of orphans) {
    report.add({
      kind: 'deleted',
      eventId: o.id,
      message: `event ${o.id} was queued for the sequencer but is gone`,
    });
  }
}

const ORPHAN_LINKS = `SELECT p.event_id::text AS event_id, p.person_id::text AS person_id, count(*) OVER () AS n
    FROM audit_event_persons p
   WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = p.event_id)
     AND ($1::timestamptz IS NULL OR p.occurred_at >= $1) AND ($2::timestamptz IS NULL OR p.occurred_at < $2)
   ORDER BY p.event_id, p.person_id LIMIT 20`;

/**
 * ORPHAN_LINKS on Citus (docs/SCALING.md): the links of the window, from every shard, as an
 * intermediate result checked against the events on the coordinator (Citus cannot correlate a
 * distributed table with the coordinator's). Linear in the window's links, as the tree's rebuild is
 * in its events.
 */
const ORPHAN_LINKS_CITUS = `WITH p AS MATERIALIZED (
    SELECT event_id, person_id FROM audit_event_persons
     WHERE ($1::timestamptz IS NULL OR occurred_at >= $1) AND ($2::timestamptz IS NULL OR occurred_at < $2))
  SELECT p.event_id::text AS event_id, p.person_id::text AS person_id, count(*) OVER () AS n
    FROM p
   WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = p.event_id)
   ORDER BY p.event_id, p.person_id LIMIT 20`;

/** Links whose event does not exist (in the window, by the link's time). */
export async function findOrphanLinks(db: Db, options: Window, report: Findings): Promise<void> {
  const rows = await db.sequencerTx((tx) =>
    tx.query<{ event_id: string; person_id: string; n: string }>(
      tx.distributed ? ORPHAN_LINKS_CITUS : ORPHAN_LINKS,
      [options.from ?? null, options.to ?? null],
    ),
  );
  for (const r of rows) {
    report.add({
      kind: 'orphan_link',
      eventId: r.event_id,
      message: `a link to person ${r.person_id} names event ${r.event_id}, which does not exist`,
    });
  }
  report.count += Number(rows[0]?.n ?? 0) - rows.length;
}
