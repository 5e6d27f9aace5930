/**
 * The server's outbox job: drains the mail outbox (outbox.ts) at start (mails queued before a crash,
 * or by a CLI command), when woken after an answer that queued a mail, and every `intervalMs` for
 * retries and for mails queued by other processes. One drain at a time in a process; several
 * processes share the work through the outbox's claims.
 */
import type { Clock } from '../context.ts';
import type { Db } from '../db/types.ts';
import type { Mailer } from './mailer.ts';
import { type DrainResult, drainOutbox, queuedMark } from './outbox.ts';

export interface OutboxJob {
  /** Drains soon if a mail was queued in this process since the last drain (cheap otherwise). */
  wakeIfQueued(): void;
  /** Drains now (after the drain under way, if any) and resolves with what it did. */
  drainNow(): Promise<DrainResult>;
  /** Stops the timer and waits for the drain under way; queued mails stay for the next start. */
  stop(): Promise<void>;
}

/** Starts the job; the first drain runs at once. */
export function startOutbox(
  db: Db,
  mailer: Mailer,
  options: { clock: Clock; intervalMs?: number; onError?: (error: unknown) => void },
): OutboxJob {
  const onError =
    options.onError ?? ((error: unknown) => console.error('rempart: outbox:', (error as Error).message));
  let queue: Promise<unknown> = Promise.resolve();
  let seen = -1;
  let busy = false;
  let again = false;
  let stopped = false;
  const drain = (): Promise<DrainResult> => {
    const run = queue.then(() => {
      seen = queuedMark();
      return drainOutbox(db, mailer, options.clock.now());
    });
    queue = run.catch(() => undefined);
    return run;
  };
  // Timer and wake-ups coalesce: one background drain runs, and one more after it if woken meanwhile
  // (the running drain may have claimed before the new mail was committed).
  const background = (): void => {
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    drain()
      .catch(onError)
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          background();
        }
      });
  };
  const timer = setInterval(background, options.intervalMs ?? 5000);
  timer.unref();
  background();
  return {
    wakeIfQueued() {
      if (queuedMark() !== seen) background();
    },
    drainNow: drain,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await queue;
    },
  };
}
