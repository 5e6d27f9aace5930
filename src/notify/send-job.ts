/**
 * The incident notices' job (`rempart notify send`; GDPR art. 34; docs/NOTICES.md): creates the
 * missing notices, then sends every notice not yet sent, by its channel, at a bounded rate, with
 * progress lines and a delivery report. Resumable: a rerun after a crash creates only the missing
 * notices and sends only those not recorded as sent; a notice found `claimed` (it may have left
 * before the crash) is sent again with the same Message-ID, never under a new one — the exactly-once
 * argument is in docs/NOTICES.md. Once every notice is sent, the incident's people_notified_at is set.
 */
import type { Clock } from '../context.ts';
import { systemCtx } from '../context.ts';
import type { NoticeSigningKeys } from '../crypto/keyring.ts';
import type { Db } from '../db/types.ts';
import { isAppError } from '../errors.ts';
import { markPeopleNotified } from '../incidents/incidents.ts';
import type { Address } from '../registry/person.ts';
import { openSealedRow, type RegistryKeys } from '../registry/persons.ts';
import { NOTICE_SUBJECT, type NoticeMailer, type SmsProvider, smsText } from './channels.ts';
import { type Letter, writeLetterBatch } from './letters.ts';
import { openNoticeText, withPersonKey } from './notice-crypto.ts';
import { createNoticesPage, incidentDetectedAt, type NoticeChannel } from './notices-create.ts';
import { type ClaimedNotice, claimNotices, noticeStates, recordOutcomes } from './send-claims.ts';

/** What the job needs from outside: keys, channels, time, where to write. */
export interface SendDeps {
  registry: RegistryKeys;
  noticeKeys: NoticeSigningKeys;
  publicUrl: string;
  clock: Clock;
  /** The email channel (null: no SMTP server configured; email notices then fail). */
  mailer: NoticeMailer | null;
  sms: SmsProvider;
  letterDir: string;
  /** A progress line (stderr in the CLI); never personal data. */
  log?: (line: string) => void;
}

/** How fast and in what batches. */
export interface SendOptions {
  /** Sends per second at most (email, SMS and portal; letters are files, written per batch). */
  rate: number;
  /** Sends in flight at once. */
  concurrency: number;
  /** Letters per PDF. */
  letterBatch: number;
  /** Persons per transaction when creating notices (default 500). */
  createPage?: number;
}

/** The delivery report (the JSON of `rempart notify send --json`: a contract other parts read). */
export interface DeliveryReport {
  incident: string;
  /** Notices of the incident (after this run). */
  notices: number;
  /** Notices this run created. */
  created: number;
  /** Notices already sent before this run. */
  alreadySent: number;
  /** Notices this run sent, by channel. */
  delivered: Record<NoticeChannel, number>;
  /** Notices whose send failed in this run (a rerun retries them). */
  failed: number;
  seconds: number;
  /** Delivered notices per second of this run. */
  noticesPerSecond: number;
  letterFiles: string[];
  smsFile: string | null;
  /** Of the delivered, how many an earlier run had claimed without recording the outcome (same Message-ID). */
  resent: number;
  /** Notices still not sent after this run. */
  remaining: number;
  /** The incident's people_notified_at, once every notice is sent. */
  peopleNotifiedAt: string | null;
  /** Failure causes (SMTP codes, no text), by count. */
  errors: Record<string, number>;
}

const actor = systemCtx('notify').actor;

/** The Message-ID of a notice's email: fixed by the notice id, so a re-send is recognisably the same message. */
export function noticeMessageId(noticeId: string, publicUrl: string): string {
  return `<${noticeId}@${new URL(publicUrl).hostname}>`;
}

/** Spaces calls to at most `rate` per second, across every caller. */
function pacer(rate: number): () => Promise<void> {
  const interval = 1000 / rate;
  let next = performance.now();
  return async () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at - now >= 1) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

function errorKey(error: unknown): string {
  return isAppError(error) ? error.message.replace(/^.*\((.*)\)$/, '$1').slice(0, 40) : 'error';
}

/** One run of the job: what the sending steps share. */
interface Run {
  db: Db;
  deps: SendDeps;
  incidentId: string;
  runStart: Date;
  options: SendOptions;
  report: DeliveryReport;
  progress: () => void;
  /** True while notices are still being created: the sending loops wait for more. */
  creating: boolean;
}

