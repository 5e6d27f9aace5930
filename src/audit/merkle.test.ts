import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');

/** The same buffer with one bit flipped. */
function flip(b: Uint8Array, byte = 0): Buffer {
  const copy = Buffer.from(b);
  copy[byte % copy.length] = (copy[byte % copy.length] ?? 0) ^ 0x01;
  return copy;
}

/** `items` with element `i` replaced by `value`. */
function replaced<T>(items: readonly T[], i: number, value: T): T[] {
  return items.map((item, j) => (j === i ? value : item));
}

// The RFC 6962 reference vectors used across Certificate Transparency implementations
// (google/certificate-transparency and transparency-dev/merkle test data).
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CT_CONSISTENCY: { oldSize: number; newSize: number; proof: string[] }[] = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const ctLeafHashes = CT_LEAVES.map((h) => leafHash(unhex(h)));

/** MTH written straight from RFC 6962 §2.1 with slices, as an independent oracle. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.of(1))
    .update(referenceRoot(leaves.slice(0, k)))
    .update(referenceRoot(leaves.slice(k)))
    .digest();
}

// Deterministic pseudo-random leaves, and the root of every prefix of them.
const MAX = 64;
const leaves = Array.from({ length: MAX }, (_, i) =>
  leafHash(createHash('sha256').update(`rempart audit event ${i}`).digest()),
);
const roots = Array.from({ length: MAX + 1 }, (_, n) => rootOf(leaves.slice(0, n)));
const sizes = Array.from({ length: MAX }, (_, i) => i + 1);

describe('hashing and roots (RFC 6962 §2.1)', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootOf([]).equals(EMPTY_ROOT)).toBe(true);
    expect(new MerkleFrontier().root().equals(EMPTY_ROOT)).toBe(true);
  });

  it('prefixes leaves with 0x00 and nodes with 0x01', () => {
    const a = Buffer.from('a');
    expect(
      leafHash(a).equals(
        createHash('sha256')
          .update(Buffer.from([0, 0x61]))
          .digest(),
      ),
    ).toBe(true);
    const l = leafHash(a);
    const r = leafHash(Buffer.from('b'));
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.of(1), l, r]))
      .digest();
    expect(nodeHash(l, r).equals(expected)).toBe(true);
    expect(leafHash(Buffer.concat([l, r])).equals(nodeHash(l, r))).toBe(false);
  });

  it.each(CT_ROOTS.map((root, i) => [i + 1, root] as const))(
    'matches the CT reference root of size %i',
    (n, root) => {
      expect(hex(rootOf(ctLeafHashes.slice(0, n)))).toBe(root);
    },
  );

  it('agrees with a slice-based MTH for every size 0..64', () => {
    for (let n = 0; n <= MAX; n += 1)
      expect(hex(roots[n] as Buffer)).toBe(hex(referenceRoot(leaves.slice(0, n))));
  });
});

describe('inclusion proofs (RFC 6962 §2.1.1, RFC 9162 §2.1.3.2)', () => {
  it.each(CT_INCLUSION)(
    'matches the CT reference proof for index $index of size $size',
    ({ index, size, proof }) => {
      const got = inclusionProof(ctLeafHashes, index, size);
      expect(got.map(hex)).toEqual(proof);
      const root = unhex(CT_ROOTS[size - 1] as string);
      expect(verifyInclusion(ctLeafHashes[index] as Buffer, index, size, proof.map(unhex), root)).toBe(true);
    },
  );

  it.each(sizes)('verifies every index of size %i, and fails once anything is altered', (size) => {
    const root = roots[size] as Buffer;
    for (let index = 0; index < size; index += 1) {
      const leaf = leaves[index] as Buffer;
      const proof = inclusionProof(leaves, index, size);
      expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
      expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
      // Any proof element.
      for (let i = 0; i < proof.length; i += 1) {
        expect(
          verifyInclusion(leaf, index, size, replaced(proof, i, flip(proof[i] as Buffer, i)), root),
        ).toBe(false);
      }
      // A missing, an extra or a repeated element.
      expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(size === 1);
      expect(verifyInclusion(leaf, index, size, [...proof, EMPTY_ROOT], root)).toBe(false);
      if (proof.length > 0) {
        expect(verifyInclusion(leaf, index, size, [proof[0] as Buffer, ...proof], root)).toBe(false);
      }
      // The leaf, or another leaf of the same tree.
      expect(verifyInclusion(flip(leaf, 31), index, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaves[(index + 1) % MAX] as Buffer, index, size, proof, root)).toBe(false);
      // The index, to any other position in the tree.
      for (let other = 0; other < size; other += 1) {
        if (other !== index) expect(verifyInclusion(leaf, other, size, proof, root)).toBe(false);
      }
      // The size, claimed with the root of that size (the pair a signed checkpoint binds).
      for (let other = index + 1; other <= MAX; other += 1) {
        if (other !== size)
          expect(verifyInclusion(leaf, index, other, proof, roots[other] as Buffer)).toBe(false);
      }
      // The root.
      expect(verifyInclusion(leaf, index, size, proof, flip(root, index))).toBe(false);
    }
  });

  it('refuses an index at or past the size, a size past the leaves, and non-integers', () => {
    expect(() => inclusionProof(leaves, 3, 3)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 0, 0)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 0, MAX + 1)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, -1, 4)).toThrow(RangeError);
    expect(() => inclusionProof(leaves, 1.5, 4)).toThrow(RangeError);
    expect(() => verifyInclusion(leaves[0] as Buffer, 4, 4, [], roots[4] as Buffer)).toThrow(RangeError);
    expect(() => verifyInclusion(leaves[0] as Buffer, 0, 0, [], EMPTY_ROOT)).toThrow(RangeError);
    expect(() => verifyInclusion(leaves[0] as Buffer, -1, 4, [], roots[4] as Buffer)).toThrow(RangeError);
  });

  it('rejects hashes of the wrong length instead of hashing them', () => {
    const proof = inclusionProof(leaves, 2, 5);
    const root = roots[5] as Buffer;
    expect(verifyInclusion((leaves[2] as Buffer).subarray(0, 31), 2, 5, proof, root)).toBe(false);
    expect(verifyInclusion(leaves[2] as Buffer, 2, 5, replaced(proof, 0, Buffer.alloc(0)), root)).toBe(false);
    expect(verifyInclusion(leaves[2] as Buffer, 2, 5, proof, root.subarray(1))).toBe(false);
  });
});

describe('consistency proofs (RFC 6962 §2.1.2, RFC 9162 §2.1.4.2)', () => {
  it.each(CT_CONSISTENCY)(
    'matches the CT reference proof from $oldSize to $newSize',
    ({ oldSize, newSize, proof }) => {
      expect(consistencyProof(ctLeafHashes, oldSize, newSize).map(hex)).toEqual(proof);
      const oldRoot = unhex(CT_ROOTS[oldSize - 1] as string);
      const newRoot = unhex(CT_ROOTS[newSize - 1] as string);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.map(unhex))).toBe(true);
    },
  );

  it.each(sizes)(
    'verifies every old size up to new size %i, and fails once anything is altered',
    (newSize) => {
      const newRoot = roots[newSize] as Buffer;
      for (let oldSize = 1; oldSize <= newSize; oldSize += 1) {
        const oldRoot = roots[oldSize] as Buffer;
        const proof = consistencyProof(leaves, oldSize, newSize);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(newSize)) + 1);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
        // Any proof element.
        for (let i = 0; i < proof.length; i += 1) {
          const altered = replaced(proof, i, flip(proof[i] as Buffer, i));
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, altered)).toBe(false);
        }
        // A missing, an extra or a repeated element.
        if (proof.length > 0) {
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [proof[0] as Buffer, ...proof])).toBe(
            false,
          );
        }
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, EMPTY_ROOT])).toBe(false);
        // Either root: a forked history.
        expect(verifyConsistency(oldSize, newSize, flip(oldRoot, 7), newRoot, proof)).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, flip(newRoot, 7), proof)).toBe(false);
        // Either size, claimed with the root of that size.
        for (let other = 1; other <= newSize; other += 1) {
          if (other === oldSize) continue;
          expect(verifyConsistency(other, newSize, roots[other] as Buffer, newRoot, proof)).toBe(false);
        }
        for (let other = oldSize; other <= MAX; other += 1) {
          if (other === newSize) continue;
          expect(verifyConsistency(oldSize, other, oldRoot, roots[other] as Buffer, proof)).toBe(false);
        }
      }
    },
  );

  it('treats the empty tree as a prefix of every tree, with the empty root and no proof', () => {
    expect(consistencyProof(leaves, 0, 10)).toEqual([]);
    expect(verifyConsistency(0, 10, EMPTY_ROOT, roots[10] as Buffer, [])).toBe(true);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(0, 10, roots[1] as Buffer, roots[10] as Buffer, [])).toBe(false);
    expect(verifyConsistency(0, 10, EMPTY_ROOT, roots[10] as Buffer, [EMPTY_ROOT])).toBe(false);
  });

  it('refuses an old size past the new size, a new size past the leaves, and non-integers', () => {
    expect(() => consistencyProof(leaves, 5, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 1, MAX + 1)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, -1, 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 1, Number.NaN)).toThrow(RangeError);
    expect(() => verifyConsistency(5, 4, roots[5] as Buffer, roots[4] as Buffer, [])).toThrow(RangeError);
    expect(() => verifyConsistency(-1, 4, EMPTY_ROOT, roots[4] as Buffer, [])).toThrow(RangeError);
  });
});

describe('MerkleFrontier', () => {
  it('has the root of every prefix over 200 appends, and survives a JSON round trip at each', () => {
    const many = Array.from({ length: 200 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
    const frontier = new MerkleFrontier();
    for (let n = 1; n <= many.length; n += 1) {
      frontier.append(many[n - 1] as Buffer);
      const expected = rootOf(many.slice(0, n));
      expect(frontier.size).toBe(n);
      expect(hex(frontier.root())).toBe(hex(expected));
      const json = JSON.parse(JSON.stringify(frontier));
      expect(json.hashes.length).toBeLessThanOrEqual(Math.floor(Math.log2(n)) + 1);
      const restored = MerkleFrontier.fromJSON(json);
      expect(restored.size).toBe(n);
      expect(hex(restored.root())).toBe(hex(expected));
    }
  });

  it('continues from a restored state as if it had never stopped', () => {
    const frontier = new MerkleFrontier();
    for (const leaf of leaves.slice(0, 37)) frontier.append(leaf);
    let restored = MerkleFrontier.fromJSON(frontier.toJSON());
    for (const leaf of leaves.slice(37, 50)) restored.append(leaf);
    restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(restored)));
    for (const leaf of leaves.slice(50)) restored.append(leaf);
    expect(restored.root().equals(roots[MAX] as Buffer)).toBe(true);
  });

  it('refuses a persisted state that no tree could have', () => {
    const good = (() => {
      const f = new MerkleFrontier();
      for (const leaf of leaves.slice(0, 5)) f.append(leaf);
      return f.toJSON();
    })();
    expect(good.hashes).toHaveLength(2);
    expect(() => MerkleFrontier.fromJSON({ size: 7, hashes: good.hashes })).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ size: -1, hashes: [] })).toThrow(RangeError);
    expect(() =>
      MerkleFrontier.fromJSON({ size: 5, hashes: [good.hashes[0] ?? '', 'zz'.repeat(32)] }),
    ).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ size: 5, hashes: [good.hashes[0] ?? '', 'ab'] })).toThrow(
      RangeError,
    );
    expect(() => new MerkleFrontier().append(Buffer.alloc(31))).toThrow(RangeError);
  });
});
