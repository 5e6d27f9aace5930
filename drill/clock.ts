/**
 * The drill's side of the simulated time (src/simulated-clock.ts is the server's): it keeps what it
 * last set and lets it flow with real time, and sends every setting to the server, waiting for the
 * acknowledgement. It counts from the moment it sends, before the server receives: the server's
 * time is then never ahead of the drill's, so a setting at or after the drill's own `now()` is
 * never refused for going back.
 */
import type { DrillClock } from './scenario.ts';

/** How far behind the clock a setting may come and be taken as "now" (the server allows as much). */
const SLACK_MS = 1000;

/** A DrillClock that sends each setting with `send` (the running server's ServerProcess.setClock). */
export class SimulatedTime implements DrillClock {
  #at = Date.now();
  #setAt = performance.now();
  #set = false;
  readonly #send: (at: Date) => Promise<unknown>;

  constructor(send: (at: Date) => Promise<unknown>) {
    this.#send = send;
  }

  /** True once a time was set (the server's clock differs from the real one). */
  get simulated(): boolean {
    return this.#set;
  }

  now(): Date {
    return new Date(this.#at + (performance.now() - this.#setAt));
  }

  async set(at: Date): Promise<void> {
    const now = this.now();
    // A caller that read now() and then asks for a time just after it may find the clock already
    // past that time (real time flows meanwhile: seen in a drill, 1 ms behind). The instant has
    // passed: the clock keeps its own time, as the server's does (src/simulated-clock.ts, SLACK_MS).
    if (at.getTime() < now.getTime() && now.getTime() - at.getTime() <= SLACK_MS) return;
    if (at.getTime() < now.getTime()) {
      throw new Error(
        `the simulated clock does not go back (to ${at.toISOString()} from ${now.toISOString()})`,
      );
    }
    const previous = { at: this.#at, setAt: this.#setAt };
    this.#at = at.getTime();
    this.#setAt = performance.now();
    try {
      const acknowledged = await this.#send(at);
      // The server may keep its own time when the setting arrives a hair behind it: adopt it.
      if (acknowledged instanceof Date && acknowledged.getTime() > at.getTime()) {
        this.#at = acknowledged.getTime();
        this.#setAt = performance.now();
      }
      this.#set = true;
    } catch (error) {
      this.#at = previous.at;
      this.#setAt = previous.setAt;
      throw error;
    }
  }

  advance(ms: number): Promise<void> {
    return this.set(new Date(this.now().getTime() + Math.max(0, ms)));
  }

  /** Sends the current time again (a server restarted on the system's time); nothing if never set. */
  async resend(): Promise<void> {
    if (this.#set) await this.set(this.now());
  }
}
