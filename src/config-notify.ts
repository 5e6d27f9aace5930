/**
 * The REMPART_NOTIFY_* part of the configuration (docs/NOTICES.md, "Configuration"): how the incident
 * notices' job sends. Called by loadConfig with its environment: config.ts stays the only reader of
 * process.env.
 */
import path from 'node:path';
import { integerVar } from './config-integer.ts';
import type { FieldIssue } from './errors.ts';

/** The notices' sending job (`rempart notify send`). */
export interface NotifyConfig {
  /** Notices sent per second at most, all channels together (REMPART_NOTIFY_RATE, default 50). */
  rate: number;
  /** Sends in flight at once, and SMTP pooled connections (REMPART_NOTIFY_CONCURRENCY, default 4). */
  concurrency: number;
  /** Where letter PDFs are written for print, one per batch (REMPART_LETTER_DIR, default <REMPART_DATA>/letters). */
  letterDir: string;
  /** Letters per PDF file (REMPART_LETTER_BATCH, default 500). */
  letterBatch: number;
  /** The default SMS provider's folder: one JSON line per SMS (REMPART_SMS_DIR, default <REMPART_DATA>/sms). */
  smsDir: string;
  /** Sending threads besides the job's own, on PostgreSQL only (REMPART_NOTIFY_THREADS, default 0). */
  threads: number;
}

function folder(env: NodeJS.ProcessEnv, name: string, fallback: string, issues: FieldIssue[]): string {
  const text = env[name]?.trim() || undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character in a path is a mistake
  if (text !== undefined && /[\u0000-\u001f]/.test(text)) {
    issues.push({ field: name, message: 'must be a folder path' });
    return path.resolve(fallback);
  }
  return path.resolve(text ?? fallback);
}

/** Reads the REMPART_NOTIFY_*, REMPART_LETTER_* and REMPART_SMS_DIR variables; an issue per bad one. */
export function loadNotify(env: NodeJS.ProcessEnv, dataDir: string, issues: FieldIssue[]): NotifyConfig {
  return {
    rate: integerVar(env, 'REMPART_NOTIFY_RATE', 50, 1, 100_000, issues),
    concurrency: integerVar(env, 'REMPART_NOTIFY_CONCURRENCY', 4, 1, 64, issues),
    letterDir: folder(env, 'REMPART_LETTER_DIR', path.join(dataDir, 'letters'), issues),
    letterBatch: integerVar(env, 'REMPART_LETTER_BATCH', 500, 1, 100_000, issues),
    smsDir: folder(env, 'REMPART_SMS_DIR', path.join(dataDir, 'sms'), issues),
    threads: integerVar(env, 'REMPART_NOTIFY_THREADS', 0, 0, 16, issues),
  };
}
