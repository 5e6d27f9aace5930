/**
 * T7's second half (issue 12, "Done means"; docs/DESIGN.md section 2, T7; GDPR art. 34): after T2
 * and T5, the security officer opens the incidents from their alerts in the review queue (one per
 * compromised account: confirming a compromise scopes the alert's account over a window), the
 * operator runs `rempart notify send --incident ID`, and the drill compares the notices the persons
 * got (steps/notices.ts) with what the attackers received (drill/breaches.ts), person for person and
 * field for field.
 *
 * The window of each incident is the attack's, from the script's first move to its last answer (a
 * second either side: drill/steps/theft.ts).
 * The owner of the stolen account works in that window, in the very session the attacker copied
 * (T2: from the same machine): the audit log cannot tell their reads apart, so the incident holds
 * both. The comparison is therefore made twice: with what left through the account in the window
 * (the attacker's answers and the owner's: `notifiedExact`), and with the attackers' answers alone,
 * whose difference is the persons only the owner read (`ownerOnly`). No person the attackers
 * received may lack a notice, and no notice may name a field they did not receive or miss one.
 */
import { FIELD_NAMES_FR } from '../../src/notify/notice-text.ts';
import { type BreachRecord, lowerIds } from '../breaches.ts';
import type { StepResult } from '../report.ts';
import type { World } from '../scenario.ts';
import { compareScope, type ScopeComparison, type ScopePerson } from '../scope-compare.ts';
import { WATCHER } from '../world.ts';
import {
  publishedNoticeKeys,
  type ReceivedNotice,
  receivedNotices,
  type SendReport,
  sendReportOf,
} from './notices.ts';
import { step } from './stolen-password.ts';

/** T7's notice figures. */
export interface NoticeFigures {
  /** Distinct persons notified (all incidents). */
  notified: number;
  /** Every incident's notices equal what left through its account in the attack's window. */
  notifiedExact: boolean;
  /** Every incident's notices equal the attackers' answers alone. */
  attackersExact: boolean;
  /** Persons notified whom only the owner read in the window (not the attacker). */
  ownerOnly: number;
  /** Persons an attacker received who got no notice. */
  missingNotices: number;
  notices: number;
  /** Notices whose signature (email) or code (letter, SMS) checked genuine. */
  genuine: number;
  incidents: number;
}

/** The fields a notice can name (the identity fields); others the gate returns are not in notices. */
const NAMEABLE = new Set(Object.keys(FIELD_NAMES_FR));

function nameable(received: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [id, fields] of received) {
    const kept = [...fields].filter((f) => NAMEABLE.has(f));
    if (kept.length > 0) out.set(id, new Set(kept));
  }
  return out;
}

