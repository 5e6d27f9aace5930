/**
 * What each stolen-session attack of the drill took (T2, T5, …: drill/steps/theft.ts), kept for T7
 * (docs/DESIGN.md section 2), which opens an incident from the attacked accounts' alerts and
 * compares the notices sent with this record, person for person and field for field.
 *
 * The record is the attacker's: every person and field its answers carried (the tally). In T2 the
 * stolen session is the owner's own, used from the owner's own machine, and the owner keeps
 * working meanwhile: the audit log cannot tell the owner's reads in that session from the
 * attacker's, so an incident over the attack's window holds both. The record keeps the owner's
 * reads during the window apart, and T7 reports the two comparisons (attackers alone; attackers
 * and owner together) rather than folding one into the other.
 */
import type { CaseloadNotes } from './leak.ts';
import type { ScenarioResult } from './report.ts';
import type { StaffMember, World } from './scenario.ts';

/** One attack's record. */
export interface BreachRecord {
  /** The scenario that ran it (`T2`, `T5`). */
  scenario: string;
  /** The attacked account. */
  victim: StaffMember;
  notes: CaseloadNotes;
  /** The attack's window in the server's simulated time: from the script's first move to its last answer. */
  from: Date | null;
  to: Date;
  /** Person id (lower case) → fields the attacker received. */
  attacker: ReadonlyMap<string, ReadonlySet<string>>;
  /** Person id (lower case) → fields the owner received through the same account in the window. */
  owner: ReadonlyMap<string, ReadonlySet<string>>;
}

const records = new WeakMap<World, Map<string, BreachRecord>>();
const running = new WeakMap<World, Map<string, Promise<ScenarioResult>>>();

/** Keeps an attack's record on the world (the theft does, at its end). */
export function recordBreach(world: World, record: BreachRecord): void {
  const map = records.get(world) ?? new Map<string, BreachRecord>();
  map.set(record.scenario, record);
  records.set(world, map);
}

/** The attack's record, if it ran on this world. */
export function breachRecord(world: World, scenario: string): BreachRecord | undefined {
  return records.get(world)?.get(scenario);
}

/**
 * Runs a scenario once per world: the drill's own run of it, or T7's when it was not selected. A
 * second call gets the first run's result.
 */
export function runOnce(
  world: World,
  id: string,
  run: () => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  const map = running.get(world) ?? new Map<string, Promise<ScenarioResult>>();
  running.set(world, map);
  let pending = map.get(id);
  if (!pending) {
    pending = run();
    map.set(id, pending);
  }
  return pending;
}

/** True once the scenario ran (or started) on this world. */
export function ranOn(world: World, id: string): boolean {
  return running.get(world)?.has(id) ?? false;
}

/** Lower-case ids, copied sets. */
export function lowerIds(received: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [id, fields] of received) {
    const key = id.toLowerCase();
    out.set(key, new Set([...(out.get(key) ?? []), ...fields]));
  }
  return out;
}