/** Letters: one PDF per claimed batch, recorded sent once the file is complete. */
async function sendLetters(run: Run): Promise<void> {
  const { db, deps, incidentId, report } = run;
  const stamp = run.runStart.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  for (let n = 1; ; n++) {
    const batch = await db.tx(actor, (tx) =>
      claimNotices(tx, incidentId, true, run.runStart, deps.clock.now(), run.options.letterBatch),
    );
    if (batch.length === 0) return;
    const letters: Letter[] = [];
    const failed: string[] = [];
    for (const notice of batch) {
      const who = await openSealedRow(deps.registry, notice.person, ['firstNames', 'lastName', 'address']);
      if (!who.address) {
        failed.push(notice.id);
        continue;
      }
      letters.push({
        noticeId: notice.id,
        name: `${who.firstNames} ${who.lastName}`,
        address: who.address as Address,
        signedText: await openNoticeText(deps.registry, notice.person, notice.id, notice.sealedText),
        date: deps.clock.now(),
      });
    }
    const sent = letters.map((l) => l.noticeId);
    if (letters.length > 0)
      report.letterFiles.push(
        await writeLetterBatch(deps.letterDir, `incident-${incidentId}-${stamp}-${n}.pdf`, letters),
      );
    await db.tx(actor, (tx) => recordOutcomes(tx, { sent, delivered: [], failed }, deps.clock.now()));
    report.delivered.letter += sent.length;
    report.resent += batch.filter((b) => b.attempts > 1 && sent.includes(b.id)).length;
    report.failed += failed.length;
    if (failed.length > 0) report.errors['no address'] = (report.errors['no address'] ?? 0) + failed.length;
    run.progress();
  }
}

/**
 * Email, SMS and portal: claimed in batches of about one second's worth, sent `concurrency` at a
 * time. The next batch is claimed (and committed) while one is being sent, and a batch's outcomes
 * are recorded while the next is sent: at a crash, at most two batches are claimed and unrecorded.
 */
async function sendMessages(run: Run): Promise<void> {
  const { db, deps, incidentId, report, options } = run;
  const pace = pacer(options.rate);
  const claimSize = Math.max(1, Math.min(500, Math.round(options.rate)));
  const sendOne = async (notice: ClaimedNotice): Promise<'sent' | 'delivered' | 'failed'> => {
    if (notice.channel === 'portal') return 'delivered';
    await pace();
    try {
      // One unwrap of the person's key: the text and the address, decrypted for this send only.
      const { text, email, phone } = await withPersonKey(deps.registry, notice.person, (key) => ({
        text: key.openText(notice.id, notice.sealedText),
        ...key.fields([notice.channel === 'email' ? 'email' : 'phone']),
      }));
      if (notice.channel === 'email') {
        if (!deps.mailer) throw new Error('no SMTP server configured');
        if (!email) throw new Error('no email address');
        await deps.mailer.send({
          to: email,
          messageId: noticeMessageId(notice.id, deps.publicUrl),
          subject: NOTICE_SUBJECT,
          text,
        });
      } else {
        if (!phone) throw new Error('no phone number');
        const code = /^Code de vérification : (\S+)$/m.exec(text)?.[1] ?? '';
        await deps.sms.send({ to: phone, id: notice.id, text: smsText(deps.publicUrl, code) });
        report.smsFile = deps.sms.file;
      }
      return 'sent';
    } catch (error) {
      const key = error instanceof Error && !isAppError(error) ? error.message : errorKey(error);
      report.errors[key] = (report.errors[key] ?? 0) + 1;
      return 'failed';
    }
  };
  // Whether creation was still running when a claim began: an empty claim ends the loop only if it
  // was not (a claim that started before the last page committed may not have seen it).
  const claim = async (): Promise<{ batch: ClaimedNotice[]; more: boolean }> => {
    const more = run.creating;
    const batch = await db.tx(actor, (tx) =>
      claimNotices(tx, incidentId, false, run.runStart, deps.clock.now(), claimSize),
    );
    return { batch, more };
  };
  let next = claim();
  let recording: Promise<unknown> = Promise.resolve();
  for (;;) {
    const { batch, more } = await next;
    if (batch.length === 0) {
      if (!more) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
      next = claim();
      continue;
    }
    next = claim();
    const outcomes = { sent: [] as string[], delivered: [] as string[], failed: [] as string[] };
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < batch.length) {
        const notice = batch[i++]!;
        const outcome = await sendOne(notice);
        outcomes[outcome].push(notice.id);
        if (outcome === 'failed') report.failed += 1;
        else {
          report.delivered[notice.channel] += 1;
          if (notice.attempts > 1) report.resent += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, batch.length) }, worker));
    await recording;
    recording = db.tx(actor, (tx) => recordOutcomes(tx, outcomes, deps.clock.now()));
    run.progress();
  }
  await recording;
}

