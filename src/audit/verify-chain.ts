/**
 * Consistency between successive signed checkpoints for `audit verify` (docs/DESIGN.md section 7):
 * RFC 6962 §2.1.2 proofs built from the tree as verify.ts rebuilds it, checked with
 * verifyConsistency against the signed roots.
 */
import type { TreeEdge } from './edge.ts';
import { EMPTY_ROOT, verifyConsistency } from './merkle.ts';
import { consistencyRanges, coverOf, foldCover, type Subtree, subtreeKey } from './ranges.ts';
import type { CheckedCheckpoint } from './verify-checkpoints.ts';
import type { Findings } from './verify-report.ts';

/**
 * Consistency between each stored checkpoint and the next, with RFC 6962 proofs built from the
 * rebuilt tree as it grows: the subtrees a proof needs are the right edge at the older size and
 * subtrees completed between the two sizes, so O(log n) hashes are kept at a time.
 */
export class ConsistencyChain {
  readonly #checkpoints: CheckedCheckpoint[];
  readonly #report: Findings;
  #next = 0;
  #open:
    | {
        from: CheckedCheckpoint;
        to: CheckedCheckpoint;
        covers: Subtree[][];
        have: Map<string, Buffer>;
        /** Needed subtrees not on the edge at `from`: they complete before `to`. */
        wanted: Set<string>;
      }
    | undefined;

  constructor(checkpoints: CheckedCheckpoint[], report: Findings) {
    this.#checkpoints = checkpoints.filter((c) => c.size >= 0);
    this.#report = report;
  }

  /** Called at every size of the rebuilt tree. */
  at(edge: TreeEdge): void {
    const open = this.#open;
    if (open && open.to.size === edge.size) {
      const hashes = open.covers.map((cover) => {
        const parts = cover.map((s) => open.have.get(subtreeKey(s)));
        return parts.every((p) => p !== undefined) ? foldCover(parts as Buffer[]) : undefined;
      });
      const proof = hashes.filter((h) => h !== undefined);
      if (
        proof.length !== hashes.length ||
        !verifyConsistency(open.from.size, open.to.size, open.from.root, open.to.root, proof)
      ) {
        this.#report.add({
          kind: 'consistency',
          treeSize: open.to.size,
          message: `${open.to.label} does not extend ${open.from.label} (RFC 6962 consistency proof fails)`,
        });
      }
      this.#open = undefined;
    }
    const from = this.#checkpoints[this.#next];
    if (from === undefined || from.size !== edge.size) return;
    this.#next += 1;
    const to = this.#checkpoints[this.#next];
    if (to === undefined || from.root.length !== 32 || to.root.length !== 32) return;
    if (from.size === 0 && !from.root.equals(EMPTY_ROOT)) return; // reported as a root mismatch
    const covers = consistencyRanges(from.size, to.size).map(coverOf);
    const onEdge = new Map(edge.entries().map((e) => [subtreeKey(e), e.hash]));
    const have = new Map<string, Buffer>();
    const wanted = new Set<string>();
    for (const key of covers.flat().map(subtreeKey)) {
      const hash = onEdge.get(key);
      if (hash) have.set(key, hash);
      else wanted.add(key);
    }
    this.#open = { from, to, covers, have, wanted };
  }

  /** Called for every subtree the rebuilt tree completes (leaves included). */
  completed(node: Subtree, hash: Buffer): void {
    const open = this.#open;
    if (open === undefined) return;
    const key = subtreeKey(node);
    if (open.wanted.has(key)) open.have.set(key, hash);
  }
}