function union(
  a: ReadonlyMap<string, ReadonlySet<string>>,
  b: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, Set<string>> {
  const out = lowerIds(a);
  for (const [id, fields] of lowerIds(b)) out.set(id, new Set([...(out.get(id) ?? []), ...fields]));
  return out;
}

/** The security officer confirms the compromise of each attacked account over its attack's window. */
async function openIncidents(
  world: World,
  records: readonly BreachRecord[],
): Promise<{ incidents: Map<string, BreachRecord>; notes: string[] }> {
  const officer = world.client('security officer (review queue)');
  await world.signIn(officer, world.staff(WATCHER.name));
  const open = await officer.get('/api/v1/guard/alerts?status=open');
  const alerts = (open.body as { alerts?: { id: string; accountId: string }[] } | undefined)?.alerts ?? [];
  const incidents = new Map<string, BreachRecord>();
  const notes: string[] = [];
  for (const record of records) {
    const alert = alerts.find((a) => a.accountId === record.victim.id);
    if (!alert || !record.from) {
      notes.push(
        `${record.scenario}: ${alert ? 'the attack never started' : 'no open alert on the account'}`,
      );
      continue;
    }
    const confirmed = await officer.post(`/api/v1/guard/alerts/${alert.id}/confirm`, {
      note: `${record.scenario}: stolen session confirmed by the drill's security officer`,
      from: record.from.toISOString(),
      to: record.to.toISOString(),
    });
    const body = confirmed.body as { incidentId?: string; personCount?: number } | undefined;
    if (confirmed.status !== 200 || !body?.incidentId) {
      notes.push(
        `${record.scenario}: confirming the alert answered ${confirmed.status} ${confirmed.code ?? ''}`,
      );
      continue;
    }
    incidents.set(body.incidentId, record);
    notes.push(`${record.scenario}: incident of ${body.personCount ?? '?'} persons`);
  }
  await officer.post('/api/v1/auth/logout', {}).catch(() => undefined);
  return { incidents, notes };
}

/** The notices of one incident as a scope (SMS: the fields of the comparison's yardstick, unchecked). */
function noticeScope(
  notices: readonly ReceivedNotice[],
  yardstick: ReadonlyMap<string, ReadonlySet<string>>,
): ScopePerson[] {
  return notices.map((n) => ({
    personId: n.personId ?? `unknown recipient ${n.code}`,
    fields: n.fields ?? [...(yardstick.get(n.personId ?? '') ?? [])],
  }));
}

function describe(c: ScopeComparison): string {
  return (
    `${c.personsInScope} notified, ${c.personsReceived} expected: ${c.missing.length} without a notice, ` +
    `${c.extra.length} notified but not expected, ${c.fieldMismatches.length} with other fields`
  );
}

/** Runs T7's notice steps (c)–(f) over the records of T2's and T5's attacks (both expected). */
export async function noticeSteps(
  world: World,
  records: readonly BreachRecord[],
): Promise<{ steps: StepResult[]; remarks: string[]; figures: NoticeFigures }> {
  const steps: StepResult[] = [];
  const remarks: string[] = [];

  world.progress('T7 (c) the security officer opens the incidents from the alerts of T2 and T5');
  const { incidents, notes } = await openIncidents(world, records);
  steps.push(
    step(
      '(c)',
      'incidents opened from the review queue',
      records.length === 2 && incidents.size === records.length,
      `POST /api/v1/guard/alerts/{id}/confirm over each attack's window: ${notes.join('; ')}`,
    ),
  );

  world.progress('T7 (d) rempart notify send for each incident');
  const reports: SendReport[] = [];
  for (const id of incidents.keys())
    reports.push(sendReportOf(await world.operator(['notify', 'send', '--incident', id])));
  const failed = reports.reduce((n, r) => n + r.failed, 0);
  const channels = new Map<string, number>();
  for (const r of reports)
    for (const [c, n] of Object.entries(r.delivered)) channels.set(c, (channels.get(c) ?? 0) + n);
  steps.push(
    step(
      '(d)',
      'the notices sent',
      reports.length === incidents.size && failed === 0,
      `rempart notify send --incident: ${reports.map((r) => r.notices).join(' + ')} notices, delivered ` +
        `${[...channels].map(([c, n]) => `${c} ${n}`).join(', ')}; ${failed} failed`,
    ),
  );

  world.progress('T7 (e) the notices as the persons got them');
  const keys = await publishedNoticeKeys(world);
  // The mail server has the messages once the job reported them sent; give the last a moment.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const received = await receivedNotices(
    world,
    new Set(incidents.keys()),
    reports,
    records.map((r) => r.notes.contacts),
    keys,
  );
  const genuine = received.filter((n) => n.genuine).length;
  const unmatched = received.filter((n) => n.personId === null).length;
  const byChannel = (c: string): number => received.filter((n) => n.channel === c).length;
  steps.push(
    step(
      '(e)',
      'every notice genuine',
      genuine === received.length && unmatched === 0 && received.length > 0,
      `${byChannel('email')} emails (signature checked against ${keys.length} published notice keys), ` +
        `${byChannel('letter')} letters and ${byChannel('sms')} SMS (code checked): ${genuine} of ${received.length} ` +
        `genuine; ${unmatched} to an address no person of the caseloads has` +
        (keys.length === 0 ? '; GET /api/v1/notices/keys published no key' : ''),
    ),
  );

  world.progress('T7 (f) the notices against what the attackers received');
  let notifiedExact = records.length === 2 && incidents.size === records.length;
  let attackersExact = notifiedExact;
  let ownerOnly = 0;
  let missingNotices = 0;
  const lines: string[] = [];
  for (const [id, record] of incidents) {
    const attackers = nameable(record.attacker);
    const window = nameable(union(record.attacker, record.owner));
    const own = received.filter((n) => n.incidentId === id);
    const all = compareScope(noticeScope(own, window), window);
    const alone = compareScope(noticeScope(own, attackers), attackers);
    notifiedExact &&= all.scopeExact;
    attackersExact &&= alone.scopeExact;
    ownerOnly += [...window.keys()].filter((p) => !attackers.has(p)).length;
    missingNotices += alone.missing.length;
    lines.push(
      `${record.scenario}: against the account's window ${describe(all)}; against the attacker alone ${describe(alone)}`,
    );
  }
  const notified = new Set(received.flatMap((n) => (n.personId ? [n.personId] : []))).size;
  steps.push(
    step(
      '(f)',
      'person for person, field for field',
      notifiedExact && missingNotices === 0,
      `${lines.join('; ')}` + (notifiedExact ? ': the notices are exact' : ': the notices are NOT exact'),
    ),
  );
  remarks.push(
    `the incidents' windows hold the owners' own reads in the stolen sessions (the audit log cannot tell them ` +
      `from the attacker's): ${ownerOnly} persons notified whom only an owner read`,
  );
  if (received.some((n) => n.channel === 'sms')) {
    remarks.push('an SMS names no field (it points to the portal): its person is compared, not its fields');
  }
  return {
    steps,
    remarks,
    figures: {
      notified,
      notifiedExact: notifiedExact && genuine === received.length && unmatched === 0,
      attackersExact,
      ownerOnly,
      missingNotices,
      notices: received.length,
      genuine,
      incidents: incidents.size,
    },
  };
}
