/**
 * The console in a real Chromium for the helpdesk, managers, account owners and the DPO: a recovery
 * through all its screens (the helpdesk opens the case, the owner of another case cancels it with the
 * mailed code, the manager approves with the attestation, the owner completes with the mailed code
 * after the delay, enrols a new factor and logs in with it); a provisioning request refused to its own
 * requester and approved by a second manager, then activated by the new account's owner; the DPO
 * reading the incidents and a person's access history. axe-core on every page, no Content-Security-
 * Policy or Trusted Types violation; screenshots to docs/screenshots/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breachScope } from '../src/audit/scope.ts';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { openIncident } from '../src/incidents/incidents.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  expectAccessible,
  heading,
  loginWithTotp,
  passwordStep,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { enrolled, totpAt } from './helpers/staff.ts';

const HOUR = 3_600_000;
const NEW_PASSWORD = 'copper meadow signal 81';

let world: ConsoleWorld;
const secrets = new Map<string, string>();

/** An account of `role` in `organisationId` with an authenticator app enrolled (through the API). */
async function enrolledAccount(role: Account['role'], organisationId: string): Promise<Account> {
  const account = await world.account({ role, organisationId });
  secrets.set(account.id, (await enrolled(world, account)).secret);
  return account;
}

/** Logs `account` in through the console (password, then TOTP). */
async function login(page: Page, account: Account): Promise<void> {
  await loginWithTotp(world, page, account.login, secrets.get(account.id)!);
}

/** The one-time code (four groups of four) of the latest mail to `address` whose subject matches. */
async function mailedCode(address: string, subject: RegExp): Promise<string> {
  await world.drainMail();
  const mail = (world.mailer as unknown as { sent: Mail[] }).sent
    .filter((m) => m.to.includes(address) && subject.test(m.subject))
    .at(-1);
  const code = mail && /\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b/.exec(mail.text)?.[1];
  if (!code) throw new Error(`no mail with a code to this address (${subject})`);
  return code;
}

/** Opens a screen from the header's navigation; waits for its heading (the link's name unless given). */
async function navigate(page: Page, link: string, title = link): Promise<void> {
  await page.getByRole('link', { name: link, exact: true }).first().click();
  await heading(page, title);
}

beforeAll(async () => {
  world = await consoleWorld({ persons: 60, guard: LENIENT_GUARD });
});
afterAll(async () => {
  await world?.close();
});

