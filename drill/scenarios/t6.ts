/**
 * T6 (docs/DESIGN.md section 2; 2024: phishing with accurate personal data followed each breach):
 * a phisher imitates Rempart's messages. Through the public HTTP API only, as the person who got the
 * message would check it:
 * (a) a real message: the newest staff mail in the drill's mailbox that carries a code (T1's lock
 *     and recovery notices when T1 ran); without one, T6 provokes one: ten wrong passwords lock its
 *     own cast account and the lock notice arrives in the mailbox;
 * (b) a phishing message with a forged code: the check says not genuine;
 * (c) a phishing message reusing the real message's code, claiming to be an incident notice sent by
 *     SMS now: the check shows it as what it really is (its kind, channel and earlier date), and
 *     nothing personal;
 * (d) a real signed notice verifies (POST /api/v1/notices/verify, under a key GET
 *     /api/v1/notices/keys publishes): the newest signed notice delivered in the mailbox (the
 *     notices that `rempart notify send` mails, e.g. in T7's run) or, when none was delivered, one
 *     the operator signs with the drill server's own notice key (`rempart notice sign` on the drill's
 *     data folder's keyring; its code line says it has none, so the check gives no kind or date);
 * (e) the same notice with one field changed is not genuine;
 * (f) a script guessing codes from one address is throttled (429) within VERIFY_PER_ADDRESS + 1
 *     checks, and none of its guesses is genuine.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderNoticeText } from '../../src/notify/notice-text.ts';
import { VERIFY_PER_ADDRESS } from '../../src/notify/verify-message.ts';
import { type Exchange, Tally } from '../client.ts';
import type { Delivered } from '../mailbox.ts';
import { notesOf, type ScenarioResult, type StepResult } from '../report.ts';
import type { CastSpec, Scenario, World } from '../scenario.ts';
import { codeOfMessage, forgedCode, linesOf, noticeIn, withOneFieldChanged } from '../steps/genuine.ts';
import { step } from '../steps/stolen-password.ts';

/** T6's own staff account: the recipient of the lock notice T6 provokes when no coded mail arrived before. */
export const T6_RECIPIENT: CastSpec = {
  name: 't6-recipient',
  role: 'partner_counselor',
  organisationKind: 'cap_emploi',
};

/** Where the recipient checks from, and where the phisher's guessing script runs (TEST-NET-2). */
const READER_ADDRESS = '198.51.100.61';
const GUESSER_ADDRESS = '198.51.100.62';
/** Guesses the script sends at most before giving up on a throttle. */
const GUESSES = 3 * VERIFY_PER_ADDRESS;

/** What the phisher's message claims to be (c). */
const CLAIM = { kind: 'incident_notice', channel: 'sms' } as const;

type Answer = Record<string, unknown>;
const answerOf = (exchange: Exchange): Answer =>
  exchange.body !== null && typeof exchange.body === 'object' ? (exchange.body as Answer) : {};

/** The newest delivered message that satisfies `test`. */
function newest<T>(
  messages: Delivered[],
  pick: (message: Delivered) => T | undefined,
): { message: Delivered; value: T } | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const value = pick(messages[i]!);
    if (value !== undefined) return { message: messages[i]!, value };
  }
  return undefined;
}

/** (a): a real coded message from the mailbox, or a lock notice T6 provokes on its own account. */
async function realMessage(
  world: World,
): Promise<{ code: string; message: Delivered; source: string } | undefined> {
  const found = newest(world.mailbox.messages, codeOfMessage);
  if (found)
    return {
      code: found.value,
      message: found.message,
      source: 'the newest coded staff mail in the mailbox',
    };
  const member = world.staff(T6_RECIPIENT.name);
  const before = world.mailbox.to(member.email).length;
  const stranger = world.client('t6-lock', undefined, { address: '198.51.100.60' });
  for (let i = 1; i <= 10; i += 1) {
    await world.clock.advance(300_000); // past each backoff: every attempt counts, the tenth locks
    await stranger.post('/api/v1/auth/login', { login: member.login, password: `not the password ${i}` });
  }
  const lock = await world.mailbox.waitFor(member.email, (m) => codeOfMessage(m) !== undefined, {
    skip: before,
  });
  const code = lock ? codeOfMessage(lock) : undefined;
  return lock && code
    ? { code, message: lock, source: 'the lock notice T6 provoked (ten wrong passwords)' }
    : undefined;
}