/** Sends (or creates and sends) every notice of the incident; returns the delivery report. */
export async function sendIncidentNotices(
  db: Db,
  deps: SendDeps,
  incidentId: string,
  options: SendOptions,
): Promise<DeliveryReport> {
  const started = performance.now();
  const log = deps.log ?? (() => undefined);
  const runStart = deps.clock.now();
  const { detectedAt, before } = await db.tx(actor, async (tx) => ({
    detectedAt: await incidentDetectedAt(tx, incidentId),
    before: await noticeStates(tx, incidentId),
  }));
  const report: DeliveryReport = {
    incident: incidentId,
    notices: 0,
    created: 0,
    alreadySent: before.sent ?? 0,
    delivered: { email: 0, sms: 0, letter: 0, portal: 0 },
    failed: 0,
    seconds: 0,
    noticesPerSecond: 0,
    letterFiles: [],
    smsFile: null,
    resent: 0,
    remaining: 0,
    peopleNotifiedAt: null,
    errors: {},
  };

  const persons = await db.tx(actor, (tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_persons WHERE incident_id = $1', [
      incidentId,
    ]),
  );
  const todo = (persons[0]?.n ?? 0) - report.alreadySent;
  log(
    `notify: incident ${incidentId}: ${persons[0]?.n ?? 0} persons, ${report.alreadySent} notices already sent`,
  );
  let lastLog = performance.now();
  const progress = (force = false): void => {
    if (!force && performance.now() - lastLog < 1000) return;
    lastLog = performance.now();
    const d = report.delivered;
    const done = d.email + d.sms + d.letter + d.portal;
    const rate = done / Math.max(0.001, (performance.now() - started) / 1000);
    log(
      `notify: ${done}/${todo} sent (email ${d.email}, letter ${d.letter}, sms ${d.sms}, portal ${d.portal}), ${report.failed} failed, ${rate.toFixed(1)}/s`,
    );
  };

  // 1. The missing notices, one transaction per page of persons; sending starts as soon as the
  // first page is committed (the claims take what is committed), so creating and sending overlap.
  const run: Run = { db, deps, incidentId, runStart, options, report, progress, creating: true };
  const creation = (async () => {
    try {
      for (let after: string | null = null; ; ) {
        const page = await db.tx(actor, (tx) =>
          createNoticesPage(
            tx,
            deps,
            { id: incidentId, detectedAt },
            after,
            options.createPage ?? 500,
            deps.clock.now(),
          ),
        );
        if (page.last === null) break;
        report.created += page.created;
        after = page.last;
      }
      log(
        `notify: ${report.created} notices created in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      run.creating = false;
    }
  })();

  // 2. Letters (files, CPU-bound; after the creation, for full batches) and the other channels
  // (network-bound) side by side. The first failure stops the run (after the others settle).
  const results = await Promise.allSettled([
    creation,
    creation.then(() => sendLetters(run)),
    sendMessages(run),
  ]);
  for (const result of results) if (result.status === 'rejected') throw result.reason;

  // 4. The report; people_notified_at once every notice is sent.
  const after = await db.tx(actor, async (tx) => {
    const states = await noticeStates(tx, incidentId);
    const count = Object.values(states).reduce((a, b) => a + b, 0);
    const persons = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM incident_persons WHERE incident_id = $1',
      [incidentId],
    );
    if (count === persons[0]?.n && (states.sent ?? 0) === count)
      await markPeopleNotified(tx, incidentId, deps.clock.now());
    const [row] = await tx.query<{ people_notified_at: Date | null }>(
      'SELECT people_notified_at FROM incidents WHERE id = $1',
      [incidentId],
    );
    return { states, count, notifiedAt: row?.people_notified_at ?? null };
  });
  report.notices = after.count;
  report.remaining = after.count - (after.states.sent ?? 0);
  report.peopleNotifiedAt = after.notifiedAt?.toISOString() ?? null;
  report.seconds = Math.round(performance.now() - started) / 1000;
  const delivered = Object.values(report.delivered).reduce((a, b) => a + b, 0);
  report.noticesPerSecond = Math.round((delivered / Math.max(0.001, report.seconds)) * 10) / 10;
  progress(true);
  return report;
}
