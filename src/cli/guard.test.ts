/** docs/GUARD.md holds the guard's thresholds as the code has them: the documented defaults cannot drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILT_IN, SIGNAL_DOCS, SIGNALS, thresholdsFor } from '../guard/thresholds.ts';
import { thresholdsMarkdown } from './guard.ts';

const doc = readFileSync(new URL('../../docs/GUARD.md', import.meta.url), 'utf8');

describe('docs/GUARD.md', () => {
  it('has the default table exactly as the code builds it', () => {
    expect(doc).toContain(thresholdsMarkdown(thresholdsFor(BUILT_IN, '', '')));
  });
  it("has the partner counselors' levels exactly as the code builds them", () => {
    const partner = thresholdsMarkdown(thresholdsFor(BUILT_IN, 'partner_counselor', ''));
    expect(doc).toContain(partner.slice(0, partner.indexOf('| parameter')).trim());
  });
  it('documents every signal with what it measures and why', () => {
    for (const name of SIGNALS) {
      expect(SIGNAL_DOCS[name].measures.length).toBeGreaterThan(10);
      expect(SIGNAL_DOCS[name].reason.length).toBeGreaterThan(10);
      expect(doc).toContain(`\`${name}\``);
    }
  });
});
