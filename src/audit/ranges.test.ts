import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TreeEdge } from './edge.ts';
import { consistencyProof, inclusionProof, leafHash, rootOf } from './merkle.ts';
import {
  consistencyRanges,
  coverOf,
  foldCover,
  inclusionRanges,
  type LeafRange,
  type Subtree,
  subtreeEnd,
} from './ranges.ts';

const N = 70;
const leaves = Array.from({ length: N }, (_, i) =>
  leafHash(createHash('sha256').update(`event ${i}`).digest()),
);

/** The hash of a perfect subtree, straight from the leaves (what audit_nodes stores). */
const perfect = (s: Subtree): Buffer => rootOf(leaves.slice(s.idx * 2 ** s.level, subtreeEnd(s)));
const hashOf = (r: LeafRange): Buffer => foldCover(coverOf(r).map(perfect));

describe('proof ranges folded from perfect subtrees equal merkle.ts array-based proofs', () => {
  it('inclusion, every index of every size up to 70', () => {
    for (let size = 1; size <= N; size += 1) {
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionRanges(index, size).map(hashOf);
        expect(proof).toEqual(inclusionProof(leaves, index, size));
      }
    }
  });

  it('consistency, every pair of sizes up to 70', () => {
    for (let newSize = 0; newSize <= N; newSize += 1) {
      for (let oldSize = 0; oldSize <= newSize; oldSize += 1) {
        const proof = consistencyRanges(oldSize, newSize).map(hashOf);
        expect(proof).toEqual(consistencyProof(leaves, oldSize, newSize));
      }
    }
  });

  it('the cover of [0, size) is one perfect subtree per set bit of size, and folds to the root', () => {
    for (let size = 1; size <= N; size += 1) {
      const cover = coverOf({ start: 0, end: size });
      expect(cover.map((s) => 2 ** s.level).reduce((a, b) => a + b, 0)).toBe(size);
      expect(new Set(cover.map((s) => s.level)).size).toBe(cover.length);
      expect(foldCover(cover.map(perfect)).equals(rootOf(leaves.slice(0, size)))).toBe(true);
    }
  });

  it('refuses a range that is not a node of a Merkle tree', () => {
    expect(() => coverOf({ start: 1, end: 3 })).toThrow(RangeError);
    expect(() => coverOf({ start: 3, end: 3 })).toThrow(RangeError);
  });
});

describe('TreeEdge', () => {
  it('has the root of every prefix and reports each perfect subtree once, when complete', () => {
    let edge = TreeEdge.empty();
    expect(edge.root().equals(rootOf([]))).toBe(true);
    const seen = new Set<string>();
    for (let i = 0; i < N; i += 1) {
      const completed = edge.append(leaves[i]!);
      expect(completed[0]).toMatchObject({ level: 0, idx: i });
      for (const node of completed) {
        expect(subtreeEnd(node)).toBe(i + 1);
        expect(node.hash.equals(perfect(node))).toBe(true);
        const key = `${node.level}/${node.idx}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
      expect(edge.root().equals(rootOf(leaves.slice(0, i + 1)))).toBe(true);
      // Rebuilt from its cover (what the sequencer reads back), it carries on identically.
      edge = TreeEdge.fromCover(
        edge.size,
        edge.entries().map((e) => e.hash),
      );
    }
    // Every perfect subtree of a 70-leaf tree: 70 leaves + 35 + 17 + 8 + 4 + 2 + 1.
    expect(seen.size).toBe(70 + 35 + 17 + 8 + 4 + 2 + 1);
  });

  it('refuses a cover of the wrong length', () => {
    expect(() => TreeEdge.fromCover(3, [leaves[0]!])).toThrow(RangeError);
  });
});
