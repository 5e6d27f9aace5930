/**
 * FranceConnect in the person's portal, in a real Chromium against a local FranceConnect stand-in
 * (oidc-provider, ES256, the pivot identity): the login page shows the button, the person logs in
 * with FranceConnect alone, lands in their space, and can act (the logout is a POST with the CSRF
 * token the page took once from the handoff route). axe on every page, no CSP violation.
 * Screenshot: portal-login-franceconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { screenshot } from './helpers/browser.ts';
import { type ConsoleWorld, consoleWorld, expectAccessible, heading } from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { PIVOT_SCOPES, type Pivot } from './helpers/franceconnect.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type LocalOidcProvider, startOidcProvider } from './helpers/oidc-provider.ts';

let world: ConsoleWorld;
let idp: LocalOidcProvider;
const pivots = new Map<string, Pivot>();

beforeAll(async () => {
  world = await consoleWorld({
    persons: 40,
    guard: LENIENT_GUARD,
    env: async (baseUrl) => {
      idp = await startOidcProvider({
        redirectUri: `${baseUrl}/api/v1/portal/franceconnect/callback`,
        signingAlg: 'ES256',
        acr: 'eidas1',
        acrLevels: ['eidas1', 'eidas2', 'eidas3'],
        claims: { scopes: PIVOT_SCOPES, of: (sub) => ({ ...pivots.get(sub) }) },
      });
      return idp.franceconnectEnv;
    },
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
  await idp?.close();
});

describe(`FranceConnect in the person's portal (${engine})`, () => {
  it('logs a person in with FranceConnect alone; the page gets its CSRF token and can act', async () => {
    const live = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ id: string }>("SELECT id FROM persons WHERE status <> 'archived'"),
    );
    const ids = new Set(live.map((row) => row.id));
    const person = world.persons.find((p) => ids.has(p.id) && 'communeCode' in p.identity.birthPlace)!;
    const identity = person.identity;
    const place = identity.birthPlace as { communeCode: string };
    pivots.set('fc-person', {
      family_name: identity.birthName ?? identity.lastName,
      given_name: identity.firstNames.split(/,\s*/).join(' '),
      birthdate: identity.birthDate,
      gender: identity.sex === 'F' ? 'female' : 'male',
      birthplace: place.communeCode,
      birthcountry: '99100',
    });

    const { page, problems, context } = await world.page();
    const meStatus = () => page.evaluate(async () => (await fetch('/api/v1/portal/me')).status);
    await page.goto('/mon-espace');
    await heading(page, 'Mon espace');
    await page.getByRole('link', { name: /S’identifier avec FranceConnect/ }).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'portal-login-franceconnect');
    await page.getByRole('link', { name: /S’identifier avec FranceConnect/ }).click();
    await page.getByLabel('Identifiant').fill('fc-person');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('button', { name: 'Se déconnecter' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/mon-espace');
    expect(new URL(page.url()).search).toBe('');
    expect(await meStatus()).toBe(200);
    await expectAccessible(page);
    // The logout is a POST with the CSRF token: it succeeds only if the handoff reached the page.
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('link', { name: /S’identifier avec FranceConnect/ }).waitFor();
    expect(await meStatus()).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });
});
