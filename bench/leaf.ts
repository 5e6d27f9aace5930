/**
 * `rempart bench leaf`: what computing one audit leaf costs the sequencer (and `audit verify`), format
 * v1 (every field in clear) against v2 (salted commitments, src/audit/leaf.ts), for events touching
 * 1 and N persons; and what the gate's append adds per event (the 32-byte salt from randomBytes).
 * Pure CPU, no database: the sequencer's reads and writes are the gate bench's (`rempart bench gate`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { eventLeafHash, type StoredEvent } from '../src/audit/leaf.ts';

/** One format's figures. */
export interface LeafTiming {
  persons: number;
  v1Microseconds: number;
  v2Microseconds: number;
  /** v2 ÷ v1. */
  ratio: number;
}

export interface LeafBenchSummary {
  bench: 'leaf';
  events: number;
  timings: LeafTiming[];
  saltMicroseconds: number;
}

function event(persons: number, salt: Buffer | null): StoredEvent {
  return {
    id: '1234567',
    occurredAt: new Date(),
    actorKind: 'staff',
    accountId: randomUUID(),
    organisationId: randomUUID(),
    role: 'counselor',
    sessionRef: 'feedfacecafebeef',
    requestId: randomUUID(),
    sourceAddress: '198.51.100.23',
    purpose: 'accompaniment',
    action: 'person.search',
    query: { by: 'nir', cap: 20 },
    justification: null,
    decision: 'allow',
    reason: null,
    resultCount: persons,
    persons: Array.from({ length: persons }, () => ({
      personId: randomUUID(),
      fields: ['firstNames', 'lastName', 'nir'],
    })),
    salt,
  };
}

/** Mean microseconds per call of `fn`, after a warm-up. */
function time(n: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return Math.round(((performance.now() - t0) * 1000 * 100) / n) / 100;
}

/** Times `events` leaves of each format, for events of 1 person and of `persons` persons. */
export function benchLeaf(options: { events: number; persons: number }): LeafBenchSummary {
  const timings = [1, options.persons].map((persons): LeafTiming => {
    const v1 = event(persons, null);
    const v2 = event(persons, randomBytes(32));
    const v1Microseconds = time(options.events, () => eventLeafHash(v1));
    const v2Microseconds = time(options.events, () => eventLeafHash(v2));
    return {
      persons,
      v1Microseconds,
      v2Microseconds,
      ratio: Math.round((v2Microseconds / v1Microseconds) * 100) / 100,
    };
  });
  return {
    bench: 'leaf',
    events: options.events,
    timings,
    saltMicroseconds: time(options.events, () => randomBytes(32)),
  };
}
