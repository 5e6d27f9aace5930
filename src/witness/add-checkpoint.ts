/**
 * The witness's decision on one add-checkpoint request (c2sp.org/tlog-witness), apart from HTTP and
 * files so that every refusal is one return value: the status the spec prescribes and why.
 *
 * Request body: `old <size>\n`, zero or more base64 consistency proof lines, an empty line, then the
 * checkpoint as a signed note. The witness cosigns only a checkpoint signed by the log's key whose
 * tree extends the last one it cosigned for that origin: a rollback (smaller or older size) gets 409
 * or 400, a fork (another root at a size, or a proof that does not verify) gets 422.
 */
import { createHash } from 'node:crypto';
import { openNote, parseCheckpoint } from '../audit/checkpoint.ts';
import type { Cosigner } from '../audit/cosignature.ts';
import { EMPTY_ROOT, verifyConsistency } from '../audit/merkle.ts';
import type { CosignedState, WitnessState } from './files.ts';

/** At most this many proof lines: a consistency proof of a tree under 2^63 leaves is shorter. */
const MAX_PROOF_LINES = 63;

/** What the witness answers, and the state to persist first when it cosigns. */
export interface AddCheckpointResult {
  status: 200 | 400 | 403 | 404 | 409 | 422;
  /** The response body: cosignature line(s), the latest size (409), or a one-line reason. */
  body: string;
  contentType: string;
  /** When set: persist this for `origin` before answering. */
  update?: { origin: string; state: CosignedState };
  /** The origin the request was about, when it could be read (for the witness's log line). */
  origin?: string;
}

const refuse = (
  status: AddCheckpointResult['status'],
  reason: string,
  origin?: string,
): AddCheckpointResult => ({
  status,
  body: `${reason}\n`,
  contentType: 'text/plain; charset=utf-8',
  ...(origin ? { origin } : {}),
});

/** The hex SHA-256 of an origin: how the monitoring path names a log (GET /<hash>/checkpoint). */
export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

/**
 * Decides an add-checkpoint request against the witness's state. `logs` maps each origin the witness
 * follows to the log's verifier key. Pure: the caller persists `update` before sending `body`.
 */
export function addCheckpoint(
  request: string,
  logs: ReadonlyMap<string, string>,
  state: WitnessState,
  cosigner: Cosigner,
  now: Date,
): AddCheckpointResult {
  const split = request.indexOf('\n\n');
  if (split < 0) return refuse(400, 'the body has no empty line after the old size and proof');
  const head = request.slice(0, split).split('\n');
  const note = request.slice(split + 2);
  const oldMatch = /^old (0|[1-9][0-9]{0,15})$/.exec(head[0] ?? '');
  if (!oldMatch) return refuse(400, 'the first line must be "old <size>"');
  const old = Number(oldMatch[1]);
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) return refuse(400, 'too many consistency proof lines');
  const proof: Buffer[] = [];
  for (const line of proofLines) {
    const hash = Buffer.from(line, 'base64');
    if (hash.toString('base64') !== line || hash.length !== 32) {
      return refuse(400, 'a consistency proof line is not a base64 SHA-256 hash');
    }
    proof.push(hash);
  }
  const noteSplit = note.lastIndexOf('\n\n');
  let checkpoint: ReturnType<typeof parseCheckpoint>;
  try {
    if (noteSplit < 0) throw new Error('no signature');
    checkpoint = parseCheckpoint(note.slice(0, noteSplit + 1));
  } catch (error) {
    return refuse(400, `the checkpoint is malformed: ${(error as Error).message}`);
  }
  const { origin } = checkpoint;
  const logKey = logs.get(origin);
  if (logKey === undefined) return refuse(404, 'unknown log origin');
  try {
    openNote(note, [logKey]);
  } catch {
    // Not signed by the log key this witness was given: a re-signed (rewritten) log, or a forgery.
    return refuse(403, 'the checkpoint is not signed by the log key this witness follows', origin);
  }
  if (old > checkpoint.size) return refuse(400, 'old size exceeds the checkpoint size', origin);
  const latest = state.logs[origin];
  const latestSize = latest?.size ?? 0;
  if (old !== latestSize) {
    return { status: 409, body: `${latestSize}\n`, contentType: 'text/x.tlog.size', origin };
  }
  if (checkpoint.size === 0 && !checkpoint.rootHash.equals(EMPTY_ROOT)) {
    return refuse(422, 'a checkpoint of size 0 must have the empty tree root', origin);
  }
  if (old === 0) {
    if (proof.length > 0) return refuse(422, 'the proof from size 0 must be empty', origin);
  } else {
    const latestRoot = Buffer.from(latest!.root, 'base64');
    const consistent =
      old === checkpoint.size
        ? proof.length === 0 && latestRoot.equals(checkpoint.rootHash)
        : verifyConsistency(old, checkpoint.size, latestRoot, checkpoint.rootHash, proof);
    if (!consistent) {
      return refuse(422, `the checkpoint is not consistent with the cosigned size ${old} (a fork)`, origin);
    }
  }
  const body = note.slice(0, noteSplit + 1);
  const line = cosigner.cosign(body, Math.floor(now.getTime() / 1000));
  return {
    status: 200,
    body: line,
    contentType: 'text/plain; charset=utf-8',
    origin,
    update: {
      origin,
      state: {
        size: checkpoint.size,
        root: checkpoint.rootHash.toString('base64'),
        note: `${note}${line}`,
      },
    },
  };
}
