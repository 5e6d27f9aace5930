/**
 * The signed checkpoints `audit verify` checks (docs/DESIGN.md section 7): the rows of audit_checkpoints
 * and the notes of the published file, each opened with the verifier key given to the verifier (not
 * one read from the database), its body parsed even when the signature fails, so that its root can
 * still be compared with the rebuilt tree.
 */
import { access } from 'node:fs/promises';
import type { Db } from '../db/types.ts';
import { CheckpointError, openNote, parseCheckpoint } from './checkpoint.ts';
import { readCheckpointFile } from './checkpoint-file.ts';
import type { Findings } from './verify-report.ts';

/** One checkpoint to hold against the rebuilt tree. */
export interface CheckedCheckpoint {
  /** Where it comes from: `checkpoint 1000` (a row) or `published checkpoint 1000 (line 12)`. */
  label: string;
  size: number;
  /** The root its note signs (or, for a row whose note does not parse, its root_hash column). */
  root: Buffer;
  /** What is wrong with it before any comparison with the tree (signature, origin, row vs note). */
  faults: string[];
}

/** Reads and opens every stored checkpoint, smallest first. */
export async function storedCheckpoints(
  db: Db,
  verifierKey: string,
  origin: string,
): Promise<CheckedCheckpoint[]> {
  const rows = await db.sequencerTx((tx) =>
    tx.query<{ tree_size: string; root_hash: Uint8Array; note: string }>(
      'SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size',
    ),
  );
  return rows.map((row) => {
    const size = Number(row.tree_size);
    const column = Buffer.from(row.root_hash);
    const checked = checkNote(`checkpoint ${size}`, row.note, verifierKey, origin);
    if (checked.size !== undefined && (checked.size !== size || !checked.root?.equals(column))) {
      checked.faults.push('its row (tree_size, root_hash) differs from its signed note');
    }
    return { label: `checkpoint ${size}`, size, root: checked.root ?? column, faults: checked.faults };
  });
}

/** Reads and opens every note of the published checkpoint file; undefined when there is no file. */
export async function publishedCheckpoints(
  file: string,
  verifierKey: string,
  origin: string,
): Promise<CheckedCheckpoint[] | undefined> {
  try {
    await access(file);
  } catch {
    return undefined;
  }
  const out: CheckedCheckpoint[] = [];
  for await (const entry of readCheckpointFile(file)) {
    if ('error' in entry) {
      out.push({
        label: `published entry (line ${entry.line})`,
        size: -1,
        root: Buffer.alloc(0),
        faults: [entry.error],
      });
      continue;
    }
    const checked = checkNote(`published checkpoint (line ${entry.line})`, entry.note, verifierKey, origin);
    out.push({
      label: `published checkpoint ${checked.size ?? '?'} (line ${entry.line})`,
      size: checked.size ?? -1,
      root: checked.root ?? Buffer.alloc(0),
      faults: checked.faults,
    });
  }
  return out;
}

/** Opens a note with the verifier key and parses its checkpoint body whatever the signature says. */
function checkNote(
  label: string,
  note: string,
  verifierKey: string,
  origin: string,
): { size?: number; root?: Buffer; faults: string[] } {
  const faults: string[] = [];
  try {
    openNote(note, [verifierKey]);
  } catch (error) {
    // A note re-signed under another key, or forged: "no signature from a known key".
    faults.push(`its signature does not verify with the verifier key: ${(error as Error).message}`);
  }
  const split = note.lastIndexOf('\n\n');
  try {
    if (split < 0) throw new CheckpointError('no blank line before its signatures');
    const checkpoint = parseCheckpoint(note.slice(0, split + 1));
    if (checkpoint.origin !== origin) {
      faults.push(`its origin ${JSON.stringify(checkpoint.origin)} is not the log's (${origin})`);
    }
    return { size: checkpoint.size, root: checkpoint.rootHash, faults };
  } catch (error) {
    faults.push(`${label} is not a checkpoint: ${(error as Error).message}`);
    return { faults };
  }
}

/** Holds one checkpoint against the rebuilt root at its size. */
export function compare(
  c: CheckedCheckpoint,
  size: number,
  roots: Map<number, Buffer | undefined>,
  kind: 'checkpoint' | 'published' | 'witness',
  report: Findings,
): void {
  for (const fault of c.faults) report.add({ kind, treeSize: c.size, message: `${c.label}: ${fault}` });
  if (c.size < 0) return;
  if (c.size > size) {
    report.add({
      kind,
      treeSize: c.size,
      message: `${c.label}: the log has only ${size} leaves (truncated?)`,
    });
    return;
  }
  if (!roots.get(c.size)?.equals(c.root)) {
    report.add({
      kind,
      treeSize: c.size,
      message: `${c.label}: its root is not the root of the log's first ${c.size} leaves`,
    });
  }
}
