/** Terminal output of the CLI: progress bars on a terminal only, a JSON summary as the last line. */
import { SingleBar } from 'cli-progress';
import { type FieldIssue, isAppError } from '../errors.ts';

/** A progress bar on stderr when it is a terminal and --json is not set; otherwise silent. */
export function progress(
  label: string,
  enabled: boolean,
): { update(done: number, total: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Prints the JSON summary as one line on stdout (the contract read by other tools). */
export function printJson(summary: unknown): void {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

/** Formats an issue as "line 12, nir: message". */
export function formatIssue(issue: FieldIssue): string {
  return `${issue.line === undefined ? '' : `line ${issue.line}, `}${issue.field}: ${issue.message}`;
}

/**
 * Reports an error and returns the exit code. AppErrors are the operator's to fix: their message and
 * field issues (which never contain personal data), no stack trace. With --json, also a JSON line.
 */
export function reportError(error: unknown, json: boolean): number {
  if (isAppError(error)) {
    console.error(`rempart: ${error.message}`);
    const more = error.issues.length > 1 || (error.issues[0] && error.issues[0].line !== undefined);
    if (more) {
      const shown = error.issues.slice(0, 50);
      for (const issue of shown) console.error(`  ${formatIssue(issue)}`);
      if (error.issues.length > shown.length)
        console.error(`  … and ${error.issues.length - shown.length} more`);
    }
    if (json) printJson({ error: { code: error.code, message: error.message, issues: error.issues } });
    return 1;
  }
  console.error(error);
  if (json) printJson({ error: { code: 'internal', message: 'unexpected error' } });
  return 70;
}

/**
 * A progress bar per stage of a long command (seeding, then filling, then indexing…): a new bar
 * each time the stage's name changes; `stop` ends the last one.
 */
export function stagedProgress(
  first: string,
  width: number,
  enabled: boolean,
): { onProgress(stage: string, done: number, total: number): void; stop(): void } {
  let stage = first;
  let bar = progress(first.padEnd(width), enabled);
  return {
    onProgress(name, done, total) {
      if (name !== stage) {
        bar.stop();
        bar = progress(name.padEnd(width), enabled);
        stage = name;
      }
      bar.update(done, total);
    },
    stop: () => bar.stop(),
  };
}
