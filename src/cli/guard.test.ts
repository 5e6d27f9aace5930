/** docs/GUARD.md holds the guard's thresholds as the code has them: the documented defaults cannot drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALPHA_QUIET_MS } from '../guard/state.ts';
import { BUILT_IN, DEFAULTS, SIGNAL_DOCS, SIGNALS, thresholdsFor } from '../guard/thresholds.ts';
import { PROBATION_DAYS } from '../identity/accounts.ts';
import { demoMarkdown, thresholdsMarkdown } from './guard.ts';

const doc = readFileSync(new URL('../../docs/GUARD.md', import.meta.url), 'utf8');

describe('docs/GUARD.md', () => {
  it('has the default table exactly as the code builds it', () => {
    expect(doc).toContain(thresholdsMarkdown(thresholdsFor(BUILT_IN, '', '')));
  });
  it("has the partner counselors' levels exactly as the code builds them", () => {
    const partner = thresholdsMarkdown(thresholdsFor(BUILT_IN, 'partner_counselor', ''));
    expect(doc).toContain(partner.slice(0, partner.indexOf('| parameter')).trim());
  });
  it("has the subcontractor operators' own levels exactly as the code builds them, and no others", () => {
    const operator = thresholdsFor(BUILT_IN, 'subcontractor_operator', '').levels;
    const defaults = thresholdsFor(BUILT_IN, '', '').levels;
    const own = SIGNALS.filter((name) => JSON.stringify(operator[name]) !== JSON.stringify(defaults[name]));
    expect(own).toEqual(['refused_per_day', 'refused_per_week']);
    const section = doc.slice(doc.indexOf('### Subcontractor operators'), doc.indexOf('## Demo accounts'));
    for (const name of own) {
      const levels = operator[name];
      expect(section).toContain(`| \`${name}\` | ${levels.step_up ?? '—'} | ${levels.suspend ?? '—'} |`);
    }
  });
  it('documents every signal with what it measures and why', () => {
    for (const name of SIGNALS) {
      expect(SIGNAL_DOCS[name].measures.length).toBeGreaterThan(10);
      expect(SIGNAL_DOCS[name].reason.length).toBeGreaterThan(10);
      expect(doc).toContain(`\`${name}\``);
    }
  });
  it('has the demo layer exactly as the code builds it', () => {
    expect(doc).toContain(demoMarkdown(BUILT_IN));
  });
  it('gives the durations the code has', () => {
    const p = DEFAULTS.parameters;
    expect(doc).toContain('at the end of that minute (at most 60 s)');
    expect(doc).toContain(`or after \`throttleMinutes\` (${p.throttleMinutes}) if that comes first`);
    expect(doc).toContain(`after \`throttleMinutes\` (${p.throttleMinutes}); a daily quota`);
    expect(doc).toContain(`Probation lasts \`${PROBATION_DAYS}\` days`);
    expect(doc).toContain(`\`newSourceDays\` (${p.newSourceDays}) without use`);
    expect(doc).toContain(`after ${ALPHA_QUIET_MS / 60_000} minutes without an empty name search`);
    // No claim that a per-minute throttle lasts the longest throttle.
    expect(doc).not.toMatch(/per-minute[^.|]*throttleMinutes/);
  });
});
