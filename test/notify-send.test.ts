/**
 * `rempart notify send` as an operator runs it, against a real SMTP server (test/helpers/smtp.ts):
 * every channel, exactly once without a crash, nothing on a rerun, and a SIGKILL mid-run followed
 * by a rerun that finishes with no loss and no duplicate (docs/NOTICES.md, "Exactly once").
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED_FIELDS, plantIncident } from '../bench/notify-incident.ts';
import { loadConfig } from '../src/config.ts';
import { systemClock, systemCtx } from '../src/context.ts';
import { ensureNoticeSigningKeys, loadKeyring } from '../src/crypto/keyring.ts';
import { noticeKeysOf, noticeVerifierKeys, verifyNotice } from '../src/crypto/notice-signing.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { fileSmsProvider, smtpNoticeMailer } from '../src/notify/channels.ts';
import { findMessage } from '../src/notify/codes.ts';
import { FIELD_NAMES_FR } from '../src/notify/notice-text.ts';
import { noticeForPerson, noticesForPerson } from '../src/notify/notices-read.ts';
import { type DeliveryReport, sendIncidentNotices } from '../src/notify/send-job.ts';
import { IDENTITY_FIELDS, type Identity } from '../src/registry/person.ts';
import { openIdentity, resealRow, type SealedRow } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { cliEnv, freePort, initDataDir, lastJsonLine, rempart, startRempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';
import { type ReceivedMessage, startSmtpServer, type TestSmtpServer } from './helpers/smtp.ts';

describe(`rempart notify send (${engine})`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let smtp: TestSmtpServer;
  let env: NodeJS.ProcessEnv;
  let small: { incidentId: string; personIds: string[] };
  let large: { incidentId: string; personIds: string[] };
  const identities = new Map<string, Identity>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-notify-'));
    server = await emptyServerDatabase();
    smtp = await startSmtpServer();
    env = cliEnv({
      REMPART_DATA: path.join(dir, 'data'),
      DATABASE_URL: server?.url,
      SMTP_URL: `${smtp.url}?tls=off`,
      PUBLIC_URL: 'https://rempart.example',
      REMPART_LETTER_DIR: path.join(dir, 'letters'),
      REMPART_SMS_DIR: path.join(dir, 'sms'),
      REMPART_NOTIFY_RATE: '1000',
    });
    await initDataDir(env);
    const config = loadConfig(env);
    const keys = await openKeys(config);
    const db = await openDb(config);
    try {
      await seedPopulation(db, keys.registry, { persons: 45, seed: 7, workers: 0 });
      await db.tx(systemCtx('test').actor, async (tx) => {
        const rows = await tx.query<SealedRow>(
          'SELECT id, kek_id, wrapped_key, sealed FROM persons ORDER BY id LIMIT 3',
        );
        // The first person keeps only a phone (SMS), the second nothing (portal), the third no email (letter).
        const changes: Partial<Identity>[] = [
          { email: null, address: null, phone: '+33612345678' },
          { email: null, address: null, phone: null },
          { email: null, address: { line: '1 rue de la Paix', postalCode: '75002', city: 'Paris' } },
        ];
        for (const [i, row] of rows.entries()) {
          const identity = (await openIdentity(tx, keys.registry, row.id, IDENTITY_FIELDS)) as Identity;
          const sealed = await resealRow(keys.registry, row, { ...identity, ...changes[i] });
          await tx.query('UPDATE persons SET sealed = $2 WHERE id = $1', [row.id, sealed]);
        }
        for (const row of await tx.query<{ id: string }>('SELECT id FROM persons'))
          identities.set(
            row.id,
            (await openIdentity(tx, keys.registry, row.id, IDENTITY_FIELDS)) as Identity,
          );
      });
      small = await plantIncident(db, 12, new Date());
      large = await plantIncident(db, 40, new Date());
    } finally {
      await db.close();
    }
  }, 60_000);
  afterAll(async () => {
    await smtp?.close();
    await server?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ofIncident = (id: string): ReceivedMessage[] =>
    smtp.messages.filter((m) => m.text.includes(`Incident : ${id}\n`));
  const verifier = async (): Promise<string[]> =>
    noticeVerifierKeys(noticeKeysOf(await loadKeyring(loadConfig(env).keyringPath)));

  it('sends each notice once by its channel, each signed and naming exactly its fields; a rerun sends none', async () => {
    // In this process (the job's function, as the CLI calls it): the CLI's own runs are the kill test's.
    const config = loadConfig(env);
    const keys = await openKeys(config);
    const db = await openDb(config);
    const lines: string[] = [];
    const job = async (url = config.smtpUrl!, incident = small.incidentId): Promise<DeliveryReport> => {
      const mailer = smtpNoticeMailer({ url, from: config.mailFrom, connections: 2 });
      try {
        return await sendIncidentNotices(
          db,
          {
            registry: keys.registry,
            noticeKeys: await ensureNoticeSigningKeys(keys.keyring),
            publicUrl: config.publicUrl,
            clock: systemClock,
            mailer,
            sms: fileSmsProvider(config.notify.smsDir, small.incidentId),
            letterDir: config.notify.letterDir,
            log: (line) => lines.push(line),
          },
          incident,
          { rate: 1000, concurrency: 2, letterBatch: 500 },
        );
      } finally {
        await mailer.close();
      }
    };
    let down: DeliveryReport;
    let report: DeliveryReport;
    let again: DeliveryReport;
    try {
      await expect(job(config.smtpUrl, randomUUID())).rejects.toThrow(/incident: no such incident/);
      // First with the mail server down: the emails fail (codes only), the rest is sent.
      down = await job(`smtp://127.0.0.1:${await freePort()}?tls=off`);
      report = await job();
      again = await job();
      // Each notice's code is a registered message (registerMessages): it verifies as what it is, with
      // the SHA-256 of the exact text sent.
      const mail = ofIncident(small.incidentId)[0]!;
      const code = /^Code de vérification : (\S+)$/m.exec(mail.text)![1]!;
      const found = await db.tx(systemCtx('test').actor, async (tx) => {
        const facts = await findMessage(tx, code);
        const [row] = await tx.query<{ content_hash: Uint8Array; incident_id: string }>(
          'SELECT content_hash, incident_id FROM messages WHERE id = $1',
          [facts?.id],
        );
        return { facts, row };
      });
      expect(found.facts).toMatchObject({ kind: 'incident_notice', channel: 'email' });
      expect(found.row?.incident_id).toBe(small.incidentId);
      expect(Buffer.from(found.row!.content_hash).toString('hex')).toBe(
        createHash('sha256').update(mail.text, 'utf8').digest('hex'),
      );
    } finally {
      await db.close();
    }
    // The channel rule, written out: email, else letter, else SMS, else the portal only.
    const expected = { email: 0, letter: 0, sms: 0, portal: 0 };
    for (const id of small.personIds) {
      const who = identities.get(id)!;
      expected[who.email ? 'email' : who.address ? 'letter' : who.phone ? 'sms' : 'portal'] += 1;
    }
    expect(expected.sms * expected.portal * expected.letter).toBeGreaterThan(0);
    // Progress lines name counts, never a person: no address, number or name of anyone in them.
    expect(lines.join('\n')).toContain(`notify: ${expected.email}/${expected.email} sent`);
    for (const id of small.personIds) {
      const who = identities.get(id)!;
      for (const value of [who.email, who.phone, who.lastName])
        if (value) expect(lines.join('\n')).not.toContain(value);
    }
    expect(down).toMatchObject({
      incident: small.incidentId,
      notices: 12,
      created: 12,
      alreadySent: 0,
      delivered: { ...expected, email: 0 },
      failed: expected.email,
      remaining: expected.email,
      resent: 0,
      peopleNotifiedAt: null,
    });
    expect(Object.keys(down.errors)).toEqual([expect.stringMatching(/^E[A-Z]+/)]); // a code, no text
    // Then the rerun sends exactly the failed ones, once each, under the same notices.
    expect(report).toMatchObject({
      notices: 12,
      created: 0,
      alreadySent: 12 - expected.email,
      delivered: { email: expected.email, letter: 0, sms: 0, portal: 0 },
      failed: 0,
      remaining: 0,
      resent: expected.email,
    });
    expect(report.peopleNotifiedAt).toEqual(expect.any(String));
    expect(again).toMatchObject({
      notices: 12,
      created: 0,
      alreadySent: 12,
      delivered: { email: 0, sms: 0, letter: 0, portal: 0 },
    });

    const received = ofIncident(small.incidentId);
    expect(received).toHaveLength(expected.email);
    expect(new Set(received.map((m) => m.headers['message-id'])).size).toBe(expected.email);
    const verifierKeys = await verifier();
    for (const [i, personId] of small.personIds.entries()) {
      const email = identities.get(personId)!.email;
      const mine = received.filter((m) => m.to.includes(email ?? '-'));
      expect(mine).toHaveLength(email ? 1 : 0);
      if (!email) continue;
      const check = verifyNotice(mine[0]!.text, verifierKeys);
      expect(check.genuine).toBe(true);
      // Exactly the planted fields, in French, no other.
      const named = Object.entries(FIELD_NAMES_FR)
        .filter(([, fr]) => mine[0]!.text.includes(`\n- ${fr}\n`))
        .map(([field]) => field);
      expect(named.sort()).toEqual([...PLANTED_FIELDS[i % 3]!].sort());
      expect(mine[0]!.headers['message-id']).toMatch(/^<[0-9a-f-]{36}@rempart\.example>$/);
    }
    // The letter: one PDF, one page per letter here; the SMS: a line pointing to the portal, no field.
    const letterFiles = down.letterFiles;
    expect(letterFiles).toHaveLength(1);
    const pdf = await readFile(letterFiles[0]!, 'latin1');
    expect(pdf.startsWith('%PDF-')).toBe(true);
    expect(pdf.match(/\/Type \/Page\b(?!s)/g)).toHaveLength(expected.letter);
    const sms = (await readFile(down.smsFile!, 'utf8')).trim().split('\n');
    expect(sms).toHaveLength(expected.sms);
    expect(JSON.parse(sms[0]!)).toMatchObject({ to: '+33612345678' });
    expect(JSON.parse(sms[0]!).text).toMatch(
      /https:\/\/rempart\.example\/mon-espace.*[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/,
    );

    expect(ofIncident(small.incidentId)).toHaveLength(expected.email);
  }, 60_000);

  it('after a SIGKILL mid-run, the rerun delivers every notice with no duplicate by Message-ID or by person', async () => {
    // On PostgreSQL the killed run sends from a sending thread (ignored on PGlite: one thread's database).
    const killed = startRempart(['notify', 'send', '--incident', large.incidentId, '--json'], {
      ...env,
      REMPART_NOTIFY_RATE: '10',
      REMPART_NOTIFY_THREADS: '1',
    });
    const exited = new Promise((resolve) => killed.child.once('exit', resolve));
    await expect
      .poll(() => ofIncident(large.incidentId).length, { timeout: 20_000, interval: 50 })
      .toBeGreaterThanOrEqual(8);
    killed.child.kill('SIGKILL');
    await exited;
    if (engine !== 'pglite') expect(killed.output()).toContain('notify: 1 sending thread(s)');
    const beforeRerun = ofIncident(large.incidentId).length;
    const emails = large.personIds.filter((id) => identities.get(id)!.email !== null);
    expect(beforeRerun).toBeLessThan(emails.length);

    const rerun = await rempart(['notify', 'send', '--incident', large.incidentId, '--json'], env);
    expect(rerun.code).toBe(0);
    const report = lastJsonLine(rerun.stdout);
    expect(report).toMatchObject({ notices: 40, created: 0, failed: 0, remaining: 0 });
    // Resent: only notices claimed by the killed run and not recorded: at most three claim batches
    // of 10 at 10/s (one being recorded, one being sent, one claimed ahead: src/notify/send-steps.ts),
    // and the letters (one batch, written after the creation) of the persons without email.
    expect(report.resent as number).toBeLessThanOrEqual(30 + (40 - emails.length));

    const received = ofIncident(large.incidentId);
    const byId = new Map<string, ReceivedMessage[]>();
    for (const m of received)
      byId.set(m.headers['message-id']!, [...(byId.get(m.headers['message-id']!) ?? []), m]);
    expect(byId.size).toBe(emails.length); // no loss
    // A copy received twice (accepted, then killed before it was recorded) is the same message: same text, same code.
    for (const copies of byId.values()) expect(new Set(copies.map((c) => c.text)).size).toBe(1);
    expect(received.length - byId.size).toBeLessThanOrEqual(report.resent as number);
    const keys = await verifier();
    for (const personId of emails) {
      const mine = received.filter((m) => m.to.includes(identities.get(personId)!.email!));
      expect(new Set(mine.map((m) => m.headers['message-id'])).size).toBe(1); // one notice per person
      expect(verifyNotice(mine[0]!.text, keys).genuine).toBe(true);
    }

    const config = loadConfig(env);
    const keysOpen = await openKeys(config);
    const db = await openDb(config);
    try {
      const states = await db.tx(systemCtx('test').actor, (tx) =>
        tx.query<{ state: string; n: number }>(
          'SELECT state, count(*)::int AS n FROM notices WHERE incident_id = $1 GROUP BY state',
          [large.incidentId],
        ),
      );
      expect(states).toEqual([{ state: 'sent', n: 40 }]);
      // The portal reads a person's notices (both incidents here) as the signed texts sent.
      const person = small.personIds.find((id) => identities.get(id)!.email !== null)!;
      const notices = await noticesForPerson(db, keysOpen.registry, person);
      expect(notices.map((n) => n.incidentId).sort()).toEqual([small.incidentId, large.incidentId].sort());
      const mail = received.find((m) => m.to.includes(identities.get(person)!.email!))!;
      expect(notices.find((n) => n.incidentId === large.incidentId)!.signedText).toBe(mail.text);
      const one = notices[0]!;
      expect(await noticeForPerson(db, keysOpen.registry, person, one.id)).toEqual(one);
      expect(
        await noticeForPerson(db, keysOpen.registry, small.personIds.find((id) => id !== person)!, one.id),
      ).toBeNull();
    } finally {
      await db.close();
    }
  }, 90_000);
});

describe('the notices configuration', () => {
  it('reads REMPART_NOTIFY_* and refuses a bad value naming the variable', () => {
    const config = loadConfig({
      REMPART_DATA: '/tmp/rempart-x',
      REMPART_NOTIFY_RATE: '5',
      REMPART_SMS_DIR: '/tmp/sms-x',
    });
    expect(config.notify).toMatchObject({
      rate: 5,
      concurrency: 4,
      threads: 0,
      letterBatch: 500,
      smsDir: '/tmp/sms-x',
      letterDir: '/tmp/rempart-x/letters',
    });
    expect(() => loadConfig({ REMPART_NOTIFY_RATE: 'fast' })).toThrow(
      /REMPART_NOTIFY_RATE must be an integer from 1 to 100000/,
    );
    expect(() => loadConfig({ REMPART_NOTIFY_THREADS: '99' })).toThrow(/REMPART_NOTIFY_THREADS must be/);
  });
});
