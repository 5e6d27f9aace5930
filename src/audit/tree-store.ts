/**
 * Reading the stored Merkle tree (migration 0006): leaves in audit_leaves (level 0, idx = seq) and
 * the root of every complete subtree of level ≥ 1 in audit_nodes. Any set of perfect subtrees is one
 * query, so a proof or the sequencer's right edge costs O(1) queries and O(log n) rows.
 */
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { TreeEdge } from './edge.ts';
import { coverOf, type Subtree, subtreeKey } from './ranges.ts';

/** The number of sequenced leaves (the next leaf's seq). */
export async function treeSize(tx: Tx): Promise<number> {
  const [row] = await tx.query<{ size: string }>(
    'SELECT coalesce(max(seq) + 1, 0)::text AS size FROM audit_leaves',
  );
  return Number(row?.size ?? 0);
}

/** The stored hashes of these perfect subtrees, by subtreeKey; a subtree not stored is absent. */
export async function readSubtrees(tx: Tx, subtrees: readonly Subtree[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  if (subtrees.length === 0) return found;
  const nodes = subtrees.filter((s) => s.level > 0);
  const leaves = subtrees.filter((s) => s.level === 0).map((s) => s.idx);
  const rows = await tx.query<{ level: number; idx: string; hash: Uint8Array }>(
    `SELECT n.level::int AS level, n.idx::text AS idx, n.hash
       FROM unnest($1::int[], $2::bigint[]) AS w (level, idx)
       JOIN audit_nodes n ON n.level = w.level AND n.idx = w.idx
     UNION ALL
     SELECT 0, seq::text, hash FROM audit_leaves WHERE seq = ANY($3::bigint[])`,
    [nodes.map((s) => s.level), nodes.map((s) => s.idx), leaves],
  );
  for (const row of rows) {
    found.set(subtreeKey({ level: row.level, idx: Number(row.idx) }), Buffer.from(row.hash));
  }
  return found;
}

/** The hashes of these subtrees in order; throws if the tree lacks one (it was tampered with). */
export async function requireSubtrees(tx: Tx, subtrees: readonly Subtree[]): Promise<Buffer[]> {
  const found = await readSubtrees(tx, subtrees);
  return subtrees.map((s) => {
    const hash = found.get(subtreeKey(s));
    if (hash === undefined) {
      throw new AppError(
        'internal',
        `the audit tree has no ${s.level === 0 ? 'leaf' : 'node'} ${subtreeKey(s)}`,
      );
    }
    return hash;
  });
}

/** The right edge of the stored tree at `size` leaves, to append to (the sequencer). */
export async function loadEdge(tx: Tx, size: number): Promise<TreeEdge> {
  if (size === 0) return TreeEdge.empty();
  return TreeEdge.fromCover(size, await requireSubtrees(tx, coverOf({ start: 0, end: size })));
}
