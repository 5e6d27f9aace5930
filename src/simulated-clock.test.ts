import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import {
  CLOCK_ACK,
  CLOCK_MESSAGE,
  CLOCK_REFUSED,
  listenForClock,
  SimulatedClock,
  serverClock,
} from './simulated-clock.ts';

/** A monotonic counter the test moves by hand. */
function realTime(start = 1_000): { elapsed: () => number; pass(ms: number): void } {
  let now = start;
  return {
    elapsed: () => now,
    pass(ms) {
      now += ms;
    },
  };
}

/** A fake process with an IPC channel: what the server sends is kept in `sent`. */
class FakeProcess extends EventEmitter {
  readonly sent: unknown[] = [];
  send = (message: unknown): boolean => {
    this.sent.push(message);
    return true;
  };
}

describe('SimulatedClock', () => {
  it('reads the time set, then flows with real elapsed time', () => {
    const real = realTime();
    const clock = new SimulatedClock(new Date('2026-01-05T07:00:00Z'), real.elapsed);
    expect(clock.now().toISOString()).toBe('2026-01-05T07:00:00.000Z');
    real.pass(1_500);
    expect(clock.now().toISOString()).toBe('2026-01-05T07:00:01.500Z');
    clock.set(new Date('2026-02-02T07:00:00Z'));
    expect(clock.now().toISOString()).toBe('2026-02-02T07:00:00.000Z');
    real.pass(60_000);
    expect(clock.now().toISOString()).toBe('2026-02-02T07:01:00.000Z');
  });

  it('never goes back: a setting a hair behind keeps its time (acknowledged as such), further back is refused', () => {
    const real = realTime();
    const clock = new SimulatedClock(new Date('2026-01-05T07:00:00Z'), real.elapsed);
    real.pass(10_000);
    expect(clock.set(new Date('2026-01-05T07:00:09.999Z')).toISOString()).toBe('2026-01-05T07:00:10.000Z');
    expect(() => clock.set(new Date('2026-01-05T07:00:08.999Z'))).toThrow(AppError);
    expect(() => clock.set(new Date('2026-01-05T07:00:08.999Z'))).toThrow('does not go back');
    expect(() => clock.set(new Date(Number.NaN))).toThrow('not a time');
    expect(clock.now().toISOString()).toBe('2026-01-05T07:00:10.000Z');
    // The same time is not going back.
    expect(clock.set(new Date('2026-01-05T07:00:10Z')).toISOString()).toBe('2026-01-05T07:00:10.000Z');
  });

  it('is set over the IPC channel and acknowledges; refuses going back or a non-time, saying why', () => {
    const real = realTime();
    const clock = new SimulatedClock(new Date('2026-01-05T07:00:00Z'), real.elapsed);
    const proc = new FakeProcess();
    const stop = listenForClock(clock, proc);
    proc.emit('message', { type: CLOCK_MESSAGE, at: '2026-03-02T08:00:00+01:00' });
    expect(proc.sent.at(-1)).toEqual({ type: CLOCK_ACK, at: '2026-03-02T07:00:00.000Z' });
    expect(clock.now().toISOString()).toBe('2026-03-02T07:00:00.000Z');
    proc.emit('message', { type: CLOCK_MESSAGE, at: '2026-01-01T00:00:00Z' });
    expect(proc.sent.at(-1)).toMatchObject({
      type: CLOCK_REFUSED,
      at: '2026-01-01T00:00:00Z',
      now: '2026-03-02T07:00:00.000Z',
      reason: 'the simulated clock does not go back',
    });
    proc.emit('message', { type: CLOCK_MESSAGE, at: 'tomorrow' });
    expect(proc.sent.at(-1)).toMatchObject({ type: CLOCK_REFUSED, reason: 'not a time' });
    // Other messages are not the clock's.
    proc.emit('message', { type: 'something.else', at: '2030-01-01T00:00:00Z' });
    proc.emit('message', 'rempart.clock');
    expect(proc.sent).toHaveLength(3);
    stop();
    proc.emit('message', { type: CLOCK_MESSAGE, at: '2027-01-01T00:00:00Z' });
    expect(proc.sent).toHaveLength(3);
    expect(clock.now().toISOString()).toBe('2026-03-02T07:00:00.000Z');
  });

  it('the server refuses REMPART_CLOCK=simulated without an IPC channel, and uses the system clock otherwise', () => {
    const noChannel = new EventEmitter();
    expect(() => serverClock({ clock: 'simulated' }, noChannel)).toThrow(
      /REMPART_CLOCK=simulated needs a parent/,
    );
    const system = serverClock({ clock: 'system' }, noChannel);
    expect(system.simulated).toBe(false);
    expect(Math.abs(system.clock.now().getTime() - Date.now())).toBeLessThan(1_000);
    const proc = new FakeProcess();
    const simulated = serverClock({ clock: 'simulated' }, proc);
    expect(simulated.simulated).toBe(true);
    expect(proc.listenerCount('message')).toBe(1);
    simulated.close();
    expect(proc.listenerCount('message')).toBe(0);
  });
});
