/**
 * The right edge of the audit log's Merkle tree while it grows (RFC 6962 §2.1), reporting every
 * perfect subtree each leaf completes: the sequencer stores them (audit_nodes) so proofs are
 * O(log n) reads, and `audit verify` compares them with the stored ones while it rebuilds the tree
 * in O(log n) memory (docs/DESIGN.md section 7). merkle.ts's MerkleFrontier is the same counter without
 * the completed subtrees.
 */
import { EMPTY_ROOT, nodeHash } from './merkle.ts';
import { coverOf, foldCover, type Subtree } from './ranges.ts';

/** A perfect subtree with its hash. */
export interface SubtreeHash extends Subtree {
  hash: Buffer;
}

/** The growing tree's right edge: one perfect subtree per set bit of its size, largest first. */
export class TreeEdge {
  #size: number;
  readonly #entries: SubtreeHash[];

  private constructor(size: number, entries: SubtreeHash[]) {
    this.#size = size;
    this.#entries = entries;
  }

  /** An empty tree. */
  static empty(): TreeEdge {
    return new TreeEdge(0, []);
  }

  /** The edge of a tree of `size` leaves from the hashes of coverOf([0, size)), in that order. */
  static fromCover(size: number, hashes: readonly Uint8Array[]): TreeEdge {
    const cover = size === 0 ? [] : coverOf({ start: 0, end: size });
    if (hashes.length !== cover.length) {
      throw new RangeError(
        `a tree of ${size} leaves has ${cover.length} edge subtrees, not ${hashes.length}`,
      );
    }
    return new TreeEdge(
      size,
      cover.map((s, i) => ({ ...s, hash: Buffer.from(hashes[i] as Uint8Array) })),
    );
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** The edge subtrees, left to right (coverOf([0, size))). */
  entries(): readonly SubtreeHash[] {
    return this.#entries;
  }

  /** Appends one leaf hash; returns the subtrees it completes, the leaf (level 0) first, then upward. */
  append(leaf: Uint8Array): SubtreeHash[] {
    if (leaf.length !== 32) throw new RangeError(`a leaf hash is 32 bytes, not ${leaf.length}`);
    let node: SubtreeHash = { level: 0, idx: this.#size, hash: Buffer.from(leaf) };
    const completed = [node];
    // A binary counter carrying: equal-size neighbours merge into their parent (RFC 6962 §2.1).
    for (let left = this.#entries.at(-1); left !== undefined && left.level === node.level; ) {
      this.#entries.pop();
      node = { level: node.level + 1, idx: left.idx / 2, hash: nodeHash(left.hash, node.hash) };
      completed.push(node);
      left = this.#entries.at(-1);
    }
    this.#entries.push(node);
    this.#size += 1;
    return completed;
  }

  /** RFC 6962 §2.1: MTH of every leaf so far. */
  root(): Buffer {
    if (this.#entries.length === 0) return Buffer.from(EMPTY_ROOT);
    return foldCover(this.#entries.map((e) => e.hash));
  }
}
