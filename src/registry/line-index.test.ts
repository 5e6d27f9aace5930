import { describe, expect, it } from 'vitest';
import { LineIndex } from './line-index.ts';

// Keys spread like NIR numbers (up to 3·10^13, above 2^32, so both halves of the hash matter).
const key = (i: number): number => 1_000_000_000_007 * (i % 29) + i * 7919;

describe('LineIndex (the duplicate check of an import)', () => {
  it('keeps every line through its doublings, and knows no other key', () => {
    const index = new LineIndex();
    for (let i = 0; i < 5000; i++) index.set(key(i), i + 2);
    for (let i = 0; i < 5000; i++) expect(index.get(key(i))).toBe(i + 2);
    expect(index.get(key(5000))).toBeUndefined();
  });

  it('reserve() for the whole file keeps the keys already stored, and takes the rest', () => {
    const index = new LineIndex();
    for (let i = 0; i < 700; i++) index.set(key(i), i + 2);
    index.reserve(20_000); // what the import does after its first rows (src/registry/import.ts)
    for (let i = 700; i < 20_000; i++) index.set(key(i), i + 2);
    for (let i = 0; i < 20_000; i++) expect(index.get(key(i))).toBe(i + 2);
    expect(index.get(key(20_000))).toBeUndefined();
  });
});
