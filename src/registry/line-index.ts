/**
 * The first line of each NIR and agency id in an import file, for the "is the same as on line N"
 * check, in flat typed arrays: an open-addressing hash table of exact numeric keys (12 bytes a
 * slot) instead of a Map of strings (about 150 bytes an entry), so that a file of a million rows
 * keeps its duplicate check in tens of megabytes (docs/BENCHMARKS.md, "Import").
 */

/** A NIR (15 characters, 2A/2B for Corsica) as an exact number below 2^53: its first 13 characters decide it. */
export function nirNumber(nir: string): number {
  const body = nir.slice(0, 13);
  const corsica = body[6] === 'A' ? 1 : body[6] === 'B' ? 2 : 0;
  return corsica * 1e13 + Number(corsica === 0 ? body : `${body.slice(0, 6)}0${body.slice(7)}`);
}

/** An agency id (7 digits and a letter) as an exact number. */
export function agencyIdNumber(agencyId: string): number {
  return Number(agencyId.slice(0, 7)) * 26 + (agencyId.charCodeAt(7) - 65);
}

/** A map from non-negative integer keys (< 2^53) to line numbers, growing by doubling. */
export class LineIndex {
  #keys = new Float64Array(1024).fill(-1);
  #lines = new Int32Array(1024);
  #size = 0;

  /** The line stored for `key`, or undefined. */
  get(key: number): number | undefined {
    const slot = this.#find(key);
    return this.#keys[slot] === key ? this.#lines[slot] : undefined;
  }

  /**
   * Makes room for `count` keys at once. Each doubling holds the old arrays and the new ones at the
   * same time (36 MB at a million keys): growing early, while the table is small, keeps that
   * transient out of the import's peak memory (docs/IMPORT.md, "Memory").
   */
  reserve(count: number): void {
    while ((count + 1) * 2 > this.#keys.length) this.#grow();
  }

  /** Stores `line` for `key` (replacing any). */
  set(key: number, line: number): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    const slot = this.#find(key);
    if (this.#keys[slot] !== key) this.#size++;
    this.#keys[slot] = key;
    this.#lines[slot] = line;
  }

  // Linear probing from a multiplicative hash of the key's low and high parts.
  #find(key: number): number {
    const mask = this.#keys.length - 1;
    let slot = (Math.imul(key | 0, 0x9e3779b1) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b)) & mask;
    while (this.#keys[slot] !== -1 && this.#keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const keys = this.#keys;
    const lines = this.#lines;
    this.#keys = new Float64Array(keys.length * 2).fill(-1);
    this.#lines = new Int32Array(keys.length * 2);
    this.#size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i]! !== -1) this.set(keys[i]!, lines[i]!);
  }
}
