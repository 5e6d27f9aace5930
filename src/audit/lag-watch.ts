/**
 * Watches the sequencer's lag (lag.ts) and alerts the security officers once per episode when it
 * passes the threshold (REMPART_AUDIT_LAG_ALERT_SECONDS). It runs apart from the sequencer and
 * takes no advisory lock: whoever holds the sequencer's lock (a database superuser, T-audit) stops
 * the folding, not this watch.
 */
import type { Clock } from '../context.ts';
import type { Db } from '../db/types.ts';
import { alertSecurityOfficers, closeLagEpisode, lagEpisodeOpen } from '../guard/audit-alerts.ts';
import { isLagging, readSequencerLag } from './lag.ts';

/** A running lag watch. */
export interface LagWatch {
  /** One check now (the timer's): raises or closes an episode; resolves to whether it is lagging. */
  check(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * How often to look: a quarter of the threshold, between 250 ms and 15 s, so that an alert comes
 * at most 15 s after the threshold is passed (the issue asks for "within a minute").
 */
export function lagCheckMs(alertSeconds: number): number {
  return Math.min(15_000, Math.max(250, Math.floor((alertSeconds * 1000) / 4)));
}

/** Starts the watch on an unref'd timer; a failed check is reported to `onError` and retried. */
export function startLagWatch(
  db: Db,
  options: { clock: Clock; alertSeconds: number; onError: (error: unknown) => void },
): LagWatch {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const check = async (): Promise<boolean> => {
    const now = options.clock.now();
    const lag = await readSequencerLag(db);
    const lagging = isLagging(lag, options.alertSeconds);
    const open = await lagEpisodeOpen(db);
    if (lagging && !open) {
      await alertSecurityOfficers(db, now, {
        action: 'audit.lag_alert',
        subject: "Rempart : journal d'audit en retard / audit log sequencer stalled",
        text:
          `Le séquenceur du journal d'audit est en retard : ${lag.pendingEvents} événement(s) en attente, ` +
          `le plus ancien depuis ${lag.oldestPendingSeconds} s (seuil ${options.alertSeconds} s).\n` +
          `The audit log's sequencer is late: ${lag.pendingEvents} pending event(s), the oldest for ` +
          `${lag.oldestPendingSeconds} s (threshold ${options.alertSeconds} s).\n\n` +
          'Pending events are not yet covered by a signed checkpoint: until they are, they can be altered ' +
          'unseen. Check who holds the sequencer lock (pg_locks, advisory lock 7236002) and that the server runs.',
        details: { ...lag, thresholdSeconds: options.alertSeconds },
      });
    } else if (!lagging && open) {
      await closeLagEpisode(db, now, { ...lag, thresholdSeconds: options.alertSeconds });
    }
    return lagging;
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = check()
      .catch(options.onError)
      .finally(() => {
        busy = false;
      });
  }, lagCheckMs(options.alertSeconds));
  timer.unref();
  return {
    check,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
