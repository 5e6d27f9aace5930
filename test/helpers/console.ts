/**
 * The console's browser-test world: a registry world (seeded persons, accounts by role, a test clock)
 * whose app serves the console build and listens on http://localhost:PORT (a secure context for the
 * browser, and the WebAuthn relying party), and one Chromium for the file. Browser tests act as a
 * person would: labels and roles, not CSS selectors (CONVENTIONS.md, Tests).
 */
import { createServer } from 'node:net';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { GuardConfig } from '../../src/guard/thresholds.ts';
import { CONSOLE_DIST } from '../../src/http/console-build.ts';
import type { Account } from '../../src/identity/accounts.ts';
import {
  launchBrowser,
  openPage,
  seriousAxeViolations,
  type TestBrowser,
  type WatchedPage,
} from './browser.ts';
import { type RegistryWorld, registryWorld } from './registry.ts';
import { enrolled, PASSWORD, totpAt } from './staff.ts';

/** A free TCP port on localhost (the server's PUBLIC_URL must name it before the app is built). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, 'localhost', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ConsoleWorld extends RegistryWorld {
  /** http://localhost:PORT, where the console is served. */
  baseUrl: string;
  browser: Browser;
  /** A new browser context (its own cookies) and page, watched for CSP violations and errors. */
  page(options?: { colorScheme?: 'light' | 'dark'; locale?: string }): Promise<WatchedPage>;
}

/** Starts the world: `persons` seeded, the console served, Chromium launched. */
export async function consoleWorld(
  options: {
    persons?: number;
    guard?: GuardConfig;
    /** More configuration, given the server's address (e.g. a local ProConnect's REMPART_PROCONNECT_*). */
    env?: (baseUrl: string) => Promise<Record<string, string>>;
  } = {},
): Promise<ConsoleWorld> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const world = await registryWorld(options.persons ?? 60, {
    ...(options.guard ? { guard: options.guard } : {}),
    env: { PUBLIC_URL: baseUrl, PORT: String(port), ...(options.env ? await options.env(baseUrl) : {}) },
    consoleDir: CONSOLE_DIST,
  });
  let chromium: TestBrowser | undefined;
  try {
    await world.app.listen({ host: 'localhost', port });
    chromium = await launchBrowser();
  } catch (error) {
    await world.close();
    throw error;
  }
  const browser = chromium.browser;
  const close = world.close;
  return {
    ...world,
    baseUrl,
    browser,
    page: (pageOptions) => openPage(browser, baseUrl, pageOptions),
    async close() {
      await chromium.close();
      await close();
    },
  };
}

/** The page's main heading (level 1, visible), once shown. */
export async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Asserts no axe-core violation of serious or critical impact on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
}

/** Logs in with login and password on the login screen; stops at the next screen. */
export async function passwordStep(page: Page, login: string, password = PASSWORD): Promise<void> {
  await page.goto('/connexion');
  await heading(page, /Connexion des agents|Staff login/);
  await page.getByLabel(/^Identifiant$|^Login$/).fill(login);
  await page.getByLabel(/^Mot de passe$|^Password$/).fill(password);
  await page.getByRole('button', { name: /^Se connecter$|^Log in$/ }).click();
}

/**
 * First login through the console: the password, then an authenticator app enrolled from the QR
 * screen (the secret is read from the page, as a person would type it), then the recovery codes.
 * Returns the TOTP secret and the codes shown.
 */
export async function enrolTotpInConsole(
  world: RegistryWorld,
  page: Page,
  login: string,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  await passwordStep(page, login);
  await heading(page, /Choisir votre second facteur/);
  await page.getByRole('button', { name: 'Configurer une application' }).click();
  await page.getByRole('img', { name: /Code QR/ }).waitFor();
  const secret = (await page.getByTestId('totp-secret').innerText()).trim();
  await page.getByLabel(/Code de l’application/).fill(await totpAt(secret, world.clock.now()));
  await page.getByRole('button', { name: 'Confirmer avec le premier code' }).click();
  await heading(page, 'Vos codes de secours');
  const recoveryCodes = (await page.getByRole('list', { name: 'Vos codes de secours' }).innerText())
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return { secret, recoveryCodes };
}

/** Logs in with password then a TOTP code (an enrolled account) and waits for the home screen. */
export async function loginWithTotp(
  world: RegistryWorld,
  page: Page,
  login: string,
  secret: string,
): Promise<void> {
  await passwordStep(page, login);
  await page.getByLabel(/Code de l’application/).waitFor();
  // A code is accepted once: step past the last used one.
  world.clock.advance(30_000);
  await page.getByLabel(/Code de l’application/).fill(await totpAt(secret, world.clock.now()));
  await page.getByRole('button', { name: 'Vérifier' }).click();
  await heading(page, /^Bienvenue/);
}

/** Chromium's virtual authenticator (a platform passkey with user verification), through CDP. */
export async function virtualPasskey(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** What the browser keeps for the origin (local and session storage, history state), as one text. */
export async function storedText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      localStorage: Storage;
      sessionStorage: Storage;
      history: { state: unknown };
    };
    const dump = (s: Storage) =>
      Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i)!)}`);
    return JSON.stringify([dump(g.localStorage), dump(g.sessionStorage), g.history.state]);
  });
}

/** A new enrolled account of this role and organisation, logged in with TOTP on a new page. */
export async function loggedInAs(world: ConsoleWorld, role: Account['role'], organisationId: string) {
  const account = await world.account({ role, organisationId });
  const { secret } = await enrolled(world, account);
  const watched = await world.page();
  await loginWithTotp(world, watched.page, account.login, secret);
  return { account, secret, ...watched };
}
