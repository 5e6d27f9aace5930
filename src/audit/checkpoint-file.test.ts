import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { formatCheckpoint, newEd25519Signer, openNote, signNote } from './checkpoint.ts';
import { appendCheckpointNote, type CheckpointFileEntry, readCheckpointFile } from './checkpoint-file.ts';

const signer = newEd25519Signer('rempart/audit/0badf00d');
const note = (size: number): string =>
  signNote(
    formatCheckpoint({
      origin: signer.name,
      size,
      rootHash: createHash('sha256').update(String(size)).digest(),
      extensions: [],
    }),
    [signer],
  );

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rempart-cpfile-'));
  file = path.join(dir, 'checkpoints.txt');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function entries(): Promise<CheckpointFileEntry[]> {
  const out: CheckpointFileEntry[] = [];
  for await (const entry of readCheckpointFile(file)) out.push(entry);
  return out;
}

describe('the published checkpoint file', () => {
  it('holds each signed note followed by an empty line; reads them back exactly, with their line', async () => {
    const notes = [note(10), note(20), note(35)];
    for (const n of notes) await appendCheckpointNote(file, n);
    expect(await readFile(file, 'utf8')).toBe(notes.map((n) => `${n}\n`).join(''));
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    const read = await entries();
    expect(read).toEqual(notes.map((n, i) => ({ line: 1 + i * 6, note: n })));
    for (const entry of read) {
      if ('note' in entry)
        expect(openNote(entry.note, [signer.verifierKey]).verifiedBy).toEqual([signer.name]);
    }
  });

  it('reports an entry cut short or with a stray line, and keeps reading the next ones', async () => {
    await appendCheckpointNote(file, note(1));
    await appendFile(file, 'rempart/audit/0badf00d\n2\nnot a signature\n\n');
    await appendCheckpointNote(file, note(3));
    await appendFile(file, 'rempart/audit/0badf00d\n4\n');
    const read = await entries();
    expect(read).toHaveLength(4);
    expect(read[0]).toEqual({ line: 1, note: note(1) });
    expect(read[1]).toMatchObject({ line: 7, error: expect.stringContaining('no signature line') });
    expect(read[2]).toMatchObject({ note: note(3) });
    expect(read[3]).toMatchObject({ error: expect.stringContaining('cut short') });
  });

  it('refuses to create the file in a folder that does not exist (the checkpoint stays in the database)', async () => {
    await expect(appendCheckpointNote(path.join(dir, 'missing', 'c.txt'), note(1))).rejects.toBeInstanceOf(
      AppError,
    );
  });
});
