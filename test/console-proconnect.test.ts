/**
 * ProConnect in the console, in a real Chromium against a real local identity provider
 * (oidc-provider): an agent links their ProConnect identity from their own session, then logs in
 * with ProConnect alone at acr eidas1-mfa and can act (the new session's CSRF token reached the
 * console); the same identity at acr eidas1 (a password alone) is refused on screen and gets no
 * session. The address bar carries only the result code. axe on every page, no CSP violation.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  enrolTotpInConsole,
  expectAccessible,
  heading,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type LocalOidcProvider, startOidcProvider } from './helpers/oidc-provider.ts';

let world: ConsoleWorld;
let idp: LocalOidcProvider;

beforeAll(async () => {
  world = await consoleWorld({
    persons: 40,
    guard: LENIENT_GUARD,
    env: async (baseUrl) => {
      idp = await startOidcProvider({ redirectUri: `${baseUrl}/api/v1/auth/proconnect/callback` });
      return idp.env;
    },
  });
});
afterAll(async () => {
  await world?.close();
  await idp?.close();
});

/**
 * At the identity provider's login page: who, at which level. Its own session cookies are cleared
 * first (the agent logged out of ProConnect), so that each login asks, at the level chosen.
 */
async function atProConnect(page: Page, sub: string, acr: string): Promise<void> {
  await page.getByLabel("Niveau d'authentification").waitFor();
  await page.getByLabel('Identifiant').fill(sub);
  await page.getByLabel("Niveau d'authentification").selectOption(acr);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

/** The session of the page, as the API sees it (a same-origin fetch from the page). */
function meStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/api/v1/me')).status);
}

describe(`ProConnect in the console (${engine})`, () => {
  it('links an identity from the owner’s session, then logs in with it at eidas1-mfa; eidas1 is refused', async () => {
    const account = await world.account({ role: 'counselor', organisationId: world.agency });
    const { page, problems, context } = await world.page();
    await enrolTotpInConsole(world, page, account.login);
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(page, /^Bienvenue/);

    // Linking: from my sessions, with the factor just verified, through ProConnect and back.
    await page.getByRole('link', { name: 'Mes sessions' }).first().click();
    await heading(page, 'Mes sessions');
    await page.context().clearCookies({ domain: '127.0.0.1' });
    await page.getByRole('button', { name: 'Lier mon identité ProConnect' }).click();
    await atProConnect(page, 'agent-console', 'eidas1-mfa');
    await heading(page, 'Connexion avec ProConnect');
    await page.getByText('Votre identité ProConnect est maintenant liée à votre compte.').waitFor();
    expect(new URL(page.url()).search).toBe('?result=linked');
    await page.goto('/mes-sessions');
    await page.getByText(/Identité liée le/).waitFor();
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await heading(page, 'Connexion des agents');
    await expectAccessible(page);
    await screenshot(page, 'login-proconnect');

    // ProConnect alone, at eidas1-mfa: in, and able to act (logout is a POST with the CSRF token).
    await page.context().clearCookies({ domain: '127.0.0.1' });
    await page.getByRole('link', { name: /S’identifier avec ProConnect/ }).click();
    await atProConnect(page, 'agent-console', 'eidas1-mfa');
    await heading(page, /^Bienvenue/);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toContain(account.displayName);
    expect(await meStatus(page)).toBe(200);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await heading(page, 'Connexion des agents');
    expect(await meStatus(page)).toBe(401);

    // At eidas1 (a password alone at ProConnect): refused, said so, no session.
    await page.context().clearCookies({ domain: '127.0.0.1' });
    await page.getByRole('link', { name: /S’identifier avec ProConnect/ }).click();
    await atProConnect(page, 'agent-console', 'eidas1');
    await heading(page, 'Connexion avec ProConnect');
    await page.getByText(/n’a pas confirmé une authentification à deux facteurs/).waitFor();
    expect(new URL(page.url()).search).toBe('?result=mfa_required');
    expect(await meStatus(page)).toBe(401);
    await expectAccessible(page);
    expect(problems).toEqual([]);
    await context.close();
  });
});
