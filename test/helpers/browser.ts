/**
 * A real Chromium (Debian's, installed by .ci/run) driven by playwright-core, for the console's
 * browser tests: launched with the flags this machine needs, one fresh profile per browser, axe-core
 * run in the page, Content-Security-Policy violations collected, screenshots saved for docs/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Where Chromium is: CHROMIUM_PATH, or Debian's package. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((candidate) => candidate && existsSync(candidate));
}

/** A launched browser. */
export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches Chromium headless; playwright gives it a fresh throwaway profile (its own --user-data-dir). */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error('Chromium is not installed: apt-get install -y chromium (see .ci/run)');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A page that records the Content-Security-Policy violations and page errors it meets. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** CSP violations and uncaught errors, as text (a test expects none). */
  problems: string[];
}

/** Opens a context (its own cookies) and a page on `baseURL`, in French unless `locale` says otherwise. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  options: { colorScheme?: 'light' | 'dark'; locale?: string } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    baseURL,
    locale: options.locale ?? 'fr-FR',
    colorScheme: options.colorScheme ?? 'light',
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Trusted Type/i.test(text)) problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message} ${error.stack ?? ''}`));
  return { page, context, problems };
}

let axeSource: string | undefined;

/** The axe-core violations of serious or critical impact on the page as it is now. */
export async function seriousAxeViolations(
  page: Page,
): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern:
  // the CSP under test stays on.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<AxeResult> } }
    ).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, {
      resultTypes: ['violations'],
    });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact ?? '', nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

interface AxeResult {
  violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
}

/** The folder the README's screenshots live in. */
export const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

/** Saves a screenshot of the page as docs/screenshots/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
