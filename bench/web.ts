/**
 * `rempart bench web`: what the console's login page makes a browser download on first load, as a
 * real Chromium loads it from a server of the build: every script and style sheet, raw and
 * gzip-compressed (the figure the issue bounds: under 300 kB of JavaScript gzipped). Screens loaded
 * lazily (the security dashboard and its charts...) are not part of the login page, and are listed
 * apart with the whole build.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { chromium } from 'playwright-core';
import { consolePage, registerConsole } from '../src/http/console.ts';
import { buildConsole, CONSOLE_DIST, consoleBuildState } from '../src/http/console-build.ts';
import { registerErrorHandler } from '../src/http/plugins/errors.ts';
import { chromiumPath } from '../test/helpers/browser.ts';

/** The bound the console's first load must stay under: 300 kB of JavaScript, gzipped. */
export const LOGIN_PAGE_JS_GZIP_LIMIT = 300 * 1000;

export interface WebFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface WebBenchSummary {
  page: string;
  scripts: WebFile[];
  styles: WebFile[];
  jsBytes: number;
  jsGzipBytes: number;
  cssGzipBytes: number;
  limitJsGzipBytes: number;
  withinLimit: boolean;
  /** Every script of the build (lazy chunks included), for comparison. */
  buildScripts: WebFile[];
  chromium: string;
}

function sized(file: string, content: Buffer): WebFile {
  return { file, bytes: content.length, gzipBytes: gzipSync(content).length };
}

/** Loads the login page in Chromium from a server of the build and measures what it downloads. */
export async function benchWeb(options: { page?: string } = {}): Promise<WebBenchSummary> {
  if (!(await consoleBuildState()).fresh) await buildConsole();
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('Chromium is not installed (apt-get install -y chromium)');
  const app = Fastify({ logger: false });
  registerErrorHandler(app, consolePage(CONSOLE_DIST));
  await registerConsole(app, CONSOLE_DIST);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = options.page ?? '/connexion';
  const loaded = new Map<string, { type: string; body: Buffer }>();
  try {
    const tab = await browser.newPage();
    tab.on('response', async (response) => {
      const type = response.request().resourceType();
      if (type !== 'script' && type !== 'stylesheet') return;
      const url = new URL(response.url());
      loaded.set(url.pathname, { type, body: await response.body() });
    });
    await tab.goto(`${address}${page}`, { waitUntil: 'networkidle' });
  } finally {
    await browser.close();
    await app.close();
  }
  const scripts = [...loaded].filter(([, v]) => v.type === 'script').map(([file, v]) => sized(file, v.body));
  const styles = [...loaded]
    .filter(([, v]) => v.type === 'stylesheet')
    .map(([file, v]) => sized(file, v.body));
  const assets = path.join(CONSOLE_DIST, 'assets');
  const buildScripts: WebFile[] = [];
  for (const name of (await readdir(assets)).filter((n) => n.endsWith('.js')).sort()) {
    buildScripts.push(sized(`/assets/${name}`, await readFile(path.join(assets, name))));
  }
  const jsGzipBytes = scripts.reduce((sum, f) => sum + f.gzipBytes, 0);
  return {
    page,
    scripts,
    styles,
    jsBytes: scripts.reduce((sum, f) => sum + f.bytes, 0),
    jsGzipBytes,
    cssGzipBytes: styles.reduce((sum, f) => sum + f.gzipBytes, 0),
    limitJsGzipBytes: LOGIN_PAGE_JS_GZIP_LIMIT,
    withinLimit: jsGzipBytes < LOGIN_PAGE_JS_GZIP_LIMIT,
    buildScripts,
    chromium: executablePath,
  };
}
