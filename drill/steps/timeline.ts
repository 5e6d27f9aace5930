/**
 * One simulated day shared by an honest owner and an attacker (T2, T2b, T5, T9, ENUM-*, CANARY):
 * things to do at given instants of the server's simulated time, done in time order. The clock is
 * moved to each instant before its task runs (never back: a task due while another was running
 * runs as soon as it can, late). A task may itself wait (`wait`, `until`): the tasks due meanwhile
 * run then — an attacker's script waiting out a throttle lets the owner's work of those minutes
 * happen, as it would at the office. Tasks run one at a time; a waiting task resumes when the
 * tasks due before its wake-up instant are done.
 */
import type { DrillClock } from '../scenario.ts';

interface Task {
  at: number;
  order: number;
  run: () => Promise<void>;
}

/** Tasks on the simulated clock, run in time order. */
export class Timeline {
  readonly clock: DrillClock;
  readonly #tasks: Task[] = [];
  #order = 0;

  constructor(clock: DrillClock) {
    this.clock = clock;
  }

  /** The simulated time now. */
  now(): Date {
    return this.clock.now();
  }

  /** Adds a task for instant `at` (tasks of one instant run in the order they were added). */
  schedule(at: Date, run: () => Promise<void>): void {
    this.#tasks.push({ at: at.getTime(), order: this.#order++, run });
  }

  /** Tasks not yet run. */
  get pending(): number {
    return this.#tasks.length;
  }

  /** Runs every task due at or before `at`, in time order, then moves the clock to `at` (if ahead). */
  async until(at: Date): Promise<void> {
    for (;;) {
      const next = this.#next(at.getTime());
      if (!next) break;
      await this.#moveTo(next.at);
      await next.run();
    }
    await this.#moveTo(at.getTime());
  }

  /**
   * Moves the clock forward to `at` if it is ahead of the drill's now. The server's own time may
   * already be a few milliseconds past it (seen in drill runs: the server refused times 1 and 19 ms
   * behind its own): the instant has passed there, so the task simply runs late.
   */
  async #moveTo(at: number): Promise<void> {
    if (at <= this.clock.now().getTime()) return;
    try {
      await this.clock.set(new Date(at));
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('does not go back'))) throw error;
    }
  }

  /** Waits `ms` of simulated time, running the tasks due meanwhile. */
  wait(ms: number): Promise<void> {
    return this.until(new Date(this.clock.now().getTime() + Math.max(0, ms)));
  }

  /** Drops the tasks not yet run (the end of a scenario). */
  clear(): void {
    this.#tasks.length = 0;
  }

  #next(limit: number): Task | undefined {
    let best = -1;
    for (let i = 0; i < this.#tasks.length; i += 1) {
      const task = this.#tasks[i]!;
      if (task.at > limit) continue;
      const chosen = this.#tasks[best];
      if (!chosen || task.at < chosen.at || (task.at === chosen.at && task.order < chosen.order)) best = i;
    }
    return best < 0 ? undefined : this.#tasks.splice(best, 1)[0];
  }
}
