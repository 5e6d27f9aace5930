/**
 * The server's daily retention run (docs/RETENTION.md): once a minute the job looks at the local
 * time in France; past the configured time (REMPART_RETENTION_DAILY_AT, default 02:30) and with no
 * run of the server's yet for that date, it runs retention. Several server processes may look; the
 * database lets one run per date (retention_runs_daily). A run missed while the server was down
 * happens at the next look after start; a run cut short is finished by the next day's.
 */
import type { RetentionConfig } from '../config-retention.ts';
import type { Clock } from '../context.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { localParts } from '../guard/calendar.ts';
import { type RetentionReport, runRetention } from './run.ts';

/** How often the job looks at the time. */
const LOOK_EVERY_MS = 60_000;

/** The local date in France of `at` (YYYY-MM-DD): the day retention counts from. */
export function retentionDay(at: Date): string {
  return localParts(at, 'Europe/Paris').day;
}

/** Whether the server's run of `at`'s local day is due: past the time, and not yet run. */
export async function dailyRunDue(db: Db, config: RetentionConfig, at: Date): Promise<string | null> {
  if (!config.dailyAt) return null;
  const local = localParts(at, 'Europe/Paris');
  if (local.minutes < config.dailyAt.hour * 60 + config.dailyAt.minute) return null;
  const rows = await db.read<{ n: number }>(
    systemCtx('retention').actor,
    `SELECT count(*)::int AS n FROM retention_runs WHERE as_of = $1 AND trigger = 'server' AND NOT dry_run`,
    [local.day],
  );
  return (rows[0]?.n ?? 0) === 0 ? local.day : null;
}

/** Starts the daily job; `stop` waits for a run under way. */
export function startRetentionJob(
  db: Db,
  options: {
    clock: Clock;
    config: RetentionConfig;
    onRun: (report: RetentionReport) => void;
    onError: (error: unknown) => void;
  },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const look = (): void => {
    if (running || stopped) return;
    running = (async () => {
      const at = options.clock.now();
      const day = await dailyRunDue(db, options.config, at);
      if (day === null || stopped) return;
      const report = await runRetention(db, {
        asOf: day,
        periods: options.config.periods,
        dryRun: false,
        trigger: 'server',
        at,
      });
      if (report) options.onRun(report);
    })()
      .catch((error: unknown) => {
        if (!stopped) options.onError(error);
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = options.config.dailyAt ? setInterval(look, LOOK_EVERY_MS) : null;
  timer?.unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
