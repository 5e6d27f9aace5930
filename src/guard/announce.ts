/**
 * Announcing what the guard did (docs/DESIGN.md section 6, docs/GUARD.md):
 *
 * - a suspension: the security officers and the suspended account's organisation managers get an
 *   in-app notice and an email naming the account and the signals (never a person); an escalated
 *   suspension (one that follows a step-up the owner gave for the same limit this week) says so;
 * - an organisation's rise (an org_* signal answered, by a step-up or a suspension of an account
 *   driving it): the organisation's managers and the security officers are told once per
 *   organisation and local day — the organisation's code, the signal, the day's figures and how
 *   many accounts drew a response for it, never an account's login nor a person.
 *
 * Runs after the transaction that raised the alert has committed; the alert itself is already in
 * the review queue. The notices and their mails are written in one transaction; the mails go
 * through the outbox (notify/outbox.ts), sent after the answer and retried if the mail server fails.
 */
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { ACCOUNT_COLUMNS, type AccountRow, toAccount } from '../identity/accounts.ts';
import { recordEvent } from '../identity/events.ts';
import { queueNotice } from '../identity/notices.ts';
import type { RaisedAlert } from './guard.ts';
import { ORG_SPAN_DAYS, type OrgDay, orgUsual } from './organisation.ts';

/** The security event that records an organisation notice (one per organisation and local day). */
export const ORGANISATION_ANNOUNCED = 'guard.organisation_announced';

/** The organisation signals in words, French then English (for the notices). */
const ORG_SIGNAL_WORDS: Record<string, { fr: string; en: string }> = {
  org_beyond_usual: {
    fr: 'personnes consultées aujourd’hui au-delà de sa journée habituelle',
    en: 'persons read today beyond its usual day',
  },
  org_beyond_usual_week: {
    fr: 'personnes consultées cette semaine au-delà de ses journées habituelles',
    en: 'persons read this week beyond its usual days',
  },
  org_beyond_kind: {
    fr: 'personnes consultées aujourd’hui au-delà des organisations de son type',
    en: 'persons read today beyond organisations of its kind',
  },
  org_empty_searches_week: {
    fr: 'recherches sans résultat cette semaine au-delà de l’habitude',
    en: 'searches that found nobody this week beyond its usual',
  },
  org_refused_week: {
    fr: 'demandes refusées cette semaine au-delà de l’habitude',
    en: 'requests refused this week beyond its usual',
  },
  org_caseload_week: {
    fr: 'personnes de son portefeuille consultées cette semaine au-delà de la part habituelle',
    en: 'persons of its caseload read this week beyond its usual share',
  },
};

/** The review queue's address in the console (or its API route without a public address). */
const reviewLink = (publicUrl: string | undefined): string =>
  publicUrl ? `${publicUrl.replace(/\/+$/, '')}/securite/revue` : 'GET /api/v1/guard/alerts';

/**
 * Tells the security officers and the account's organisation managers of a suspension, and of an
 * organisation's rise (announceOrganisation). `publicUrl`: the console's address, for the link to
 * the review queue.
 */
export async function announceAlert(
  db: Db,
  alert: RaisedAlert,
  now: Date,
  publicUrl?: string,
): Promise<void> {
  const organisational = alert.signals.some(
    (s) => s.name.startsWith('org_') && (s.response === 'step_up' || s.response === 'suspend'),
  );
  if (alert.response !== 'suspend' && !organisational) return;
  const actor = systemCtx('guard').actor;
  await db.tx(actor, async (tx) => {
    if (organisational) await announceOrganisation(tx, alert, now, publicUrl);
    if (alert.response === 'suspend') await announceSuspension(tx, alert, now, publicUrl);
  });
}

/** The accounts told of `organisationId`'s matters: its managers and the security officers, but not `except` (the account answered). */
async function recipients(tx: Tx, organisationId: string, except: string) {
  const rows = await tx.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS}
     FROM accounts a JOIN organisations o ON o.id = a.organisation_id
     WHERE a.status IN ('active', 'probation') AND a.id <> $1
       AND (a.role = 'security_officer' OR (a.role = 'org_manager' AND a.organisation_id = $2))`,
    [except, organisationId],
  );
  return rows.map(toAccount);
}

async function announceSuspension(
  tx: Tx,
  alert: RaisedAlert,
  now: Date,
  publicUrl: string | undefined,
): Promise<void> {
  const [suspended] = await tx.query<{ login: string }>('SELECT login FROM accounts WHERE id = $1', [
    alert.accountId,
  ]);
  const login = suspended?.login ?? alert.accountId;
  const signals = alert.signals
    .map((s) => `${s.name} (${s.value}, limit ${s.limit}${s.escalated ? ', escalated' : ''})`)
    .join(', ');
  const escalated = alert.signals.some((s) => s.escalated === true);
  for (const account of await recipients(tx, alert.organisationId, alert.accountId)) {
    await queueNotice(tx, account, now, {
      kind: 'guard.suspension',
      subject: 'Rempart : compte suspendu par la surveillance / account suspended by the guard',
      text:
        `Le compte ${login} a été suspendu par la surveillance de Rempart.\n` +
        `The account ${login} was suspended by Rempart's guard.\n\n` +
        (escalated
          ? 'Suspension après une vérification (second facteur) déjà demandée pour la même limite cette semaine.\n' +
            'Suspended after an earlier step-up for the same limit this week.\n\n'
          : '') +
        `Signaux / signals: ${signals}\n` +
        `Alerte / alert: ${alert.id}\n\n` +
        `Examinez-la dans la file de revue (${reviewLink(publicUrl)}) : réintégrer ou confirmer la compromission.\n` +
        'Review it in the queue: reinstate the account, or confirm a compromise to open an incident.',
    });
  }
}

