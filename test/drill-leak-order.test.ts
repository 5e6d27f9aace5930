import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mixFile } from '../drill/leak.ts';

/** Ids as the leak chooses them: the smallest md5 of each pool (a small one, a large one). */
function chosen(prefix: string, pool: number, count: number): string[] {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  return Array.from({ length: pool }, (_, i) => `${prefix}-${i}`)
    .sort((a, b) => md5(a).localeCompare(md5(b)))
    .slice(0, count);
}

describe('the leaked file', () => {
  const inside = chosen('in', 60, 50);
  const outside = chosen('out', 5000, 50);
  const file = mixFile(inside, outside);

  it('holds every insider and outsider once', () => {
    expect(file).toHaveLength(100);
    expect(new Set(file.map((p) => p.id)).size).toBe(100);
    expect(
      file
        .filter((p) => p.kind === 'inside')
        .map((p) => p.id)
        .sort(),
    ).toEqual([...inside].sort());
  });

  it('interleaves insiders and outsiders (neither all first)', () => {
    const firstHalf = file.slice(0, 50);
    const insidersFirst = firstHalf.filter((p) => p.kind === 'inside').length;
    expect(insidersFirst).toBeGreaterThan(10);
    expect(insidersFirst).toBeLessThan(40);
    let switches = 0;
    for (let i = 1; i < file.length; i += 1) if (file[i]?.kind !== file[i - 1]?.kind) switches += 1;
    expect(switches).toBeGreaterThan(20);
  });

  it('is deterministic', () => {
    expect(mixFile(inside, outside)).toEqual(file);
    expect(mixFile([...inside].reverse(), [...outside].reverse())).toEqual(file);
  });
});
