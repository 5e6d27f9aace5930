/**
 * The published checkpoint file (docs/DESIGN.md section 7): every signed checkpoint the sequencer writes
 * is also appended here, to be copied where the database administrators cannot reach (another
 * host, partner organisations, the portal). A rewritten log then has to fork a checkpoint that is
 * already out of their hands.
 *
 * Format: the signed notes (c2sp.org/signed-note, each a checkpoint body, a blank line, then its
 * signature lines starting with "— "), each followed by one empty line. A checkpoint body has no
 * blank line of its own, so an entry ends at the first empty line after its signature lines.
 */
import { createReadStream } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { AppError } from '../errors.ts';

/** Every signature line of a signed note starts with an em dash and a space (c2sp.org/signed-note). */
const SIG_PREFIX = '\u2014 ';

/**
 * Appends one signed note (O_APPEND: several processes may share the file). Creates the file with
 * mode 0644 (a public record) in its folder, which must exist; fsyncs before returning.
 */
export async function appendCheckpointNote(file: string, note: string): Promise<void> {
  if (!note.endsWith('\n') || note.includes('\n\n\n')) throw new RangeError('not a signed note');
  try {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'ax', 0o644);
      await chmod(file, 0o644); // whatever the umask: the file is meant to be read by anyone
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      handle = await open(file, 'a');
    }
    try {
      await handle.write(`${note}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new AppError(
      'bad_configuration',
      `a checkpoint was signed and stored, but appending it to ${file} failed (${(error as NodeJS.ErrnoException).code ?? 'error'}); it is in the database but not in the file`,
      { cause: error },
    );
  }
}

/** One entry of the checkpoint file: the signed note, or why the lines from `line` are not one. */
export type CheckpointFileEntry = { line: number; note: string } | { line: number; error: string };

/** Reads the checkpoint file entry by entry, streaming (it grows by one note a minute, for years). */
export async function* readCheckpointFile(file: string): AsyncGenerator<CheckpointFileEntry> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let state: 'between' | 'body' | 'blank' | 'signatures' = 'between';
  let body: string[] = [];
  let signatures: string[] = [];
  let start = 0;
  let n = 0;
  const note = (): CheckpointFileEntry => ({
    line: start,
    note: `${body.join('\n')}\n\n${signatures.join('\n')}\n`,
  });
  const broken = (why: string): CheckpointFileEntry => ({
    line: start,
    error: `the entry at line ${start} ${why}`,
  });
  for await (const line of lines) {
    n += 1;
    if (line === '') {
      if (state === 'body') state = 'blank';
      else if (state === 'signatures') {
        yield note();
        state = 'between';
      } else if (state === 'blank') {
        yield broken('has no signature line after its blank line');
        state = 'between';
      }
      continue;
    }
    if (state === 'blank' || state === 'signatures') {
      if (line.startsWith(SIG_PREFIX)) {
        signatures.push(line);
        state = 'signatures';
        continue;
      }
      // Not a signature: the entry ended without one (or without its empty line); a new one starts.
      yield state === 'blank' ? broken('has no signature line after its blank line') : note();
      state = 'between';
    }
    if (state === 'between') [state, start, body, signatures] = ['body', n, [], []];
    body.push(line);
  }
  if (state === 'signatures') yield note();
  else if (state !== 'between') yield broken('is cut short (no signature)');
}
