/**
 * What `audit verify --witness KEY` checks (issue 10, section 2; c2sp.org/tlog-cosignature): the
 * checkpoints the witnesses cosigned, from audit_cosignatures and, with --witness-url, the latest
 * one each witness serves. Each must carry the log's signature under the verifier key and the
 * witness's cosignature; verify.ts then holds its root against the rebuilt tree. A log rewritten and
 * re-signed by whoever holds the database and the published file has no cosigned checkpoint that
 * matches it; one truncated back to an older witnessed size is caught by the witness's own latest.
 */
import type { Db } from '../db/types.ts';
import { CheckpointError, openNote, parseCheckpoint } from './checkpoint.ts';
import { type CosignatureVerifier, cosignatureVerifierFromString, findCosignature } from './cosignature.ts';
import { type CheckedCheckpoint, compare } from './verify-checkpoints.ts';
import type { AuditReport, Findings } from './verify-report.ts';

/** A cosigned checkpoint to hold against the rebuilt tree, and which witness vouches for it. */
export interface WitnessedCheckpoint extends CheckedCheckpoint {
  /** The witness's `name+keyid`. */
  witness: string;
}

/** Parses the witness keys given to the verifier; throws a CheckpointError naming the bad one. */
export function witnessVerifiers(keys: readonly string[]): CosignatureVerifier[] {
  return keys.map((key) => {
    try {
      return cosignatureVerifierFromString(key);
    } catch (error) {
      throw new CheckpointError(
        `witness key ${JSON.stringify(key.split('+')[0])}: ${(error as Error).message}`,
      );
    }
  });
}

/** Opens one cosigned note: the log's signature, the witness's cosignature, the checkpoint. */
export function checkCosigned(
  label: string,
  note: string,
  verifierKey: string,
  origin: string,
  witness: CosignatureVerifier,
): WitnessedCheckpoint {
  const faults: string[] = [];
  try {
    openNote(note, [verifierKey]);
  } catch (error) {
    faults.push(`the log's signature does not verify with the verifier key: ${(error as Error).message}`);
  }
  try {
    if (findCosignature(note, witness) === undefined) faults.push(`it has no cosignature by ${witness.id}`);
  } catch (error) {
    faults.push((error as Error).message);
  }
  const split = note.lastIndexOf('\n\n');
  try {
    if (split < 0) throw new CheckpointError('no blank line before its signatures');
    const checkpoint = parseCheckpoint(note.slice(0, split + 1));
    if (checkpoint.origin !== origin)
      faults.push(`its origin ${JSON.stringify(checkpoint.origin)} is not the log's`);
    return { label, size: checkpoint.size, root: checkpoint.rootHash, faults, witness: witness.id };
  } catch (error) {
    faults.push(`not a checkpoint: ${(error as Error).message}`);
    return { label, size: -1, root: Buffer.alloc(0), faults, witness: witness.id };
  }
}

/** Every stored cosignature of these witnesses, opened. */
export async function storedCosigned(
  db: Db,
  witnesses: readonly CosignatureVerifier[],
  verifierKey: string,
  origin: string,
): Promise<WitnessedCheckpoint[]> {
  if (witnesses.length === 0) return [];
  const rows = await db.sequencerTx((tx) =>
    tx.query<{ witness: string; tree_size: string; note: string }>(
      'SELECT witness, tree_size::text AS tree_size, note FROM audit_cosignatures WHERE witness = ANY($1::text[]) ORDER BY tree_size',
      [witnesses.map((w) => w.id)],
    ),
  );
  return rows.map((row) => {
    const witness = witnesses.find((w) => w.id === row.witness)!;
    const checked = checkCosigned(
      `cosigned checkpoint ${row.tree_size} (${witness.id})`,
      row.note,
      verifierKey,
      origin,
      witness,
    );
    if (checked.size !== Number(row.tree_size)) checked.faults.push('its row size differs from its note');
    return checked;
  });
}

/** The latest checkpoint a witness serves (GET <url>/<origin hash>/checkpoint), opened with every witness key. */
export async function fetchWitnessCheckpoint(
  url: string,
  originHashHex: string,
  witnesses: readonly CosignatureVerifier[],
  verifierKey: string,
  origin: string,
): Promise<WitnessedCheckpoint> {
  const label = `the latest checkpoint served by ${url}`;
  let note: string;
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/${originHashHex}/checkpoint`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    note = await response.text();
  } catch (error) {
    return {
      label,
      size: -1,
      root: Buffer.alloc(0),
      faults: [`could not be read: ${(error as Error).message}`],
      witness: '?',
    };
  }
  // Whichever of the given witnesses cosigned it.
  for (const witness of witnesses) {
    const checked = checkCosigned(label, note, verifierKey, origin, witness);
    if (!checked.faults.some((f) => f.startsWith('it has no cosignature by'))) return checked;
  }
  return {
    label,
    size: -1,
    root: Buffer.alloc(0),
    faults: ['it has no cosignature by any given witness key'],
    witness: '?',
  };
}

/**
 * Holds every cosigned checkpoint against the rebuilt tree and reports, per witness, the newest size
 * it vouches for; a witness that vouches for none (a rewritten or re-signed log) is a problem.
 */
export function witnessVerdict(
  verifiers: readonly CosignatureVerifier[],
  checkpoints: readonly WitnessedCheckpoint[],
  size: number,
  roots: Map<number, Buffer | undefined>,
  report: Findings,
): Pick<AuditReport, 'witnessedSize' | 'witnesses'> {
  if (verifiers.length === 0) return {};
  for (const c of checkpoints) compare(c, size, roots, 'witness', report);
  const witnesses = verifiers.map((v) => {
    const own = checkpoints.filter((c) => c.witness === v.id);
    const matching = own.filter(
      (c) => c.faults.length === 0 && c.size >= 0 && c.size <= size && roots.get(c.size)?.equals(c.root),
    );
    const newest = matching.length === 0 ? null : Math.max(...matching.map((c) => c.size));
    if (newest === null) {
      report.add({
        kind: 'witness',
        message: `no checkpoint cosigned by the witness ${v.id} matches the log (rewritten, re-signed, or never witnessed)`,
      });
    }
    return { witness: v.id, witnessedSize: newest, cosignatures: own.length };
  });
  const sizes = witnesses.map((w) => w.witnessedSize);
  const witnessedSize = sizes.some((s) => s === null) ? null : Math.min(...(sizes as number[]));
  if (witnessedSize !== null && witnessedSize < size) {
    report.notes.push(
      `the last ${size - witnessedSize} leaves are not witnessed yet (witnessed size ${witnessedSize})`,
    );
  }
  return { witnessedSize, witnesses };
}