/** (d): the newest signed notice delivered in the mailbox, else one the operator signs now. */
async function realNotice(world: World): Promise<{ notice: string; source: 'mailbox' | 'operator' }> {
  const delivered = newest(world.mailbox.messages, (m) => noticeIn(m.text));
  if (delivered) return { notice: delivered.value, source: 'mailbox' };
  const dir = await mkdtemp(path.join(tmpdir(), 'rempart-drill-t6-'));
  try {
    const file = path.join(dir, 'notice.txt');
    await writeFile(
      file,
      renderNoticeText({
        incidentId: 'DRILL-T6',
        fields: ['email', 'phone'],
        // No {code}: signing then needs the keyring only, and on PGlite the server keeps running (a
        // registered code would need the database, that is the server stopped: ~15 s more).
        code: 'aucun (avis d’exercice, drill T6)',
        publicUrl: world.baseUrl,
        detectedAt: world.clock.now(),
      }),
      { mode: 0o600 },
    );
    const signed = await world.operator(['notice', 'sign', file], { database: false });
    if (typeof signed.notice !== 'string') throw new Error('rempart notice sign printed no notice');
    return { notice: signed.notice, source: 'operator' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const t6: Scenario = {
  id: 'T6',
  title: 'phishing that imitates Rempart: forged and reused codes, a forged notice, guessed codes',
  cast: [T6_RECIPIENT],
  async run(world) {
    const started = performance.now();
    const tally = new Tally();
    const reader = world.client('t6-reader', undefined, { address: READER_ADDRESS });
    const steps: StepResult[] = [];
    const remarks: string[] = [];
    const checkCode = (code: string) => reader.post('/api/v1/messages/verify', { code });

    world.progress('T6 (a) a real message and its code');
    const real = await realMessage(world);
    steps.push(
      step(
        '(a)',
        'a real message carries a code',
        real !== undefined,
        real ? `${real.source} carries a code` : 'NO coded message reached the mailbox',
      ),
    );

    world.progress('T6 (b) a forged code');
    const forged = answerOf(await checkCode(forgedCode()));
    const forgedRejected = forged.genuine === false && Object.keys(forged).length === 1;
    steps.push(
      step(
        '(b)',
        'a phishing message with a forged code',
        forgedRejected,
        `the check answered ${JSON.stringify(forged)}`,
      ),
    );

    world.progress('T6 (c) a real code reused in a phishing message');
    const claimedAt = world.clock.now();
    let reusedShown = false;
    let reused: Answer = {};
    if (real) {
      reused = answerOf(await checkCode(real.code));
      const sentAt = typeof reused.sentAt === 'string' ? Date.parse(reused.sentAt) : Number.NaN;
      const plain = JSON.stringify(reused);
      reusedShown =
        reused.genuine === true &&
        reused.kind !== CLAIM.kind &&
        reused.channel !== CLAIM.channel &&
        sentAt < claimedAt.getTime() &&
        Object.keys(reused).sort().join() === 'channel,genuine,kind,sentAt' &&
        !real.message.to.some((address) => plain.includes(address));
    }
    steps.push(
      step(
        '(c)',
        'a real code reused in a phishing message',
        reusedShown,
        real
          ? `claimed: ${CLAIM.kind} by ${CLAIM.channel} at ${claimedAt.toISOString()}; the check shows ` +
              `${String(reused.kind)} by ${String(reused.channel)} at ${String(reused.sentAt)}` +
              (reusedShown ? ': what it really is, nothing personal' : ': NOT told apart from the claim')
          : 'no real code to reuse',
      ),
    );

    world.progress('T6 (d) a real signed notice');
    const { notice, source } = await realNotice(world);
    const published = answerOf(await reader.get('/api/v1/notices/keys'));
    const names = Array.isArray(published.keys)
      ? (published.keys as { name?: unknown }[]).map((k) => String(k.name))
      : [];
    const checked = answerOf(await reader.post('/api/v1/notices/verify', { lines: linesOf(notice) }));
    const noticeGenuine = checked.genuine === true && names.includes(String(checked.signedBy));
    steps.push(
      step(
        '(d)',
        'a real signed notice',
        noticeGenuine,
        `a notice ${source === 'mailbox' ? 'delivered in the mailbox' : 'signed by the operator with the server’s notice key (none was delivered)'}: ` +
          `genuine ${String(checked.genuine)}, signed by ${String(checked.signedBy)} (${names.length} published keys)` +
          (checked.kind ? `, ${String(checked.kind)} of ${String(checked.sentAt)}` : ''),
      ),
    );

    world.progress('T6 (e) the notice with one field changed');
    const altered = answerOf(
      await reader.post('/api/v1/notices/verify', { lines: linesOf(withOneFieldChanged(notice)) }),
    );
    const alteredRejected = altered.genuine === false;
    steps.push(
      step(
        '(e)',
        'the notice with one field changed',
        alteredRejected,
        `the check answered genuine ${String(altered.genuine)}`,
      ),
    );

    world.progress('T6 (f) a script guessing codes');
    const guesser = world.client('t6-guesser', tally, { address: GUESSER_ADDRESS });
    let guessesToThrottle: number | null = null;
    let genuineGuesses = 0;
    for (let i = 1; i <= GUESSES; i += 1) {
      const answer = await guesser.post('/api/v1/messages/verify', { code: forgedCode() });
      if (answer.status === 429) {
        guessesToThrottle = i;
        break;
      }
      if (answerOf(answer).genuine === true) genuineGuesses += 1;
    }
    const throttled =
      guessesToThrottle !== null && guessesToThrottle <= VERIFY_PER_ADDRESS + 1 && genuineGuesses === 0;
    steps.push(
      step(
        '(f)',
        'guessing codes',
        throttled,
        guessesToThrottle === null
          ? `NOT throttled in ${GUESSES} guesses`
          : `throttled (429) at guess ${guessesToThrottle}; ${genuineGuesses} genuine guesses`,
      ),
    );
    remarks.push(
      `the notice checked came from ${source === 'mailbox' ? 'the mailbox' : 'rempart notice sign (fallback)'}`,
    );

    const result: ScenarioResult = {
      id: 'T6',
      title: t6.title,
      passed: steps.every((s) => s.skipped || s.passed),
      recordsExposed: 0,
      outsideCaseload: 0,
      beyondBaseline: null,
      requestsToFirstResponse: guessesToThrottle,
      requestsToSuspension: null,
      suspended: false,
      requests: tally.requests,
      steps,
      remarks,
      seconds: (performance.now() - started) / 1000,
      figures: {
        forgedCodeRejected: forgedRejected,
        reusedCodeShownAsIs: reusedShown,
        noticeGenuine,
        noticeSource: source,
        alteredNoticeRejected: alteredRejected,
        guessesToThrottle,
      },
    };
    world.progress(`T6 ${result.passed ? 'passed' : 'FAILED'}: ${notesOf(result).slice(0, 200)}…`);
    return result;
  },
};
