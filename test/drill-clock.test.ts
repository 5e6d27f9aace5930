/** The drill's side of the simulated time (drill/clock.ts). */
import { describe, expect, it } from 'vitest';
import { SimulatedTime } from '../drill/clock.ts';

describe('the drill clock', () => {
  it('takes a setting a hair behind it as now, sends nothing, and refuses one further back', async () => {
    const sent: Date[] = [];
    const clock = new SimulatedTime(async (at) => {
      sent.push(at);
      return at;
    });
    await clock.set(new Date('2027-02-01T22:59:45.510Z'));
    expect(sent).toHaveLength(1);
    // Read, then asked for a time the clock has passed meanwhile (the race a drill met: 1 ms).
    await clock.set(new Date(clock.now().getTime() - 1));
    expect(sent).toHaveLength(1);
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(Date.parse('2027-02-01T22:59:45.510Z'));
    await expect(clock.set(new Date(clock.now().getTime() - 60_000))).rejects.toThrow('does not go back');
    await clock.advance(60_000);
    expect(sent).toHaveLength(2);
  });
});
