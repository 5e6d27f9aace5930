/**
 * One honest owner's working day, as a list of timed actions (the traffic model of issue 5, item 6):
 * a personal mean of distinct persons a day (drill/honest-plan.ts), lighter and heavier days
 * (log-normal, never a burst of hundreds), now and then a day away; a start between 08:30 and 09:30,
 * a morning peak from 9 to 11, a lunch dip, an end around 17:30 and, rarely, work until 19:30.
 * Each person of the day is read by id, some after a search by agency id, some read again later;
 * a mistyped search now and then; for counselors, a national search with its justification on
 * about one day in three. Pure: the same owner, day and seed give the same day.
 */
import type { ElsewhereIdentity, HonestAccountPlan, WorkItem } from './honest-plan.ts';
import type { Random } from './random.ts';

/** One thing the owner does, at a minute of the day (minutes since midnight, Paris time). */
export type HonestAction =
  | { minute: number; kind: 'login' }
  | { minute: number; kind: 'view'; item: WorkItem }
  | { minute: number; kind: 'lookup'; item: WorkItem }
  | { minute: number; kind: 'typo'; item: WorkItem }
  | { minute: number; kind: 'national'; identity: ElsewhereIdentity }
  | { minute: number; kind: 'logout' };

/** The model's rates, each with the reason for its value. */
export const DAY_MODEL = {
  /** A day away (leave, training, sickness): about one working day in twenty. */
  absence: 0.05,
  /** Day-to-day spread of the volume: log-normal σ, clipped to [0.4, 1.8] × the personal mean. */
  spread: 0.3,
  spreadRange: [0.4, 1.8],
  /** Start uniformly 08:30–09:30; end around 17:30 (σ 15 min, 16:40–18:15); 3 % of days until 18:30–19:30. */
  start: [8 * 60 + 30, 9 * 60 + 30],
  end: { mean: 17 * 60 + 30, sd: 15, range: [16 * 60 + 40, 18 * 60 + 15] },
  late: { chance: 0.03, range: [18 * 60 + 30, 19 * 60 + 30] },
  /** A person found by agency id first rather than opened from the worklist. */
  lookup: 0.3,
  /** A person read again later the same day. */
  revisit: 0.15,
  /** A mistyped (empty) search on a day. */
  typo: 0.2,
  /** A national search (counselors): about one day in three. */
  national: 1 / 3,
  /** Logging out at the end of the day (the others just close the browser). */
  logout: 0.5,
} as const;

/**
 * The organisation's day (issue 13: a busy honest day must not trip the organisation's signals):
 * every account of an organisation shares a day factor, log-normal σ 0.1 (a quieter or busier day
 * for the whole team: a meeting, a backlog), and about one working day in thirty is a campaign — a
 * mailing answered, a new caseload, an information session — when everyone reads 1.3 to 1.5 times
 * their usual. The account's own day-to-day spread (DAY_MODEL.spread) comes on top.
 */
export const ORGANISATION_DAY = { spread: 0.1, campaign: 1 / 30, campaignFactor: [1.3, 1.5] } as const;

/** An organisation's factor for one day, from that organisation's and day's draw. */
export function organisationFactor(random: Random): number {
  const o = ORGANISATION_DAY;
  const factor = Math.exp(random.normal(0, o.spread));
  return random.chance(o.campaign)
    ? factor * random.uniform(o.campaignFactor[0], o.campaignFactor[1])
    : factor;
}

/** Relative activity by minute of day: a morning peak, a lunch dip, a quieter late afternoon. */
export function activity(minute: number): number {
  if (minute < 9 * 60) return 0.6;
  if (minute < 11 * 60) return 1.6;
  if (minute < 12 * 60) return 1.0;
  if (minute < 13 * 60 + 30) return 0.15;
  if (minute < 16 * 60) return 1.0;
  if (minute < 17 * 60 + 30) return 0.8;
  return 0.5;
}

const clamp = (value: number, low: number, high: number): number => Math.max(low, Math.min(high, value));

/**
 * The owner's actions of one working day, in time order (login first); empty on a day away.
 * `organisationDay` is the day's factor of the owner's organisation (organisationFactor; 1 alone).
 */
export function planDay(account: HonestAccountPlan, random: Random, organisationDay = 1): HonestAction[] {
  const m = DAY_MODEL;
  if (random.chance(m.absence) || account.worklist.length === 0) return [];
  const start = random.int(m.start[0], m.start[1]);
  const end = random.chance(m.late.chance)
    ? random.int(m.late.range[0], m.late.range[1])
    : clamp(Math.round(random.normal(m.end.mean, m.end.sd)), m.end.range[0], m.end.range[1]);
  const factor = clamp(Math.exp(random.normal(0, m.spread)), m.spreadRange[0], m.spreadRange[1]);
  const count = clamp(Math.round(account.dailyMean * organisationDay * factor), 1, account.worklist.length);
  // Minutes after the login, weighted by the activity profile.
  const minutes = Array.from({ length: end - start }, (_, i) => start + 1 + i);
  const weights = minutes.map(activity);
  const at = (): number => minutes[random.weighted(weights)]!;
  const laterThan = (minute: number): number => {
    const rest = minutes.filter((x) => x > minute);
    return rest.length === 0 ? minute : rest[random.weighted(rest.map(activity))]!;
  };

  const actions: HonestAction[] = [{ minute: start, kind: 'login' }];
  for (const item of random.sample(account.worklist, count)) {
    const minute = at();
    actions.push({ minute, kind: random.chance(m.lookup) ? 'lookup' : 'view', item });
    if (random.chance(m.revisit)) actions.push({ minute: laterThan(minute), kind: 'view', item });
  }
  if (random.chance(m.typo))
    actions.push({ minute: at(), kind: 'typo', item: random.pick(account.worklist) });
  if (account.role === 'counselor' && account.elsewhere.length > 0 && random.chance(m.national)) {
    actions.push({ minute: at(), kind: 'national', identity: random.pick(account.elsewhere) });
  }
  if (random.chance(m.logout)) actions.push({ minute: end, kind: 'logout' });
  // Stable order: by minute, the login first and the logout last within a minute.
  const rank = (a: HonestAction): number => (a.kind === 'login' ? 0 : a.kind === 'logout' ? 2 : 1);
  return actions
    .map((action, i) => ({ action, i }))
    .sort((a, b) => a.action.minute - b.action.minute || rank(a.action) - rank(b.action) || a.i - b.i)
    .map(({ action }) => action);
}

/** A plausible national-read justification (15–500 characters), varied by the draw. */
export function justification(random: Random): string {
  return random.pick([
    'Personne reçue en agence après un déménagement, dossier encore rattaché à son ancienne agence.',
    'Demande de la personne au téléphone : vérification de son inscription avant un rendez-vous.',
    'Appel d’un partenaire pour un accompagnement commun, personne suivie dans une autre agence.',
    'Courrier reçu à l’agence pour une personne inscrite ailleurs : vérification avant réorientation.',
    'Rendez-vous de suivi : la personne signale un transfert de dossier en cours depuis une autre agence.',
  ]);
}

/** An agency id as someone mistyping it would: one character changed. */
export function mistyped(agencyId: string, random: Random): string {
  if (agencyId.length === 0) return '0000000X';
  const i = random.int(0, agencyId.length - 1);
  const ch = agencyId[i]!;
  const replacement = /\d/.test(ch) ? String((Number(ch) + random.int(1, 9)) % 10) : ch === 'Z' ? 'A' : 'Z';
  return agencyId.slice(0, i) + replacement + agencyId.slice(i + 1);
}
