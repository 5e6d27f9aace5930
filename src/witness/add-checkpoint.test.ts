import { describe, expect, it } from 'vitest';
import { formatCheckpoint, newEd25519Signer, signNote } from '../audit/checkpoint.ts';
import { newCosigner } from '../audit/cosignature.ts';
import { consistencyProof, EMPTY_ROOT, leafHash, rootOf } from '../audit/merkle.ts';
import { addCheckpoint } from './add-checkpoint.ts';
import type { WitnessState } from './files.ts';

const log = newEd25519Signer('rempart.test/audit');
const logs = new Map([[log.name, log.verifierKey]]);
const witness = newCosigner('witness.test');
const leaves = Array.from({ length: 10 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
const noteAt = (size: number, signer = log, root = size === 0 ? EMPTY_ROOT : rootOf(leaves.slice(0, size))) =>
  signNote(formatCheckpoint({ origin: signer.name, size, rootHash: root, extensions: [] }), [signer]);
const now = new Date('2026-12-05T12:00:00Z');
const at = (size: number): WitnessState => ({
  logs:
    size === 0
      ? {}
      : { [log.name]: { size, root: rootOf(leaves.slice(0, size)).toString('base64'), note: noteAt(size) } },
});
const proofLines = (from: number, to: number) =>
  consistencyProof(leaves, from, to)
    .map((h) => `${h.toString('base64')}\n`)
    .join('');

describe('the witness decides add-checkpoint as c2sp.org/tlog-witness says', () => {
  it('cosigns the first checkpoint from 0 and the next one with a valid proof', () => {
    const first = addCheckpoint(`old 0\n\n${noteAt(4)}`, logs, at(0), witness, now);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^\u2014 witness\.test \S+\n$/);
    expect(first.update?.state.size).toBe(4);
    const next = addCheckpoint(`old 4\n${proofLines(4, 9)}\n${noteAt(9)}`, logs, at(4), witness, now);
    expect(next.status).toBe(200);
    expect(next.update?.state.size).toBe(9);
  });

  it.each([
    ['no empty line', () => `old 0\n${noteAt(4)}`, 400],
    ['a leading zero', () => `old 04\n\n${noteAt(4)}`, 400],
    ['a bad proof line', () => `old 4\nnot-base64\n\n${noteAt(9)}`, 400],
    ['an unknown origin', () => `old 0\n\n${noteAt(4, newEd25519Signer('other.test/log'))}`, 404],
    [
      'another key under the same origin (a re-signed log)',
      () => `old 4\n${proofLines(4, 9)}\n${noteAt(9, newEd25519Signer(log.name))}`,
      403,
    ],
    ['old above the size (rollback)', () => `old 9\n\n${noteAt(4)}`, 400],
    ['old not the cosigned size', () => `old 0\n\n${noteAt(9)}`, 409],
    ['a proof that does not verify (fork)', () => `old 4\n${proofLines(3, 9)}\n${noteAt(9)}`, 422],
    [
      'another root at the same size (fork)',
      () => `old 4\n\n${noteAt(4, log, rootOf(leaves.slice(1, 5)))}`,
      422,
    ],
  ])('refuses %s', (_case, request, status) => {
    const result = addCheckpoint(request(), logs, at(4), witness, now);
    expect(result.status).toBe(status);
    expect(result.update).toBeUndefined();
    if (status === 409) {
      expect(result).toMatchObject({ body: '4\n', contentType: 'text/x.tlog.size' });
    }
  });

  it('refuses a proof from size 0 and a size-0 checkpoint whose root is not the empty tree', () => {
    expect(addCheckpoint(`old 0\n${proofLines(2, 4)}\n${noteAt(4)}`, logs, at(0), witness, now).status).toBe(
      422,
    );
    expect(
      addCheckpoint(`old 0\n\n${noteAt(0, log, Buffer.alloc(32, 1))}`, logs, at(0), witness, now).status,
    ).toBe(422);
  });
});
