/**
 * The email half of notify (docs/DESIGN.md sections 5 and 9) over a real SMTP exchange with a local
 * smtp-server: what arrives, the anti-phishing footer (T6), and failures that carry no recipient
 * or body (CONVENTIONS.md, "Errors").
 */
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import { MAIL_FOOTER, type Mail, outboxMailer, smtpMailer } from '../src/notify/mailer.ts';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

const FROM = 'Rempart <securite@rempart.test>';
const SUBJECT = 'Votre compte Rempart a été verrouillé';
const BODY =
  'Bonjour Élodie,\n\n' +
  'Après 5 tentatives de connexion échouées, votre compte a été verrouillé pendant 15 minutes. ' +
  'Si ce n’était pas vous, prévenez le responsable de votre organisation ; rien d’autre à faire.\n';
const mail: Mail = { to: 'elodie.martin@france-travail.test', subject: SUBJECT, text: BODY };

/** A port on which nothing listens: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Runs `fn`, expects an AppError, returns it. */
async function appErrorOf(fn: () => Promise<unknown>): Promise<AppError> {
  const error = await fn().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** No trace of the recipient or the body anywhere in the error, its cause included. */
function expectNoPersonalData(error: AppError): void {
  const everything = `${error.message}\n${inspect(error, { depth: 10 })}`;
  expect(everything).not.toContain('elodie.martin');
  expect(everything).not.toContain('Élodie');
  expect(everything).not.toContain('tentatives');
  expect(everything).not.toContain(SUBJECT);
}

describe('smtpMailer', () => {
  let smtp: TestSmtpServer;
  beforeEach(async () => {
    smtp = await startSmtpServer({ refuseRecipients: ['parti@rempart.test'] });
  });
  afterEach(async () => {
    await smtp.close();
  });

  it('delivers from, to, an accented subject and the text with the footer', async () => {
    const mailer = smtpMailer({ url: smtp.url, from: FROM });
    await mailer.send(mail);
    await mailer.close();
    await smtp.waitFor(1);

    const [received] = smtp.messages;
    expect(received?.from).toBe('securite@rempart.test');
    expect(received?.to).toEqual(['elodie.martin@france-travail.test']);
    expect(received?.headers.from).toBe('Rempart <securite@rempart.test>');
    expect(received?.headers.to).toBe('elodie.martin@france-travail.test');
    expect(received?.subject).toBe(SUBJECT);
    // The accents travel encoded, so the parser really decoded something.
    expect(received?.raw).not.toContain(SUBJECT);
    expect(received?.text).toContain(BODY.trimEnd());
    expect(received?.text.trimEnd().endsWith(MAIL_FOOTER)).toBe(true);
  });

  it('delivers with ?tls=off on a loopback host', async () => {
    const mailer = smtpMailer({ url: `${smtp.url}?tls=off`, from: FROM });
    await mailer.send({ to: 'a@rempart.test', subject: 'Dossier de récupération ouvert', text: 'Texte.' });
    await smtp.waitFor(1);
    expect(smtp.messages[0]?.subject).toBe('Dossier de récupération ouvert');
    expect(smtp.messages[0]?.text).toBe(`Texte.\n\n-- \n${MAIL_FOOTER}\n`);
  });

  it('sends one mail per call, each to its own recipient', async () => {
    const mailer = smtpMailer({ url: smtp.url, from: FROM });
    await mailer.send({ ...mail, to: 'a@rempart.test' });
    await mailer.send({ ...mail, to: 'b@rempart.test' });
    await smtp.waitFor(2);
    expect(smtp.messages.map((m) => m.to)).toEqual([['a@rempart.test'], ['b@rempart.test']]);
  });

  it('fails with notification_failed, no recipient or body, when the server refuses the recipient', async () => {
    const mailer = smtpMailer({ url: smtp.url, from: FROM });
    const error = await appErrorOf(() => mailer.send({ ...mail, to: 'parti@rempart.test' }));
    expect(error.code).toBe('notification_failed');
    expect(error.status).toBe(502);
    expect(inspect(error, { depth: 10 })).not.toContain('parti@');
    expectNoPersonalData(error);
    expect(smtp.messages).toHaveLength(0);
  });

  it.each([
    ['a second recipient', 'a@rempart.test, b@rempart.test', 'to'],
    ['a display name', 'Élodie <elodie.martin@france-travail.test>', 'to'],
    ['no address', 'elodie.martin', 'to'],
  ])('refuses %s before connecting', async (_, to, field) => {
    const mailer = smtpMailer({ url: smtp.url, from: FROM });
    const error = await appErrorOf(() => mailer.send({ ...mail, to }));
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe(field);
    expectNoPersonalData(error);
  });

  it('refuses a subject with a line break (header injection)', async () => {
    const mailer = smtpMailer({ url: smtp.url, from: FROM });
    const error = await appErrorOf(() => mailer.send({ ...mail, subject: 'Objet\r\nBcc: x@evil.test' }));
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe('subject');
  });
});

describe('smtpMailer without a server', () => {
  it('fails with notification_failed, no recipient or body, when nothing listens', async () => {
    const port = await closedPort();
    const mailer = smtpMailer({ url: `smtp://127.0.0.1:${port}`, from: FROM });
    const error = await appErrorOf(() => mailer.send(mail));
    expect(error.code).toBe('notification_failed');
    expect(error.status).toBe(502);
    expect(error.message).toBe('the mail server refused or could not be reached');
    expectNoPersonalData(error);
    await mailer.close();
  });

  it.each([
    ['not a URL', 'not a url'],
    ['another scheme', 'http://127.0.0.1:25'],
    ['an option nodemailer would obey', 'smtps://mail.rempart.test?tls.rejectUnauthorized=false'],
    ['tls=off across a network', 'smtp://mail.rempart.test:25?tls=off'],
    ['tls=off with smtps', 'smtps://127.0.0.1:465?tls=off'],
  ])('refuses a configuration with %s, without quoting it', (_, url) => {
    let caught: unknown;
    try {
      smtpMailer({ url: url.replace('//', '//user:s3cret@'), from: FROM });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('bad_configuration');
    expect((caught as AppError).message).not.toContain('s3cret');
  });
});

describe('outboxMailer', () => {
  it('keeps each mail in memory with the footer', async () => {
    const outbox = outboxMailer();
    await outbox.send(mail);
    expect(outbox.sent).toEqual([{ ...mail, text: `${BODY.trimEnd()}\n\n-- \n${MAIL_FOOTER}\n` }]);
    await outbox.close();
  });

  it('keeps only the last mails of a long-running demo', async () => {
    const outbox = outboxMailer(2);
    for (const to of ['a@rempart.test', 'b@rempart.test', 'c@rempart.test'])
      await outbox.send({ ...mail, to });
    expect(outbox.sent.map((m) => m.to)).toEqual(['b@rempart.test', 'c@rempart.test']);
  });

  it('refuses what the SMTP mailer refuses', async () => {
    const error = await appErrorOf(() => outboxMailer().send({ ...mail, to: 'a@x.test; b@x.test' }));
    expect(error.field).toBe('to');
  });
});

describe('MAIL_FOOTER', () => {
  it('says, in French and English, that Rempart never asks for a password or a code', () => {
    expect(MAIL_FOOTER).toMatch(/jamais de mot de passe ni de code/);
    expect(MAIL_FOOTER).toMatch(/never asks for a password or a code/);
    expect(MAIL_FOOTER).not.toMatch(/\n/);
  });
});
