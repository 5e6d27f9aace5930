/**
 * The drill's simulated time (REMPART_CLOCK=simulated): a clock that the parent process sets over
 * the Node IPC channel, so that `rempart drill` replays weeks of work and attack in minutes
 * against a real server (CONVENTIONS.md, "Time, randomness"). Between two settings it flows with
 * real elapsed time, so sessions, throttles and the guard see time pass as they would.
 * It only moves forward: a time earlier than the clock's own is refused, because sessions, one-time
 * codes and audit checkpoints already written at a later time must never be followed by earlier ones.
 *
 * Messages (JSON over `process.send`):
 *   parent → server  {type: 'rempart.clock', at: '<ISO-8601>'}
 *   server → parent  {type: 'rempart.clock.ack', at: '<ISO-8601>'}            the clock now reads `at`
 *                    {type: 'rempart.clock.refused', at, now, reason}          not set (earlier, or not a time)
 */
import type { Config } from './config.ts';
import { type Clock, systemClock } from './context.ts';
import { AppError } from './errors.ts';

/** The message that sets the simulated time. */
export const CLOCK_MESSAGE = 'rempart.clock';
/** The server's answer once the time is set. */
export const CLOCK_ACK = 'rempart.clock.ack';
/** The server's answer when the time was not set. */
export const CLOCK_REFUSED = 'rempart.clock.refused';

/** How far behind its own time a setting may be and still be acknowledged (the clock keeps its time). */
const SLACK_MS = 1000;

/** A clock set from outside that then flows with real elapsed time; never goes back. */
export class SimulatedClock implements Clock {
  #at: number;
  #setAt: number;
  readonly #elapsed: () => number;

  /** Starts at `start` (default: the system's time); `elapsed` is a monotonic millisecond counter. */
  constructor(start: Date = new Date(), elapsed: () => number = () => performance.now()) {
    this.#elapsed = elapsed;
    this.#at = start.getTime();
    this.#setAt = elapsed();
  }

  /** The simulated time: the last time set, plus the real time elapsed since. */
  now(): Date {
    return new Date(this.#at + (this.#elapsed() - this.#setAt));
  }

  /** Sets the time; throws (validation_failed) for a time earlier than now, or not a time. */
  set(at: Date): Date {
    const target = at.getTime();
    if (!Number.isFinite(target)) throw new AppError('validation_failed', 'not a time', { field: 'at' });
    const elapsed = this.#elapsed();
    const now = this.#at + (elapsed - this.#setAt);
    // A setting a hair behind (the parent's clock and this one run apart by the message's transit)
    // keeps this clock's time, acknowledged as such; further back is refused.
    if (target < now && now - target <= SLACK_MS) return new Date(now);
    if (target < now) {
      throw new AppError('validation_failed', 'the simulated clock does not go back', { field: 'at' });
    }
    this.#at = target;
    this.#setAt = elapsed;
    return new Date(target);
  }
}

/** The part of a Node process the clock channel uses (process itself; a fake in tests). */
export interface IpcProcess {
  send?: (message: unknown) => boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Answers the parent's clock messages on the IPC channel: sets `clock` and acknowledges, or says
 * why not. Other messages are left alone. Returns a function that stops listening.
 */
export function listenForClock(clock: SimulatedClock, proc: IpcProcess): () => void {
  const send = proc.send?.bind(proc);
  if (!send) throw noChannel();
  const listener = (message: unknown): void => {
    if (message === null || typeof message !== 'object') return;
    const { type, at } = message as { type?: unknown; at?: unknown };
    if (type !== CLOCK_MESSAGE) return;
    try {
      const set = clock.set(new Date(typeof at === 'string' ? at : Number.NaN));
      send({ type: CLOCK_ACK, at: set.toISOString() });
    } catch (error) {
      send({
        type: CLOCK_REFUSED,
        at: typeof at === 'string' ? at : null,
        now: clock.now().toISOString(),
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  };
  proc.on('message', listener);
  return () => {
    proc.off('message', listener);
  };
}

function noChannel(): AppError {
  return new AppError(
    'bad_configuration',
    'bad configuration: REMPART_CLOCK=simulated needs a parent process that sets the time over an IPC ' +
      'channel (rempart drill starts the server so); this process has none. Unset REMPART_CLOCK to use the ' +
      "system's time",
    { field: 'REMPART_CLOCK' },
  );
}

/** The server's clock for this configuration, and how to stop listening (a no-op for the system's). */
export function serverClock(
  config: Pick<Config, 'clock'>,
  proc: IpcProcess = process,
): { clock: Clock; simulated: boolean; close(): void } {
  if (config.clock !== 'simulated') return { clock: systemClock, simulated: false, close: () => undefined };
  if (!proc.send) throw noChannel();
  const clock = new SimulatedClock();
  const close = listenForClock(clock, proc);
  return { clock, simulated: true, close };
}
