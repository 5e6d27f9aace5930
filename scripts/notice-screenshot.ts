/**
 * Makes docs/screenshots/notice-letter.png: a sample notice letter (a fictitious person, a notice
 * signed under a throwaway key) written by the letters channel (src/notify/letters.ts) as a PDF,
 * opened in Chromium's PDF viewer (playwright-core, test/helpers/browser.ts) and captured.
 * Run: `npx node scripts/notice-screenshot.ts` (needs Chromium, as the browser tests do).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withNewNoticeKey } from '../src/crypto/keyring.ts';
import { writeLetterBatch } from '../src/notify/letters.ts';
import { signedNoticeText } from '../src/notify/notice-text.ts';
import { launchBrowser } from '../test/helpers/browser.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'rempart-notice-shot-'));
try {
  const signedText = signedNoticeText(withNewNoticeKey(undefined, new Date('2026-12-01T09:00:00Z')), {
    incidentId: '3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f',
    fields: ['address', 'birthDate', 'lastName', 'nir'],
    code: '7QK4-M2ZD-9XAB',
    publicUrl: 'https://rempart.example.gouv.fr',
    detectedAt: new Date('2026-11-30T14:00:00Z'),
  });
  const file = await writeLetterBatch(dir, 'sample.pdf', [
    {
      noticeId: '8c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
      name: 'Camille Exemple',
      address: { line: '12 rue des Fictifs', postalCode: '75011', city: 'Paris' },
      signedText,
      date: new Date('2026-12-01T09:00:00Z'),
    },
  ]);
  const { browser, close } = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(`${pathToFileURL(file).href}#toolbar=0&view=FitH`);
    await page.waitForTimeout(3000);
    await page.screenshot({ path: path.resolve('docs/screenshots/notice-letter.png') });
  } finally {
    await close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
