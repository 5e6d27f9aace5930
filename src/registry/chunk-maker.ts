/**
 * Makes sealed batches of synthetic persons, chunk by chunk: in a worker thread (seed.worker.ts)
 * or inline for small populations. Keeps each chunk's plaintext until the database has taken it,
 * in case some persons collide with registered NIRs or agency ids and need new ones.
 */
import type { BlindIndexKind } from '../crypto/blind-index.ts';
import { type PersonBatch, sealPersons } from './persons.ts';
import { type GeneratedPerson, generateChunk, type PopulationSpec, retryIdentifiers } from './population.ts';

export interface ChunkMakerOptions {
  spec: PopulationSpec;
  blindIndexKeyId: string;
  blindIndexKeys: Record<BlindIndexKind, Uint8Array>;
}

export class ChunkMaker {
  readonly #options: ChunkMakerOptions;
  readonly #keys: Record<BlindIndexKind, Buffer>;
  readonly #cache = new Map<number, GeneratedPerson[]>();

  constructor(options: ChunkMakerOptions) {
    this.#options = options;
    const k = options.blindIndexKeys;
    const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    this.#keys = {
      nir: buf(k.nir),
      agency_id: buf(k.agency_id),
      name_birth: buf(k.name_birth),
      email: buf(k.email),
    };
  }

  /** Generates and seals chunk `chunk` (`count` persons). */
  make(chunk: number, count: number): PersonBatch {
    const persons = generateChunk(this.#options.spec, chunk, count);
    this.#cache.set(chunk, persons);
    return sealPersons(
      this.#options.blindIndexKeyId,
      this.#keys,
      persons.map((p) => p.entry),
    );
  }

  /** Gives the persons `ids` of chunk `chunk` new identifiers (attempt n) and seals them again. */
  retry(chunk: number, ids: readonly string[], attempt: number): PersonBatch {
    const wanted = new Set(ids);
    const persons = (this.#cache.get(chunk) ?? []).filter((p) => wanted.has(p.entry.id));
    for (const person of persons) retryIdentifiers(person, attempt);
    return sealPersons(
      this.#options.blindIndexKeyId,
      this.#keys,
      persons.map((p) => p.entry),
    );
  }

  /** Forgets a chunk's plaintext once it is written. */
  done(chunk: number): void {
    this.#cache.delete(chunk);
  }
}
