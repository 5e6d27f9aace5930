import { createHash } from 'node:crypto';

// Merkle tree hashing of the audit log (docs/DESIGN.md §7), exactly as Certificate Transparency does it
// (RFC 6962 §2.1, restated in RFC 9162 §2.1), so that any CT tooling can check our proofs. The
// 0x00 / 0x01 prefixes separate leaves from interior nodes, which stops a second-preimage attack
// that passes an interior node off as a leaf. Sizes and indexes are plain numbers handled with
// arithmetic rather than 32-bit bitwise operators, so they stay exact up to 2^53.

const HASH_BYTES = 32;
const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/** RFC 6962 §2.1: MTH({}) = SHA-256(), the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** RFC 6962 §2.1: the hash of one leaf, SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 6962 §2.1: the hash of an interior node, SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** RFC 6962 §2.1: MTH(D[n]), the root of the tree over these leaf hashes. */
export function rootOf(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return Buffer.from(EMPTY_ROOT);
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/** RFC 6962 §2.1.1: PATH(index, D[size]), the inclusion proof of leaf `index` in the first `size` leaves. */
export function inclusionProof(leafHashes: readonly Buffer[], index: number, size: number): Buffer[] {
  checkCount('size', size);
  checkCount('index', index);
  if (index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
  if (size > leafHashes.length)
    throw new RangeError(`size ${size} exceeds the ${leafHashes.length} leaves given`);
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = size;
  // Walk down from the root; the sibling of each subtree we enter goes into the proof. PATH lists
  // siblings from the leaf up, so we collect top-down and reverse.
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      proof.push(subtreeRoot(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
    }
  }
  return proof.reverse();
}

/** RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` leaves with this root. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  checkCount('size', size);
  checkCount('index', index);
  if (index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
  if (leaf.length !== HASH_BYTES || root.length !== HASH_BYTES) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== HASH_BYTES) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/** RFC 6962 §2.1.2: PROOF(oldSize, D[newSize]), the proof that the first `oldSize` leaves are a prefix of the first `newSize`. */
export function consistencyProof(leafHashes: readonly Buffer[], oldSize: number, newSize: number): Buffer[] {
  checkCount('oldSize', oldSize);
  checkCount('newSize', newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  if (newSize > leafHashes.length) {
    throw new RangeError(`newSize ${newSize} exceeds the ${leafHashes.length} leaves given`);
  }
  // RFC 6962 defines PROOF for 0 < m < n; the empty tree and an unchanged tree need no proof.
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step descends into one half and records the other.
  const proof: Buffer[] = [];
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let complete = true; // b: whether D[lo:lo+m] is a subtree whose root the verifier already holds
  while (m !== hi - lo) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      proof.push(subtreeRoot(leafHashes, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(subtreeRoot(leafHashes, lo, hi));
  return proof.reverse();
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot). */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  checkCount('oldSize', oldSize);
  checkCount('newSize', newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  if (oldRoot.length !== HASH_BYTES || newRoot.length !== HASH_BYTES) return false;
  const oldR = Buffer.from(oldRoot);
  // Every tree extends the empty one, but the old root must still be the empty tree's.
  if (oldSize === 0) return proof.length === 0 && oldR.equals(EMPTY_ROOT);
  if (oldSize === newSize) return proof.length === 0 && oldR.equals(newRoot);
  if (proof.length === 0) return false;
  const path: readonly Uint8Array[] = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const [first, ...rest] = path;
  if (first === undefined || first.length !== HASH_BYTES) return false;
  let fr: Uint8Array = first;
  let sr: Uint8Array = first;
  for (const c of rest) {
    if (sn === 0 || c.length !== HASH_BYTES) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && oldR.equals(fr) && Buffer.from(newRoot).equals(sr);
}

/** Persisted form of a MerkleFrontier: the tree size and its right-edge subtree roots in hex. */
export interface MerkleFrontierJSON {
  size: number;
  hashes: string[];
}

/**
 * The right edge of a tree under construction (RFC 6962 §2.1): one subtree root per set bit of the
 * size, largest first, so the sequencer folds a batch in without reloading the whole log.
 */
export class MerkleFrontier {
  #size = 0;
  // hashes[i] is the root of a perfect subtree; their sizes are the set bits of #size, descending.
  readonly #hashes: Buffer[] = [];

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** RFC 6962 §2.1: append one leaf hash, merging equal-size perfect subtrees as a binary counter carries. */
  append(leaf: Uint8Array): void {
    if (leaf.length !== HASH_BYTES)
      throw new RangeError(`a leaf hash is ${HASH_BYTES} bytes, not ${leaf.length}`);
    let node: Buffer = Buffer.from(leaf);
    for (let s = this.#size; isOdd(s); s = half(s)) {
      const left = this.#hashes.pop();
      if (left === undefined) throw new Error('MerkleFrontier invariant broken');
      node = nodeHash(left, node);
    }
    this.#hashes.push(node);
    this.#size += 1;
  }

  /** RFC 6962 §2.1: MTH of every leaf appended, equal to rootOf over them. */
  root(): Buffer {
    let r = this.#hashes.at(-1);
    if (r === undefined) return Buffer.from(EMPTY_ROOT);
    for (let i = this.#hashes.length - 2; i >= 0; i -= 1) r = nodeHash(this.#hashes[i] as Buffer, r);
    return Buffer.from(r);
  }

  /** The size and right-edge hashes in hex, for the sequencer to persist between batches. */
  toJSON(): MerkleFrontierJSON {
    return { size: this.#size, hashes: this.#hashes.map((h) => h.toString('hex')) };
  }

  /** Rebuild a frontier from toJSON output, refusing any state that no tree could have. */
  static fromJSON(json: MerkleFrontierJSON): MerkleFrontier {
    const { size, hashes } = json;
    checkCount('size', size);
    if (!Array.isArray(hashes) || hashes.length !== popCount(size)) {
      throw new RangeError(`a frontier of size ${size} holds ${popCount(size)} hashes`);
    }
    const frontier = new MerkleFrontier();
    for (const hex of hashes) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
        throw new RangeError('a frontier hash is 64 lowercase hex characters');
      }
      frontier.#hashes.push(Buffer.from(hex, 'hex'));
    }
    frontier.#size = size;
    return frontier;
  }
}

/** MTH(D[lo:hi]) for hi > lo, recursing as RFC 6962 §2.1 does; O(hi - lo) hashes, depth O(log n). */
function subtreeRoot(leafHashes: readonly Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) {
    const leaf = leafHashes[lo];
    if (leaf === undefined || leaf.length !== HASH_BYTES) {
      throw new RangeError(`leaf hash ${lo} is not ${HASH_BYTES} bytes`);
    }
    return Buffer.from(leaf);
  }
  const k = largestPowerOfTwoBelow(hi - lo);
  return nodeHash(subtreeRoot(leafHashes, lo, lo + k), subtreeRoot(leafHashes, lo + k, hi));
}

/** The largest power of two strictly below n, for n ≥ 2 (RFC 6962 §2.1's k). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, not ${value}`);
  }
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  return popCount(n) === 1;
}

function popCount(n: number): number {
  let count = 0;
  for (let s = n; s > 0; s = half(s)) if (isOdd(s)) count += 1;
  return count;
}