describe(`the console for the helpdesk, managers, owners and the DPO (${engine})`, () => {
  it('a recovery through all its screens: helpdesk, cancel, manager with attestation, owner with the mailed code, new factor', async () => {
    const helpdesk = await enrolledAccount('helpdesk', world.national);
    const manager = await enrolledAccount('org_manager', world.agency);
    const owner = await enrolledAccount('counselor', world.agency);
    const bystander = await world.account({ role: 'counselor', organisationId: world.agency });

    // The helpdesk opens two cases; it sees them, and can do nothing else to the accounts.
    const desk = await world.page();
    await login(desk.page, helpdesk);
    await navigate(desk.page, 'Récupération de compte');
    for (const target of [bystander, owner]) {
      await desk.page.getByLabel('Identifiant du compte').fill(target.login);
      await desk.page.getByRole('button', { name: 'Ouvrir la demande' }).click();
      await desk.page.getByText(`Demande ouverte pour ${target.login}`).waitFor();
    }
    const cases = desk.page.getByRole('table', { name: 'Les demandes que vous avez ouvertes' });
    await cases.getByRole('row').filter({ hasText: owner.login }).waitFor();
    await expect(cases.getByText('En attente du responsable').count()).resolves.toBe(2);
    await expectAccessible(desk.page);
    await screenshot(desk.page, 'recovery-helpdesk');
    expect(desk.problems).toEqual([]);
    await desk.context.close();

    // The bystander did not ask: they cancel with the code of the first mail, without logging in.
    const stranger = await world.page();
    await stranger.page.goto('/recuperation');
    await heading(stranger.page, 'Récupérer votre compte');
    await expectAccessible(stranger.page);
    await stranger.page
      .getByLabel('Code d’annulation reçu par courriel')
      .fill(await mailedCode(bystander.email, /^Demande de récupération/));
    await stranger.page.getByRole('button', { name: 'Annuler la demande' }).click();
    await stranger.page.getByText('La demande de récupération est annulée').waitFor();
    // The same screen in English, from the header's language switch.
    await stranger.page.getByRole('button', { name: 'English' }).filter({ visible: true }).click();
    await heading(stranger.page, 'Recover your account');
    await stranger.page.getByRole('button', { name: 'Cancel the case' }).waitFor();
    await expectAccessible(stranger.page);
    expect(stranger.problems).toEqual([]);
    await stranger.context.close();

    // The manager sees the owner's case only (the other was cancelled), and approves it by video.
    const boss = await world.page();
    await login(boss.page, manager);
    await navigate(boss.page, 'Approbations');
    const card = boss.page.getByRole('region', { name: `Récupération du compte ${owner.login}` });
    await card.waitFor();
    await expect(
      boss.page.getByRole('region', { name: `Récupération du compte ${bystander.login}` }).count(),
    ).resolves.toBe(0);
    await card.getByText('En visioconférence').click();
    await expect(card.getByLabel('En visioconférence').isChecked()).resolves.toBe(true);
    await expectAccessible(boss.page);
    await screenshot(boss.page, 'recovery-approve');
    await card.getByRole('button', { name: 'Approuver' }).click();
    await boss.page.getByText(/^Récupération approuvée/).waitFor();
    await expectAccessible(boss.page);
    expect(boss.problems).toEqual([]);
    await boss.context.close();

    // After the delay, the owner sets a new password with the mailed code, then enrols a new factor.
    const resetCode = await mailedCode(owner.email, /approuvée/);
    world.clock.advance(24 * HOUR + 60_000);
    const back = await world.page();
    const { page } = back;
    await page.goto('/recuperation');
    await heading(page, 'Récupérer votre compte');
    await page.getByLabel(/^Code reçu par courriel/).fill(resetCode);
    await page.getByLabel(/^Nouveau mot de passe/).fill(NEW_PASSWORD);
    await page.getByLabel(/^Confirmer le nouveau mot de passe/).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Choisir ce mot de passe' }).click();
    await page.getByText('Récupération terminée').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'recovery-complete');
    expect(page.url()).not.toContain(resetCode);

    await page.getByRole('link', { name: 'Se connecter' }).last().click();
    await passwordStep(page, owner.login, NEW_PASSWORD);
    await heading(page, /Choisir votre second facteur/);
    await page.getByRole('button', { name: 'Configurer une application' }).click();
    const secret = (await page.getByTestId('totp-secret').innerText()).trim();
    expect(secret).not.toBe(secrets.get(owner.id));
    await page.getByLabel(/Code de l’application/).fill(await totpAt(secret, world.clock.now()));
    await page.getByRole('button', { name: 'Confirmer avec le premier code' }).click();
    await heading(page, 'Vos codes de secours');
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(page, /^Bienvenue/);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await heading(page, 'Connexion des agents');

    // The new factor logs in; the old password no longer does.
    await passwordStep(page, owner.login);
    await page.getByText('Identifiant ou mot de passe incorrect').waitFor();
    world.clock.advance(30_000);
    await passwordStep(page, owner.login, NEW_PASSWORD);
    await page.getByLabel(/Code de l’application/).fill(await totpAt(secret, world.clock.now()));
    await page.getByRole('button', { name: 'Vérifier' }).click();
    await heading(page, /^Bienvenue/);
    expect(back.problems).toEqual([]);
    await back.context.close();
  });

  it('a new account requested by one manager is refused to that manager, approved by a second, then activated by its owner', async () => {
    const first = await enrolledAccount('org_manager', world.agency);
    const second = await enrolledAccount('org_manager', world.agency);
    const newLogin = `nouvel.agent.${first.id.slice(0, 6)}`;
    const newEmail = `${newLogin}@agence.example`;

    const asker = await world.page();
    await login(asker.page, first);
    await navigate(asker.page, 'Comptes', 'Comptes de l’organisation');
    await asker.page.getByRole('row').filter({ hasText: second.login }).waitFor();
    await asker.page.getByLabel(/^Identifiant(?!s| de)/).fill(newLogin);
    await asker.page.getByLabel('Nom affiché').fill('Nouvel Agent');
    await asker.page.getByLabel(/^Adresse électronique/).fill(newEmail);
    await asker.page.getByLabel('Rôle', { exact: true }).selectOption({ label: 'conseiller ou conseillère' });
    await asker.page.getByRole('button', { name: 'Demander ce compte' }).click();
    await asker.page.getByText('Demande enregistrée').waitFor();
    await expectAccessible(asker.page);

    await navigate(asker.page, 'Approbations');
    const mine = asker.page.getByRole('region', { name: `Création du compte ${newLogin}` });
    await mine.getByText('Votre demande : une autre personne doit l’approuver.').waitFor();
    await mine.getByRole('button', { name: 'Approuver' }).click();
    await mine.getByText(/^Refusé : une demande est décidée par une autre personne que son auteur/).waitFor();
    await expectAccessible(asker.page);
    await screenshot(asker.page, 'approvals');
    expect(asker.problems).toEqual([]);
    await asker.context.close();

    const approver = await world.page();
    await login(approver.page, second);
    await navigate(approver.page, 'Approbations');
    const theirs = approver.page.getByRole('region', { name: `Création du compte ${newLogin}` });
    await theirs.getByText(`par ${first.login}`).waitFor();
    await theirs.getByRole('button', { name: 'Approuver' }).click();
    await approver.page.getByText('Demande approuvée.').first().waitFor();
    await approver.page.getByRole('table', { name: 'Décisions récentes' }).getByText(newLogin).waitFor();
    await expectAccessible(approver.page);
    expect(approver.problems).toEqual([]);
    await approver.context.close();

    const newcomer = await world.page();
    await newcomer.page.goto('/activation');
    await heading(newcomer.page, 'Activer votre compte');
    await newcomer.page
      .getByLabel('Code d’activation reçu par courriel')
      .fill(await mailedCode(newEmail, /Votre compte Rempart/));
    await newcomer.page.getByLabel(/^Mot de passe/).fill(NEW_PASSWORD);
    await newcomer.page.getByLabel(/^Confirmer le nouveau mot de passe/).fill(NEW_PASSWORD);
    await newcomer.page.getByRole('button', { name: 'Activer mon compte' }).click();
    await newcomer.page.getByText('Compte activé').waitFor();
    await expectAccessible(newcomer.page);
    await passwordStep(newcomer.page, newLogin, NEW_PASSWORD);
    await heading(newcomer.page, /Choisir votre second facteur/);
    expect(newcomer.problems).toEqual([]);
    await newcomer.context.close();
  });

  it('the DPO reads the incidents, then a person’s record and who accessed it, with nothing of the person in the address bar', async () => {
    const person = world.persons.find((p) => p.agencyOrganisationId === world.agency)!;
    const reader = await world.staff('counselor', world.agency);
    const read = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
    expect(read.statusCode, read.body).toBe(200);
    await world.t.db.tx(systemCtx('test').actor, async (tx) =>
      openIncident(tx, {
        openedAt: world.clock.now(),
        openedBy: reader.account.id,
        kind: 'compromised_account',
        scope: await breachScope(tx, {
          accounts: [reader.account.id],
          from: new Date(world.clock.now().getTime() - HOUR),
          to: new Date(world.clock.now().getTime() + 1),
        }),
        note: 'Compte compromis confirmé',
      }),
    );
    const dpo = await enrolledAccount('dpo', world.national);
    const { page, problems, context } = await world.page();
    await login(page, dpo);
    await navigate(page, 'Protection des données');
    await page.getByRole('button', { name: 'Voir le périmètre' }).first().click();
    await page.getByRole('heading', { level: 3, name: /^Périmètre de l’incident/ }).waitFor();
    await expect(page.getByText(/^1 personnes ont reçu des données/).count()).resolves.toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'dpo-incidents');

    await page.getByRole('link', { name: 'Rechercher la personne' }).click();
    await heading(page, 'Rechercher une personne');
    await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(person.identity.agencyId);
    await page.getByLabel(/^Justification/).fill('Demande d’accès DSR-2026-0042 reçue par courrier');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    const row = page.getByRole('row').filter({ hasText: person.identity.agencyId });
    await row.getByRole('button', { name: 'Ouvrir le dossier' }).click();
    await heading(page, 'Dossier');
    await page.getByRole('button', { name: 'Afficher les consultations' }).click();
    const history = page.getByRole('table', { name: 'Qui a consulté ce dossier' });
    const counselorRead = history.getByRole('row').filter({ hasText: 'Accompagnement' });
    await counselorRead.waitFor();
    await expect(counselorRead.innerText()).resolves.toContain('conseiller ou conseillère');
    await history.getByRole('row').filter({ hasText: 'Demande d’exercice de droits' }).first().waitFor();
    // One row per read: the search, the record opened once, and this history itself.
    await expect(
      history.getByRole('row').filter({ hasText: 'Demande d’exercice de droits' }).count(),
    ).resolves.toBe(3);
    await expectAccessible(page);
    await screenshot(page, 'access-history');
    for (const value of [person.id, person.identity.agencyId, person.identity.lastName]) {
      expect(page.url()).not.toContain(value);
      expect(await page.title()).not.toContain(value);
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});
