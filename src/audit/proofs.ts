/**
 * Proofs served from the stored tree (docs/DESIGN.md section 7): inclusion ("this event is in the log")
 * and consistency ("this checkpoint extends that one"), RFC 6962 §2.1.1–2.1.2, each O(log n): the
 * subtree hashes a proof needs are read in one query from audit_leaves and audit_nodes, whatever the
 * log's size. Anyone holding a signed checkpoint checks them with merkle.ts's verifyInclusion and
 * verifyConsistency (or any Certificate Transparency tooling).
 */
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import {
  consistencyRanges,
  coverOf,
  foldCover,
  inclusionRanges,
  type LeafRange,
  subtreeKey,
} from './ranges.ts';
import { requireSubtrees, treeSize } from './tree-store.ts';

/** An inclusion proof of one event's leaf in the tree of `treeSize` leaves; hashes in hex. */
export interface InclusionProof {
  eventId: string;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  proof: string[];
}

/** The latest signed checkpoint, as stored. */
export interface StoredCheckpoint {
  treeSize: number;
  rootHash: string;
  signedAt: Date;
  /** The C2SP signed note, as published. */
  note: string;
}

/** The newest checkpoint, or null before the first one. */
export async function latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | null> {
  const [row] = await tx.query<{ tree_size: string; root_hash: Uint8Array; signed_at: Date; note: string }>(
    'SELECT tree_size, root_hash, signed_at, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1',
  );
  if (!row) return null;
  return {
    treeSize: Number(row.tree_size),
    rootHash: Buffer.from(row.root_hash).toString('hex'),
    signedAt: row.signed_at,
    note: row.note,
  };
}

/**
 * The proof that event `eventId` is in the tree of `treeSize` leaves (default: the latest
 * checkpoint's size, so the proof checks against a signed root). not_found when the event has no
 * leaf inside that tree yet.
 */
export async function inclusionProofFor(tx: Tx, eventId: string, size?: number): Promise<InclusionProof> {
  if (!/^[1-9][0-9]{0,18}$/.test(eventId))
    throw new AppError('validation_failed', 'eventId is not an event id');
  const target = size ?? (await latestCheckpoint(tx))?.treeSize ?? 0;
  await checkSize(tx, target, 'treeSize');
  const [leaf] = await tx.query<{ seq: string; hash: Uint8Array }>(
    'SELECT seq, hash FROM audit_leaves WHERE event_id = $1',
    [eventId],
  );
  if (!leaf || Number(leaf.seq) >= target) {
    throw new AppError('not_found', `event ${eventId} is not in the audit tree of size ${target}`);
  }
  const leafIndex = Number(leaf.seq);
  const proof = await rangeHashes(tx, inclusionRanges(leafIndex, target));
  return {
    eventId,
    leafIndex,
    treeSize: target,
    leafHash: Buffer.from(leaf.hash).toString('hex'),
    proof: proof.map((h) => h.toString('hex')),
  };
}

/**
 * The inclusion proofs of several events in the tree of `size` leaves, by event id: one query for
 * their leaves and one for every subtree hash the proofs need (a history page of 100 entries in two
 * reads instead of three per entry). Events without a leaf inside that tree are absent from the map.
 */
export async function inclusionProofsFor(
  tx: Tx,
  eventIds: readonly string[],
  size: number,
): Promise<Map<string, InclusionProof>> {
  for (const id of eventIds)
    if (!/^[1-9][0-9]{0,18}$/.test(id)) throw new AppError('validation_failed', 'eventId is not an event id');
  await checkSize(tx, size, 'treeSize');
  const proofs = new Map<string, InclusionProof>();
  if (eventIds.length === 0) return proofs;
  const leaves = await tx.query<{ event_id: string; seq: string; hash: Uint8Array }>(
    'SELECT event_id::text AS event_id, seq::text AS seq, hash FROM audit_leaves WHERE event_id = ANY($1::bigint[]) AND seq < $2',
    [eventIds, size],
  );
  const covers = leaves.map((leaf) => inclusionRanges(Number(leaf.seq), size).map(coverOf));
  // The proofs share their upper subtrees: each is read once.
  const unique = [...new Map(covers.flat(2).map((s) => [subtreeKey(s), s])).values()];
  const hashes = new Map(unique.map((s, i) => [subtreeKey(s), i]));
  const read = await requireSubtrees(tx, unique);
  leaves.forEach((leaf, i) => {
    const proof = covers[i]!.map((cover) =>
      foldCover(cover.map((s) => read[hashes.get(subtreeKey(s))!]!)).toString('hex'),
    );
    proofs.set(leaf.event_id, {
      eventId: leaf.event_id,
      leafIndex: Number(leaf.seq),
      treeSize: size,
      leafHash: Buffer.from(leaf.hash).toString('hex'),
      proof,
    });
  });
  return proofs;
}

/** The proof that the tree of `fromSize` leaves is a prefix of the tree of `toSize` leaves (hex). */
export async function consistencyProofFor(tx: Tx, fromSize: number, toSize: number): Promise<string[]> {
  await checkSize(tx, toSize, 'toSize');
  if (!Number.isSafeInteger(fromSize) || fromSize < 0 || fromSize > toSize) {
    throw new AppError('validation_failed', 'fromSize must be between 0 and toSize', { field: 'fromSize' });
  }
  const proof = await rangeHashes(tx, consistencyRanges(fromSize, toSize));
  return proof.map((h) => h.toString('hex'));
}

/** MTH of each range, from the stored perfect subtrees that cover them, read in one query. */
async function rangeHashes(tx: Tx, ranges: readonly LeafRange[]): Promise<Buffer[]> {
  const covers = ranges.map(coverOf);
  const hashes = await requireSubtrees(tx, covers.flat());
  let at = 0;
  return covers.map((cover) => {
    const part = hashes.slice(at, at + cover.length);
    at += cover.length;
    return foldCover(part);
  });
}

async function checkSize(tx: Tx, size: number, field: string): Promise<void> {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new AppError('validation_failed', `${field} must be an integer ≥ 0`, { field });
  }
  const current = await treeSize(tx);
  if (size > current) {
    throw new AppError('validation_failed', `${field} ${size} exceeds the audit tree's ${current} leaves`, {
      field,
    });
  }
}
