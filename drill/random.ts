/**
 * A seeded random source for the drill's traffic models, so that a run is reproducible: the same
 * seed gives the same accounts, worklists, days and minutes (mulberry32; not for secrets).
 */

/** Seeded pseudo-random numbers and the draws the models use. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A new, independent source derived from this seed and a label (per account, per day). */
  fork(label: string | number): Random {
    let h = this.#state ^ 0x9e3779b9;
    for (const ch of String(label)) h = Math.imul(h ^ ch.charCodeAt(0), 0x5bd1e995) >>> 0;
    return new Random(h ^ (h >>> 15));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Normal(mean, sd) (Box–Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `n` distinct items of a list (all of it if shorter), in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    const count = Math.min(n, copy.length);
    for (let i = 0; i < count; i += 1) {
      const j = i + Math.floor(this.next() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, count);
  }

  /** An index drawn with probability proportional to `weights` (not all zero). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let draw = this.next() * total;
    for (let i = 0; i < weights.length; i += 1) {
      draw -= weights[i]!;
      if (draw < 0) return i;
    }
    return weights.length - 1;
  }
}
