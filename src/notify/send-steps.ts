/**
 * The sending steps of the notices' job (send-job.ts): letters in PDF batches, and email/SMS/portal
 * in claimed batches at a bounded rate. Run in the job's thread, or the email/SMS/portal loop in
 * sending threads (send-worker.ts). The state machine and its argument: docs/NOTICES.md.
 */

import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { isAppError } from '../errors.ts';
import type { Address } from '../registry/person.ts';
import { openSealedRow } from '../registry/persons.ts';
import { NOTICE_SUBJECT, smsText } from './channels.ts';
import { type Letter, writeLetterBatch } from './letters.ts';
import { openNoticeText, withPersonKey } from './notice-crypto.ts';
import { type ClaimedNotice, claimNotices, recordOutcomes } from './send-claims.ts';
import type { DeliveryReport, SendDeps, SendOptions } from './send-job.ts';

const actor = systemCtx('notify').actor;

/** The Message-ID of a notice's email: fixed by the notice id, so a re-send is recognisably the same message. */
export function noticeMessageId(noticeId: string, publicUrl: string): string {
  return `<${noticeId}@${new URL(publicUrl).hostname}>`;
}

/** Spaces calls to at most `rate` per second, across every caller. */
export function pacer(rate: number): () => Promise<void> {
  const interval = 1000 / rate;
  let next = performance.now();
  return async () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at - now >= 1) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

export function errorKey(error: unknown): string {
  return isAppError(error) ? error.message.replace(/^.*\((.*)\)$/, '$1').slice(0, 40) : 'error';
}

/** One run of the job: what the sending steps share. */
export interface Run {
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
export async function sendLetters(run: Run): Promise<void> {
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
 * are recorded while the next is sent: at a crash, at most three batches are claimed and unrecorded
 * (the one being recorded, the one being sent, the one claimed ahead).
 */
export async function sendMessages(run: Run): Promise<void> {
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
