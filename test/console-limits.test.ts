/** Every kind of limit the guard can name has its French words in the console (web/src/layout/limits.ts). */
import { describe, expect, it } from 'vitest';
import { LIMIT_LABELS } from '../src/guard/signals.ts';
import { LIMIT_FR, limitIn } from '../web/src/layout/limits.ts';

describe("the guard's limits in French", () => {
  it.each(Object.entries(LIMIT_LABELS))('%s: "%s" is translated', (_signal, label) => {
    expect(LIMIT_FR[label]).toEqual(expect.any(String));
    expect(LIMIT_FR[label]).not.toBe(label);
  });

  it('translates each kind of a joined answer, and leaves English as the server said it', () => {
    expect(limitIn('fr', 'records opened this minute; searches this hour')).toBe(
      'dossiers ouverts cette minute ; recherches cette heure',
    );
    expect(limitIn('en', 'searches this hour')).toBe('searches this hour');
  });
});