/**
 * The organisation notice, at most once per organisation and local day: under a transaction-scoped
 * lock on the organisation, a security event (ORGANISATION_ANNOUNCED, with the day) says whether it
 * was sent already; if not, it is recorded and the notices queued in the same transaction.
 */
async function announceOrganisation(
  tx: Tx,
  alert: RaisedAlert,
  now: Date,
  publicUrl: string | undefined,
): Promise<void> {
  // Two driving accounts answered at the same moment announce one after the other.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1)::bigint)', [
    `guard.organisation:${alert.organisationId}`,
  ]);
  const [org] = await tx.query<{ code: string; day: string; since: Date }>(
    `SELECT o.code, (coalesce(g.raised_at, $3) AT TIME ZONE o.time_zone)::date::text AS day,
       coalesce(g.raised_at, $3) - interval '2 days' AS since
     FROM organisations o LEFT JOIN guard_alerts g ON g.id = $2
     WHERE o.id = $1`,
    [alert.organisationId, alert.id, now],
  );
  if (!org) return;
  const done = await tx.query(
    `SELECT 1 FROM security_events
     WHERE action = $1 AND organisation_id = $2 AND at >= $3 AND details->>'day' = $4 LIMIT 1`,
    [ORGANISATION_ANNOUNCED, alert.organisationId, org.since, org.day],
  );
  if (done.length > 0) return;

  const [today] = await tx.query<{ persons: number; empty: number; refused: number; accounts: number }>(
    `SELECT persons, empty, refused, accounts FROM guard_organisation_day_totals
     WHERE organisation_id = $1 AND day = $2::date`,
    [alert.organisationId, org.day],
  );
  const history = await tx.query<OrgDay>(
    `SELECT h.day, h.persons, h.by_hour AS "byHour", h.empty, h.refused, h.alerted
     FROM rempart_guard_org_history($1, $2::date, $3) h`,
    [alert.organisationId, org.day, ORG_SPAN_DAYS],
  );
  const usual = orgUsual(history, org.day);
  // The accounts that drew a response for an organisation signal that day (this one included).
  const [answered] = await tx.query<{ n: number }>(
    `SELECT count(DISTINCT g.account_id)::int AS n
     FROM guard_alerts g JOIN organisations o ON o.id = g.organisation_id
     WHERE g.organisation_id = $1 AND (g.raised_at AT TIME ZONE o.time_zone)::date = $2::date
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(g.signals) s WHERE s->>'name' LIKE 'org\\_%')`,
    [alert.organisationId, org.day],
  );
  const drivers = Math.max(1, answered?.n ?? 0);
  const signals = alert.signals.filter((s) => s.name.startsWith('org_'));
  await recordEvent(tx, {
    at: now,
    action: ORGANISATION_ANNOUNCED,
    organisationId: alert.organisationId,
    details: { day: org.day, alertId: alert.id, signals: signals.map((s) => s.name) },
  });

  const usualDay = usual ? String(Math.round(usual.byHour[23]!)) : '—';
  const lines = signals.map((s) => {
    const words = ORG_SIGNAL_WORDS[s.name];
    return `- ${s.name} (${s.value}, limit ${s.limit})${words ? ` : ${words.fr} / ${words.en}` : ''}`;
  });
  const figures = today ?? { persons: 0, empty: 0, refused: 0, accounts: 0 };
  const text =
    `Les lectures de l’organisation ${org.code} dépassent son habitude (jour : ${org.day}) : la surveillance de Rempart a répondu.\n` +
    `Organisation ${org.code} is reading beyond its usual (day: ${org.day}): Rempart's guard responded.\n\n` +
    `Signaux / signals:\n${lines.join('\n')}\n\n` +
    `Personnes consultées / persons read: ${figures.persons} (habituel / usual: ${usualDay})\n` +
    `Recherches sans résultat / searches that found nobody: ${figures.empty}\n` +
    `Demandes refusées / requests refused: ${figures.refused}\n` +
    `Comptes actifs / active accounts: ${figures.accounts}\n` +
    `Comptes qui portent la hausse (ayant reçu une réponse) / accounts driving it (answered): ${drivers}\n\n` +
    `File de revue / review queue: ${reviewLink(publicUrl)}\n` +
    'Les responsables de la sécurité examinent les comptes concernés ; prévenez-les si la hausse est attendue (campagne).\n' +
    'The security officers review the accounts concerned; tell them if the rise is expected (a campaign).';
  for (const account of await recipients(tx, alert.organisationId, alert.accountId)) {
    await queueNotice(tx, account, now, {
      kind: 'guard.organisation',
      subject: `Rempart : hausse des lectures de l’organisation ${org.code} / organisation reading beyond its usual`,
      text,
    });
  }
}
