/**
 * Which subtree hashes a proof needs (RFC 6962 §2.1.1–2.1.2), as ranges of leaves, and how each
 * range's hash MTH(D[a:b]) folds from stored perfect subtrees (docs/DESIGN.md section 7: proofs are
 * O(log n) reads). The same walk as merkle.ts's array-based proofs, without the leaves: the sequencer,
 * the proofs served from the database and `audit verify` all decide what to read with it. Sizes and
 * indexes are plain numbers handled with arithmetic (exact up to 2^53), like merkle.ts.
 */
import { nodeHash } from './merkle.ts';

/** A perfect subtree: the 2^level leaves from idx · 2^level (level 0 is one leaf). */
export interface Subtree {
  level: number;
  idx: number;
}

/** The leaves [start, end). */
export interface LeafRange {
  start: number;
  end: number;
}

/** A stable key for maps of subtree hashes. */
export function subtreeKey(s: Subtree): string {
  return `${s.level}/${s.idx}`;
}

/** The tree size at which a perfect subtree is complete: (idx + 1) · 2^level. */
export function subtreeEnd(s: Subtree): number {
  return (s.idx + 1) * 2 ** s.level;
}

/** RFC 6962 §2.1.1: the ranges whose hashes form PATH(index, D[size]), from the leaf up. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  checkCount('size', size);
  checkCount('index', index);
  if (index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      ranges.push({ start: lo, end: lo + k });
      lo += k;
    }
  }
  return ranges.reverse();
}

/** RFC 6962 §2.1.2: the ranges whose hashes form PROOF(oldSize, D[newSize]), in proof order. */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  checkCount('oldSize', oldSize);
  checkCount('newSize', newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const ranges: LeafRange[] = [];
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let complete = true; // SUBPROOF's b: the verifier already holds MTH(D[lo:lo+m])
  while (m !== hi - lo) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      ranges.push({ start: lo, end: lo + k });
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) ranges.push({ start: lo, end: hi });
  return ranges.reverse();
}

/**
 * The perfect subtrees whose hashes fold (foldCover) into MTH(D[start:end]), left to right, for a
 * range that is a node of an RFC 6962 tree (every range a proof names, and [0, size) itself: then
 * they are the tree's right edge, one per set bit of the size). Throws for any other range.
 */
export function coverOf(range: LeafRange): Subtree[] {
  const { start, end } = range;
  checkCount('start', start);
  checkCount('end', end);
  if (end <= start) throw new RangeError(`empty range [${start}, ${end})`);
  const cover: Subtree[] = [];
  let a = start;
  while (a < end) {
    const n = end - a;
    const width = isPowerOfTwo(n) ? n : largestPowerOfTwoBelow(n);
    if (a % width !== 0) throw new RangeError(`[${start}, ${end}) is not a node of a Merkle tree`);
    cover.push({ level: log2(width), idx: a / width });
    a += width;
  }
  return cover;
}

/** MTH of a range from the hashes of its cover, left to right: RFC 6962 §2.1 folded from the right. */
export function foldCover(hashes: readonly Uint8Array[]): Buffer {
  const last = hashes.at(-1);
  if (last === undefined) throw new RangeError('a cover holds at least one subtree');
  let h: Buffer = Buffer.from(last);
  for (let i = hashes.length - 2; i >= 0; i -= 1) h = nodeHash(hashes[i] as Uint8Array, h);
  return h;
}

/** The largest power of two strictly below n, for n ≥ 2 (RFC 6962 §2.1's k). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function log2(powerOfTwo: number): number {
  let level = 0;
  for (let k = 1; k < powerOfTwo; k *= 2) level += 1;
  return level;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, not ${value}`);
  }
}
